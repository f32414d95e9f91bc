"""SERVQUAL gap analysis (Parasuraman, Zeithaml & Berry 1988).

Service quality as the gap between what customers perceive and what they
expect, ``gap = P - E``, per item, per dimension and overall, with paired
t-tests and Wilcoxon signed-rank tests of P against E, effect sizes,
multiplicity corrections across items, the unweighted SERVQUAL score and
the importance-weighted score from a 100-point allocation across
dimensions (Zeithaml, Parasuraman & Berry 1990).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .common import InsufficientData, Methods, paired_blocks, require_n, row_means
from .io import check_columns

__all__ = ["ServqualResult", "servqual", "gap_scores", "paired_gap_test", "signed_rank_test",
           "ZERO_METHODS"]

#: zero-difference treatments of the Wilcoxon signed-rank test that we allow
ZERO_METHODS = ("pratt", "wilcox")
_REFERENCE = ("Parasuraman, A., Zeithaml, V. A., & Berry, L. L. (1988). SERVQUAL: a multiple-item "
              "scale for measuring consumer perceptions of service quality. Journal of Retailing, "
              "64(1), 12-40; weights: Zeithaml, V. A., Parasuraman, A., & Berry, L. L. (1990). "
              "Delivering Quality Service. Free Press")

_TEST_COLUMNS = ["n", "mean_E", "mean_P", "mean_gap", "sd_gap", "se_gap", "ci_low", "ci_high",
                 "t", "df", "p_t", "d_z", "W", "p_wilcoxon", "wilcoxon_method", "zero_method",
                 "n_zero", "r_rb", "share_negative", "note"]


def paired_gap_test(expectation, perception, *, zero_method: str = "pratt",
                    confidence: float = 0.95) -> dict:
    """Describe and test the gap ``P - E`` of paired answers.

    .. math::

        \\bar d = \\tfrac1n \\sum (P_i - E_i), \\quad
        t = \\frac{\\bar d}{s_d/\\sqrt n}\\ (df = n-1), \\quad
        \\bar d \\pm t_{1-\\alpha/2,\\,n-1}\\, s_d/\\sqrt n, \\quad
        d_z = \\bar d / s_d, \\quad
        r_{rb} = \\frac{R^+ - R^-}{R^+ + R^-}

    Parameters
    ----------
    expectation, perception : array-like
        Paired answers; pairs with a missing value on either side are dropped.
    zero_method : {"pratt", "wilcox"}
        Treatment of zero differences in the Wilcoxon signed-rank test
        (``scipy.stats.wilcoxon``): "pratt" ranks zeros with the rest and
        then drops their ranks (Pratt 1959), "wilcox" drops zeros before
        ranking. Likert gaps have many zeros; Pratt's variant keeps the
        information that many respondents rate P = E.
    confidence : float
        Level of the t confidence interval of the mean gap.

    Returns
    -------
    dict
        ``n, mean_E, mean_P, mean_gap, sd_gap, se_gap, ci_low, ci_high, t, df,
        p_t, d_z, W, p_wilcoxon, wilcoxon_method, zero_method, n_zero, r_rb,
        share_negative, note``. The Wilcoxon p uses the exact distribution
        when there are no zeros, no tied ranks and at most 50 pairs, the
        normal approximation (with tie correction, no continuity
        correction) otherwise; ``wilcoxon_method`` says which. ``r_rb`` is
        Kerby's (2014) matched-pairs rank-biserial correlation on the
        non-zero differences. When every gap is equal the tests are
        undefined: their cells are NaN and ``note`` says why.

    References
    ----------
    Student's paired t-test; Cohen, J. (1988). *Statistical Power Analysis
    for the Behavioral Sciences* (d_z); Wilcoxon, F. (1945). *Biometrics
    Bulletin*, 1(6), 80-83; Pratt, J. W. (1959). *JASA*, 54, 655-667;
    Kerby, D. S. (2014). The simple difference formula. *Comprehensive
    Psychology*, 3, 11.IT.3.1.

    Examples
    --------
    >>> res = paired_gap_test([5, 6, 7, 6, 5], [4, 6, 5, 5, 3])
    >>> round(res["mean_gap"], 2), round(res["t"], 3), res["n_zero"]
    (-1.2, -3.207, 1)
    """
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    e = np.asarray(expectation, dtype="float64")
    p = np.asarray(perception, dtype="float64")
    if e.shape != p.shape:
        raise ValueError("expectation and perception must have the same length")
    ok = np.isfinite(e) & np.isfinite(p)
    e, p = e[ok], p[ok]
    n = int(e.size)
    require_n("paired gap test (pairs with both E and P)", n, 2)
    d = p - e
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    se = sd / np.sqrt(n)
    out = {"n": n, "mean_E": float(e.mean()), "mean_P": float(p.mean()), "mean_gap": mean,
           "sd_gap": sd, "se_gap": se, "df": n - 1, "zero_method": zero_method,
           "n_zero": int((d == 0).sum()), "share_negative": float((d < 0).mean()), "note": ""}
    if sd == 0:
        nonzero = d[d != 0]
        out.update(ci_low=mean, ci_high=mean, t=np.nan, p_t=np.nan, d_z=np.nan, W=np.nan,
                   p_wilcoxon=np.nan, wilcoxon_method="", r_rb=np.nan if nonzero.size == 0
                   else float(np.sign(nonzero[0])),
                   note="every gap is equal: t and Wilcoxon tests undefined")
        return out
    tcrit = stats.t.ppf(0.5 + confidence / 2, n - 1)
    t = mean / se
    out.update(ci_low=mean - tcrit * se, ci_high=mean + tcrit * se, t=float(t),
               p_t=float(2 * stats.t.sf(abs(t), n - 1)), d_z=mean / sd)
    ranked = signed_rank_test(d, zero_method)
    out["r_rb"] = ranked["r_rb"]
    method = "exact" if (out["n_zero"] == 0 and not ranked["has_ties"] and n <= 50) else "approx"
    if method == "exact":
        res = stats.wilcoxon(d, zero_method=zero_method, correction=False, method=method)
        out.update(W=float(res.statistic), p_wilcoxon=float(res.pvalue), wilcoxon_method=method)
    else:
        out.update(W=ranked["W"], p_wilcoxon=ranked["p"], wilcoxon_method=method)
    return out


def signed_rank_test(d: np.ndarray, zero_method: str = "pratt") -> dict:
    r"""Wilcoxon's signed-rank test of differences ``d`` (normal approximation with
    tie correction, no continuity correction, two-sided), from the value counts of ``|d|``.

    Tied absolute differences share their mid-rank, so the rank sums need
    only how many positive and negative differences each distinct ``|d|``
    has: the distinct values are found by hashing (``pandas.factorize``,
    linear time) instead of ranking every difference by sorting, as
    ``scipy.stats.wilcoxon`` does. On Likert gaps (a dozen distinct values)
    a million pairs cost a few hash passes. The formulas are scipy's
    (``method="approx"``, ``correction=False``):

    .. math::

        z = \frac{R^+ - \mu}{\sigma},\quad
        \mu = \tfrac{n(n+1)}{4} - \tfrac{n_0(n_0+1)}{4},\quad
        \sigma^2 = \tfrac{1}{24}\Big(n(n+1)(2n+1) - n_0(n_0+1)(2n_0+1)
                    - \tfrac12 \sum_g (t_g^3 - t_g)\Big)

    with ``n_0`` the zero differences under Pratt's treatment (ranked, then
    their ranks dropped; Cureton 1967) and ``n_0 = 0`` under Wilcoxon's
    (dropped before ranking), ``t_g`` the sizes of the groups of tied
    non-zero ``|d|``. ``W = min(R+, R-)`` as scipy reports it; ``r_rb`` is
    Kerby's (2014) rank-biserial correlation on the non-zero differences
    ranked among themselves.

    Returns
    -------
    dict
        ``W, p, z, r_rb, has_ties`` (``has_ties``: some non-zero ``|d|`` repeat).

    Examples
    --------
    >>> from scipy import stats
    >>> d = np.array([-2.0, -1, 0, 0, 1, -1, -3, 2, -1, 0, -2])
    >>> mine = signed_rank_test(d, "pratt")
    >>> ref = stats.wilcoxon(d, zero_method="pratt", correction=False, method="approx")
    >>> bool(np.isclose(mine["W"], ref.statistic)), bool(np.isclose(mine["p"], ref.pvalue))
    (True, True)
    """
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    d = np.asarray(d, dtype="float64")
    size, positive, negative, levels = _absolute_value_counts(d)
    n_zero = float(len(d) - positive.sum() - negative.sum())
    nonzero_size = np.where(levels == 0, 0.0, size)
    # Mid-ranks among all |d| (zeros are the smallest, ranked first), then among the non-zero ones.
    midrank_all = np.cumsum(size) - (size - 1) / 2
    midrank_nonzero = midrank_all - n_zero
    rank_plus, rank_minus = positive @ midrank_nonzero, negative @ midrank_nonzero
    r_rb = float((rank_plus - rank_minus) / (rank_plus + rank_minus)) if rank_plus + rank_minus else np.nan
    if zero_method == "pratt":
        count, dropped = float(len(d)), n_zero
        r_plus, r_minus = positive @ midrank_all, negative @ midrank_all
    else:
        count, dropped = float(len(d)) - n_zero, 0.0
        r_plus, r_minus = rank_plus, rank_minus
    mean = count * (count + 1.0) * 0.25 - dropped * (dropped + 1.0) * 0.25
    variance = (count * (count + 1.0) * (2.0 * count + 1.0)
                - dropped * (dropped + 1.0) * (2.0 * dropped + 1.0)
                - (nonzero_size ** 3 - nonzero_size).sum() / 2) / 24
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (r_plus - mean) / np.sqrt(variance)
    return {"W": float(min(r_plus, r_minus)), "p": float(2 * stats.norm.sf(abs(z))), "z": float(z),
            "r_rb": r_rb, "has_ties": bool((nonzero_size > 1).any())}


def _absolute_value_counts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How many differences of each distinct ``|d|`` there are (as float), how many of them
    are positive and negative, and the distinct ``|d|`` in ascending order.

    Item gaps of rating scales are small whole numbers: they are counted directly
    (``numpy.bincount`` of the integers, no hashing); other differences (dimension
    means, fractions) are coded by ``pandas.factorize``. Both give the same counts.
    """
    magnitude = np.abs(d)
    whole = magnitude.astype(np.int64) if len(d) and magnitude.max() < 2 ** 20 else None
    if whole is not None and np.array_equal(whole, magnitude):
        counts = np.bincount(whole)
        levels = np.flatnonzero(counts)
        return (counts[levels].astype("float64"),
                np.bincount(whole[d > 0], minlength=len(counts))[levels],
                np.bincount(whole[d < 0], minlength=len(counts))[levels],
                levels.astype("float64"))
    codes, levels = pd.factorize(magnitude, sort=True)
    return (np.bincount(codes, minlength=len(levels)).astype("float64"),
            np.bincount(codes[d > 0], minlength=len(levels)),
            np.bincount(codes[d < 0], minlength=len(levels)), levels)


def gap_scores(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]],
               id_col: str = "response_id") -> pd.DataFrame:
    """Per respondent gap ``P - E`` for every item (``NaN`` if either is missing).

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": [1, 2], "A_E": [6.0, 5], "A_P": [5.0, None]})
    >>> gap_scores(f, {"A": ("A_E", "A_P")}).to_dict("list")
    {'response_id': [1, 2], 'A': [-1.0, nan]}
    """
    _check_pairs(frame, pairs)
    out = pd.DataFrame({i: frame[p].astype("float64") - frame[e].astype("float64")
                        for i, (e, p) in pairs.items()}, index=frame.index)
    ids = frame[id_col] if id_col in frame.columns else pd.Series(frame.index, index=frame.index)
    out.insert(0, "response_id", ids.to_numpy())
    return out.reset_index(drop=True)


def _check_pairs(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]]) -> None:
    if not pairs:
        raise ValueError("pairs is empty: give {item: (expectation column, perception column)}")
    check_columns(frame, [c for ep in pairs.values() for c in ep], "SERVQUAL")
    for item, cols in pairs.items():
        for c in cols:
            if not pd.api.types.is_numeric_dtype(frame[c]):
                raise ValueError(f"SERVQUAL: column {c} (item {item}) is not numeric")


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values, in the order given.

    With ``p_(1) <= ... <= p_(m)`` sorted, ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``:
    what ``statsmodels.stats.multitest.multipletests(method="holm")`` returns
    (tests/analysis/test_servqual.py compares them). Written out because
    statsmodels' Holm branch runs a full ``gc.collect()`` on every call, a
    quarter of a second each with a large survey's frames in memory.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03, 0.005])).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p_values = np.asarray(p_values, dtype="float64")
    if np.isnan(p_values).any():
        raise ValueError("Holm correction: p-values must not be missing")
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.minimum(np.maximum.accumulate(p_values[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _correct(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """Add Holm and Benjamini-Hochberg adjusted p-values, in place; returns ``table``."""
    for col, short in (("p_t", "p_t"), ("p_wilcoxon", "p_w")):
        adj_h = np.full(len(table), np.nan)
        adj_b = np.full(len(table), np.nan)
        ok = table[col].notna().to_numpy()
        if ok.any():
            adj_h[ok] = holm(table.loc[ok, col].to_numpy(dtype="float64"))
            adj_b[ok] = multipletests(table.loc[ok, col], method="fdr_bh")[1]
        table[f"{short}_holm"] = adj_h
        table[f"{short}_bh"] = adj_b
    table["correction_family"] = family
    return table


@dataclass
class ServqualResult:
    """Everything a SERVQUAL report needs.

    Attributes
    ----------
    items : one row per item: ``item, dimension`` and the columns of
        :func:`paired_gap_test`, plus ``p_t_holm, p_t_bh, p_w_holm, p_w_bh``
        (Holm / Benjamini-Hochberg across items).
    dimensions : one row per dimension, tests on respondents' dimension
        means (corrections across dimensions).
    overall : one row, tests on respondents' overall means (mean of their
        dimension means).
    scores : ``score, value, n, definition`` rows for the unweighted and (if
        weights were given) importance-weighted SERVQUAL score.
    respondents : ``response_id``, one gap column per dimension,
        ``unweighted``, and ``weighted`` when weights were given.
    weights : mean normalized weight per dimension (``None`` without weights).
    methods : how it was made.
    skipped : ``{part: reason}`` of the parts the data were too few for
        (``dimensions``, ``overall``, ``weighted``); such a part's table is
        empty (``weights`` ``None``) and the others are computed as usual.
    """

    items: pd.DataFrame
    dimensions: pd.DataFrame
    overall: pd.DataFrame
    scores: pd.DataFrame
    respondents: pd.DataFrame
    weights: pd.DataFrame | None
    methods: Methods
    skipped: dict[str, str] = field(default_factory=dict)


def _tested_units(units: dict[str, dict], E: pd.DataFrame, P: pd.DataFrame, level: str,
                  counted: str, *, notes: list[str], min_n: int, zero_method: str,
                  confidence: float) -> pd.DataFrame:
    """:func:`paired_gap_test` for each unit (item or dimension) with at least
    ``min_n`` complete pairs; sparser units are named in ``notes``."""
    rows, sparse = [], []
    for unit, label in units.items():
        n_unit = int((~np.isnan(E[unit].to_numpy()) & ~np.isnan(P[unit].to_numpy())).sum())
        if n_unit < min_n:
            sparse.append(f"{unit} (n={n_unit})")
            continue
        rows.append({**label, **paired_gap_test(E[unit], P[unit], zero_method=zero_method,
                                                confidence=confidence)})
    if sparse:
        notes.append(f"{level} with fewer than {min_n} {counted} not tested: {', '.join(sparse)}")
    if not rows:
        raise InsufficientData(f"SERVQUAL (every {level[:-1]})", 0, min_n)
    return pd.DataFrame(rows, columns=list(next(iter(units.values()))) + _TEST_COLUMNS)


def servqual(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]],
             dimensions: Mapping[str, Sequence[str]], *,
             weights: Mapping[str, str] | None = None, missing_weights: str = "exclude",
             zero_method: str = "pratt", confidence: float = 0.95,
             min_item_share: float = 1.0, id_col: str = "response_id",
             min_n: int = 3, weight_total: float = 100.0) -> ServqualResult:
    """SERVQUAL gaps, tests and scores.

    .. math::

        G_{ij} = P_{ij} - E_{ij}, \\quad
        G_{id} = \\bar P_{id} - \\bar E_{id}, \\quad
        \\text{SQ} = \\tfrac{1}{D}\\sum_d \\bar G_{\\cdot d}, \\quad
        \\text{SQ}_w = \\tfrac1n \\sum_i \\sum_d w_{id} G_{id},\\
        w_{id} = a_{id} / \\sum_d a_{id}

    where :math:`a_{id}` are respondent *i*'s importance points for
    dimension *d* (a 100-point allocation).

    Parameters
    ----------
    frame : DataFrame
        The response frame.
    pairs : dict
        ``{item: (E column, P column)}``.
    dimensions : dict
        ``{dimension: [items]}``; every item must belong to exactly one.
    weights : dict, optional
        ``{dimension: column of importance points}``, e.g.
        ``{"tangibles": "SQW_TAN", ...}``; must cover every dimension.
    missing_weights : {"exclude", "sample_mean"}
        Respondents without a usable allocation (a missing entry or a zero
        total) are left out of the weighted score ("exclude", default) or
        given the mean normalized weights of the other respondents
        ("sample_mean"). Either way the count is in ``methods.notes``.
    zero_method : {"pratt", "wilcox"}
        Zero-difference treatment of the Wilcoxon test (see
        :func:`paired_gap_test`); also reported in every table.
    confidence : float
        Confidence level of the t intervals.
    min_item_share : float, default 1.0
        Share of a dimension's items a respondent must have answered (both E
        and P) to get a dimension mean; 1.0 = all of them.
    min_n : int, default 3
        Fewest pairs an item or dimension needs to be tested; sparser ones
        are left out and named in the notes. When no item can be tested
        :class:`InsufficientData` is raised; when only a later part (the
        dimensions, the overall score, the weighted score) lacks cases, that
        part is empty and its reason is in ``skipped``.
    weight_total : float
        The allocation total (100); rows summing otherwise are normalized
        all the same and counted in the notes.

    Notes
    -----
    Missing values: items pairwise (a respondent-item enters when E and P
    are both answered); dimension means need ``min_item_share`` of the
    dimension's items; the overall score needs every dimension. The
    unweighted score is the mean of the dimension gap means, each over its
    own respondents (Parasuraman et al. 1988: average the dimension
    scores); ``overall`` tests respondents' own averages, which coincide
    with it when nothing is missing. Holm and Benjamini-Hochberg
    adjustments run across items and, separately, across dimensions.

    References
    ----------
    Parasuraman, A., Zeithaml, V. A., & Berry, L. L. (1988). SERVQUAL.
    *Journal of Retailing*, 64(1), 12-40. Zeithaml, V. A., Parasuraman, A.,
    & Berry, L. L. (1990). *Delivering Quality Service*. Free Press
    (importance weights). Holm, S. (1979). *Scand. J. Statist.*, 6, 65-70.
    Benjamini, Y., & Hochberg, Y. (1995). *JRSS B*, 57, 289-300.

    Examples
    --------
    >>> f = pd.DataFrame({"A_E": [6, 7, 6, 5.0], "A_P": [5, 5, 6, 4.0],
    ...                   "B_E": [7, 6, 7, 6.0], "B_P": [6, 6, 5, 6.0]})
    >>> res = servqual(f, {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}, {"core": ["A", "B"]})
    >>> res.scores[["score", "value", "n"]].to_dict("records")
    [{'score': 'unweighted', 'value': -0.875, 'n': 4}]
    """
    _check_servqual_arguments(frame, pairs, dimensions, missing_weights, zero_method,
                              min_item_share, min_n)
    dim_of = {i: d for d, items in dimensions.items() for i in items}
    ids = frame[id_col] if id_col in frame.columns else pd.Series(frame.index, index=frame.index)
    E, P, complete = paired_blocks(frame, pairs)
    notes: list[str] = [f"Wilcoxon zero differences: zero_method='{zero_method}'",
                        "effect sizes: Cohen's d_z = mean gap / SD of gaps (paired t); "
                        "matched-pairs rank-biserial r (Kerby 2014) on non-zero gaps (Wilcoxon)"]
    skipped: dict[str, str] = {}
    test = {"notes": notes, "min_n": min_n, "zero_method": zero_method, "confidence": confidence}

    # 1. items: without a single testable item there is no SERVQUAL result at all.
    items_table = _tested_units(
        {item: {"item": item, "dimension": dim_of[item]} for item in pairs}, E, P,
        "items", "answered pairs", **test)
    _correct(items_table, "items")

    # 2. dimensions: respondents' dimension means, tested per dimension.
    dim_E, dim_P = _dimension_means(E, P, complete, dimensions, min_item_share)
    del E, P  # the item matrices are done with (a third of a GB at a million respondents)
    dim_G = dim_P - dim_E
    dims_table = _optional(skipped, "dimensions", lambda: _correct(_tested_units(
        {dim: {"dimension": dim, "n_items": len(dimensions[dim])} for dim in dimensions},
        dim_E, dim_P, "dimensions", "respondents", **test), "dimensions"),
        empty=["dimension", "n_items"] + _TEST_COLUMNS)

    # 3. overall: respondents with every dimension; the unweighted score.
    full = dim_G.notna().all(axis=1)
    respondents = dim_G.copy()
    overall = _optional(skipped, "overall", lambda: _overall_test(dim_E, dim_P, full, **test),
                        empty=["level", "n_dimensions"] + _TEST_COLUMNS)
    score_rows = []
    if len(overall) and len(dims_table) == len(dimensions):
        respondents["unweighted"] = dim_P[full].mean(axis=1) - dim_E[full].mean(axis=1)
        score_rows.append({"score": "unweighted", "value": float(dims_table["mean_gap"].mean()),
                           "n": int(full.sum()),
                           "definition": "mean over dimensions of the dimension mean gap P - E"})

    # 4. the importance-weighted score, when an allocation was asked.
    weights_table = None
    if weights is not None:
        A = _allocation(frame, weights, dimensions)
        weighted = _optional(skipped, "weighted", lambda: _weighted_score(
            A, dim_G, full, missing_weights, weight_total, **test))
        if weighted is not None and len(overall):
            respondents["weighted"], score_row, weights_table = weighted
            score_rows.append(score_row)
    respondents.insert(0, "response_id", ids.to_numpy())
    respondents = respondents[dim_G.notna().any(axis=1).to_numpy()].reset_index(drop=True)
    for part, reason in skipped.items():
        notes.append(f"{part} not computed: {reason}")
    return ServqualResult(items=items_table, dimensions=dims_table, overall=overall,
                          scores=pd.DataFrame(score_rows, columns=["score", "value", "n", "definition"]),
                          respondents=respondents, weights=weights_table,
                          methods=_servqual_methods(frame, complete, min_item_share, confidence,
                                                    zero_method, notes),
                          skipped=skipped)


def _check_servqual_arguments(frame, pairs, dimensions, missing_weights, zero_method,
                              min_item_share, min_n) -> None:
    """Reject a call whose mapping or options are wrong (a programming error, not missing data)."""
    _check_pairs(frame, pairs)
    if not dimensions:
        raise ValueError("SERVQUAL: dimensions is empty: give {dimension: [items]}")
    if missing_weights not in ("exclude", "sample_mean"):
        raise ValueError(f"missing_weights must be 'exclude' or 'sample_mean', got {missing_weights!r}")
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    if not 0 < min_item_share <= 1:
        raise ValueError(f"min_item_share must be in (0, 1], got {min_item_share!r}")
    if min_n < 2:
        raise ValueError("min_n must be at least 2 (a standard deviation needs two cases)")
    listed = [i for items in dimensions.values() for i in items]
    unknown = sorted(set(listed) - set(pairs))
    if unknown:
        raise ValueError(f"SERVQUAL: dimension item(s) not in pairs: {', '.join(unknown)}")
    twice = sorted({i for i in listed if listed.count(i) > 1})
    if twice:
        raise ValueError(f"SERVQUAL: item(s) in more than one dimension: {', '.join(twice)}")
    orphan = sorted(set(pairs) - set(listed))
    if orphan:
        raise ValueError(f"SERVQUAL: item(s) in no dimension: {', '.join(orphan)}")


def _optional(skipped: dict[str, str], part: str, compute, empty: list[str] | None = None):
    """``compute()``, or (when the data are too few) the reason in ``skipped[part]``
    and an empty table with columns ``empty`` (``None`` without columns)."""
    try:
        return compute()
    except InsufficientData as error:
        skipped[part] = str(error)
        return None if empty is None else pd.DataFrame(columns=empty)


def _dimension_means(E: pd.DataFrame, P: pd.DataFrame, complete: pd.DataFrame,
                     dimensions: Mapping[str, Sequence[str]],
                     min_item_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each respondent's mean E and mean P per dimension, when they answered
    ``min_item_share`` of the dimension's items (NaN otherwise)."""
    dim_E, dim_P = {}, {}
    # Row means on the float matrices (sum of the answered items / their count, as
    # DataFrame.mean(axis=1) computes them) without a frame per dimension and facet.
    e_all, p_all, answered_all = E.to_numpy(), P.to_numpy(), complete.to_numpy()
    for dim, its in dimensions.items():
        cols = E.columns.get_indexer(list(its))
        answered = answered_all[:, cols].sum(axis=1)
        enough = (answered / len(cols) >= min_item_share - 1e-12) & (answered > 0)
        for out, matrix in ((dim_E, e_all), (dim_P, p_all)):
            # E and P are missing together, so a row's answered cells are its answered pairs
            out[dim] = np.where(enough, row_means(matrix[:, cols]), np.nan)
    return pd.DataFrame(dim_E, index=E.index), pd.DataFrame(dim_P, index=E.index)


def _overall_test(dim_E: pd.DataFrame, dim_P: pd.DataFrame, full: pd.Series, *, notes, min_n,
                  zero_method, confidence) -> pd.DataFrame:
    """The gap test on respondents' overall means (mean of their dimension means)."""
    require_n("SERVQUAL overall score (respondents with every dimension answered)",
              int(full.sum()), min_n)
    return pd.DataFrame([{"level": "overall", "n_dimensions": dim_E.shape[1],
                          **paired_gap_test(dim_E[full].mean(axis=1), dim_P[full].mean(axis=1),
                                            zero_method=zero_method, confidence=confidence)}])


def _allocation(frame: pd.DataFrame, weights: Mapping[str, str],
                dimensions: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """The importance points ``{dimension: column}`` as a frame, checked."""
    missing_dims = sorted(set(dimensions) - set(weights))
    extra = sorted(set(weights) - set(dimensions))
    if missing_dims or extra:
        raise ValueError("SERVQUAL weights must name exactly the dimensions; "
                         f"missing: {missing_dims or 'none'}, unknown: {extra or 'none'}")
    check_columns(frame, list(weights.values()), "SERVQUAL weights")
    A = pd.DataFrame({d: frame[c].astype("float64") for d, c in weights.items()}, index=frame.index)
    if (A < 0).to_numpy().any():
        raise ValueError("SERVQUAL weights: importance points cannot be negative")
    return A


def _weighted_score(A: pd.DataFrame, dim_G: pd.DataFrame, full: pd.Series, missing_weights: str,
                    weight_total: float, *, notes, min_n, zero_method, confidence):
    """Respondents' importance-weighted gaps, the score row and the mean weights."""
    n_dims = A.shape[1]
    total = A.sum(axis=1, min_count=n_dims)
    usable = A.notna().all(axis=1) & (total > 0)
    W = A[usable].div(total[usable], axis=0)
    n_off = int((usable & ((total - weight_total).abs() > 1e-9)).sum())
    n_unusable = int((~usable).sum())
    require_n("SERVQUAL importance weights (respondents with a usable allocation)", int(usable.sum()), 1)
    mean_w = W.mean()
    if n_off:
        notes.append(f"{n_off} allocation(s) not summing to {weight_total:g}: normalized to sum 1")
    if missing_weights == "sample_mean":
        W = W.reindex(A.index)
        W.loc[~usable, :] = mean_w.to_numpy()
        if n_unusable:
            notes.append(f"{n_unusable} respondent(s) without a usable allocation given the sample "
                         "mean weights")
    elif n_unusable:
        notes.append(f"{n_unusable} respondent(s) without a usable allocation left out of the "
                     "weighted score")
    weighted = (dim_G[full] * W.reindex(dim_G.index)[full]).sum(axis=1, min_count=n_dims)
    require_n("SERVQUAL weighted score (respondents with weights and every dimension)",
              int(weighted.notna().sum()), min_n)
    row = {"score": "weighted", "value": float(weighted.mean()), "n": int(weighted.notna().sum()),
           "definition": "mean over respondents of sum_d w_d * gap_d, w = own "
                         "importance points / their total"}
    table = pd.DataFrame({"dimension": list(mean_w.index), "mean_weight": mean_w.to_numpy(),
                          "n": int(usable.sum())})
    return weighted, row, table


def _servqual_methods(frame: pd.DataFrame, complete: pd.DataFrame, min_item_share: float,
                      confidence: float, zero_method: str, notes: list[str]) -> Methods:
    answered = int(complete.any(axis=1).sum())
    return Methods(
        analysis="SERVQUAL gap analysis",
        n_used=answered,
        n_excluded=int(len(frame) - answered),
        missing=(f"pairwise per item; dimension means need {min_item_share:.0%} of the dimension's "
                 "items answered; overall score needs every dimension"),
        formula="gap = P - E; dimension gap = mean P - mean E of the dimension's items; "
                "SERVQUAL score = mean of dimension gap means; weighted score = sum of "
                "normalized importance weights x dimension gaps, averaged over respondents",
        test=(f"paired t-test with {confidence:.0%} t CI; Wilcoxon signed-rank "
              f"(zero_method={zero_method}); Holm and Benjamini-Hochberg across items and across "
              "dimensions"),
        reference=_REFERENCE,
        notes=notes,
    )
