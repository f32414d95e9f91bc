"""Satisfaction as the ratio of perception to expectation (seed 004).

"满意度 = 感受值 / 盼望值": satisfaction = perceived value / expected value.
A ratio above 1 means the customer got more than expected (delighted),
1 means expectations were met, below 1 disappointed. The difference form
P - E (the SERVQUAL gap) is reported alongside because it is defined on
any interval scale, while the ratio needs a ratio scale with a true zero
and E > 0.

Which aggregate is the headline
-------------------------------
A ratio can be averaged in two ways that differ (Jensen's inequality: the
mean of ratios is pulled up by small expectations):

* **ratio of means** ``mean(P) / mean(E)`` — the headline everywhere. It is
  stable when a few respondents give very low expectations, and it is > 1
  exactly when the mean gap ``mean(P - E)`` is > 0, so the ratio and
  difference forms never tell opposite stories about the same cases.
* **mean of individual ratios** ``mean(P_i / E_i)`` — reported as
  ``mean_ratio`` for readers who want "the average customer's ratio".

At item level the "individual" is the respondent's item ratio. At
dimension and survey level each respondent first gets one ratio
(``sum P / sum E`` over their answered pairs in scope, i.e. their own ratio
of means), so every respondent weighs the same however many items they
answered; ``ratio_of_means`` there is the mean of respondents' mean P over
the mean of respondents' mean E.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import InsufficientData, Methods, require_n, paired_blocks
from .io import check_columns

__all__ = ["SatisfactionResult", "satisfaction_ratio", "item_ratios", "classify_ratio"]

DELIGHTED, MET, DISAPPOINTED, UNDEFINED = "delighted", "met", "disappointed", "undefined"
_REFERENCE = ("Seed 004 (customer relationship management course answer: 满意度 = 感受值 / 盼望值); "
              "difference form after Parasuraman, Zeithaml & Berry (1988), Journal of Retailing 64(1)")


@dataclass
class SatisfactionResult:
    """Satisfaction ratios at four levels.

    Attributes
    ----------
    items : one row per item: ``item, dimension, n, n_undefined, mean_E, mean_P,
        ratio_of_means, mean_ratio, mean_diff, class, share_delighted, share_met,
        share_disappointed``.
    dimensions : one row per dimension, same columns (``n`` = respondents).
    respondents : one row per respondent with at least one answered pair:
        ``response_id, n_pairs, n_undefined, mean_E, mean_P, ratio, mean_ratio,
        mean_diff, class, reason`` (``reason`` says why a ratio is undefined).
    survey : one row: the survey-level aggregates.
    methods : how it was made.
    """

    items: pd.DataFrame
    dimensions: pd.DataFrame
    respondents: pd.DataFrame
    survey: pd.DataFrame
    methods: Methods


def classify_ratio(ratio, tolerance: float = 0.0) -> pd.Series:
    """Label ratios "delighted" (> 1), "met" (= 1) or "disappointed" (< 1).

    Parameters
    ----------
    ratio : array-like of float
        Satisfaction ratios P / E. ``NaN`` (undefined ratio) gives "undefined".
    tolerance : float, default 0
        Ratios with ``|ratio - 1| <= tolerance`` count as "met". With the
        default 0 only an exact 1 is "met"; on a 7-point scale a tolerance
        such as 0.05 treats "6.9 of 7 expected" as met.

    Examples
    --------
    >>> classify_ratio([1.2, 1.0, 0.8, float("nan")]).tolist()
    ['delighted', 'met', 'disappointed', 'undefined']
    """
    if not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    r = pd.Series(ratio, dtype="float64") if not isinstance(ratio, pd.Series) else ratio.astype("float64")
    bands = _ratio_bands(r.to_numpy(), tolerance)
    # One shared string object per class (what pandas stores for np.select's text
    # array, which would first be built as fixed-width text and then a new string
    # object per respondent). Later assignments win, as np.select's first match.
    labels = np.full(len(r), DISAPPOINTED, dtype=object)
    labels[bands[DELIGHTED]] = DELIGHTED
    labels[bands[MET]] = MET
    labels[r.isna().to_numpy()] = UNDEFINED
    return pd.Series(labels, index=r.index, name="class")


def _ratio_bands(values: np.ndarray, tolerance: float) -> dict[str, np.ndarray]:
    """Boolean masks of the delighted / met / disappointed bands (NaN in none)."""
    # a tiny slack so 1.1/1.0 style rounding does not move a ratio across the band edge
    met = np.abs(values - 1.0) <= tolerance + 1e-12
    return {DELIGHTED: (values > 1.0) & ~met, MET: met, DISAPPOINTED: (values < 1.0) & ~met}


def _validated(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]]) -> None:
    if not pairs:
        raise ValueError("pairs is empty: give {item: (expectation column, perception column)}")
    cols = [c for ep in pairs.values() for c in ep]
    check_columns(frame, cols, "satisfaction ratio")
    for item, (e, p) in pairs.items():
        for c in (e, p):
            if not pd.api.types.is_numeric_dtype(frame[c]):
                raise ValueError(f"satisfaction ratio: column {c} (item {item}) is not numeric")
            if (frame[c] < 0).any():
                raise ValueError(f"satisfaction ratio: column {c} (item {item}) has negative values; "
                                 "the ratio P / E needs a scale with a true zero (recode e.g. -3..+3 to 1..7)")


def item_ratios(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Per respondent and item ratio ``P / E``, undefined where ``E == 0``.

    Returns a frame indexed like ``frame`` with one column per item. A
    respondent-item is ``NaN`` when E or P is missing or when E is 0 (the
    ratio is undefined; it is never computed as a division, so no ``inf``).

    Examples
    --------
    >>> f = pd.DataFrame({"A_E": [4.0, 0.0], "A_P": [5.0, 3.0]})
    >>> item_ratios(f, {"A": ("A_E", "A_P")})["A"].tolist()
    [1.25, nan]
    """
    _validated(frame, pairs)
    # One matrix filled a row per item, whose transpose is the block pandas keeps: a
    # dict of columns would be copied once more into that block.
    ratios = np.full((len(pairs), len(frame)), np.nan)
    for r, (e, p) in zip(ratios, pairs.values()):
        _pair_ratios(frame[e].to_numpy(dtype="float64"), frame[p].to_numpy(dtype="float64"), out=r)
    return pd.DataFrame(ratios.T, index=frame.index, columns=list(pairs), copy=False)


def _pair_ratios(e: np.ndarray, p: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """P / E of each respondent, NaN where either is missing or E is not positive
    (``out``, when given, is NaN already and is written in place)."""
    if out is None:
        out = np.full(len(e), np.nan)
    np.divide(p, e, out=out, where=np.isfinite(e) & np.isfinite(p) & (e > 0))
    return out


def _summary(mean_e: pd.Series, mean_p: pd.Series, ratios: pd.Series, diffs: pd.Series,
             tolerance: float) -> dict:
    """Aggregate one unit (item or dimension) from its per-respondent values."""
    n = int(mean_e.notna().sum())
    me, mp = float(mean_e.mean()), float(mean_p.mean())
    ratio_of_means = mp / me if me > 0 else np.nan
    defined = ratios.dropna()
    # Shares counted on the numbers: string labels for every respondent cost
    # seconds on large surveys.
    values = defined.to_numpy(dtype=float)
    shares = {k: float(mask.mean()) if len(values) else np.nan
              for k, mask in _ratio_bands(values, tolerance).items()}
    return {
        "n": n, "n_undefined": n - int(defined.size), "mean_E": me, "mean_P": mp,
        "ratio_of_means": ratio_of_means, "mean_ratio": float(defined.mean()) if len(defined) else np.nan,
        "mean_diff": float(diffs.mean()),
        "class": classify_ratio([ratio_of_means], tolerance).iloc[0],
        "share_delighted": shares[DELIGHTED], "share_met": shares[MET],
        "share_disappointed": shares[DISAPPOINTED],
    }


def satisfaction_ratio(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]],
                       dimensions: Mapping[str, Sequence[str]] | None = None, *,
                       tolerance: float = 0.0, id_col: str = "response_id",
                       min_n: int = 2) -> SatisfactionResult:
    """Satisfaction ratio P / E per item, dimension, respondent and survey.

    .. math::

        S_{ij} = P_{ij} / E_{ij}, \\qquad
        S_i = \\sum_j P_{ij} / \\sum_j E_{ij}, \\qquad
        S = \\bar{P} / \\bar{E}\\ (\\text{headline}), \\qquad
        \\bar{S} = \\tfrac{1}{n}\\sum_i S_i

    with the difference form :math:`D = \\bar{P} - \\bar{E}` alongside.
    Class: delighted if :math:`S > 1 + \\text{tol}`, met if
    :math:`|S - 1| \\le \\text{tol}`, disappointed otherwise.

    Parameters
    ----------
    frame : DataFrame
        The response frame.
    pairs : dict
        ``{item: (expectation column, perception column)}``.
    dimensions : dict, optional
        ``{dimension: [items]}``; items not listed get dimension ``None``.
        Without it the dimension table is empty.
    tolerance : float, default 0
        Band around 1 classed as "met" (see :func:`classify_ratio`).
    id_col : str
        Respondent id column; the frame index is used when absent.
    min_n : int, default 2
        Fewest respondents with an answered pair an item or dimension needs
        to get a row; sparser ones are left out and named in
        ``methods.notes``. Fewer than ``min_n`` respondents overall raises
        :class:`InsufficientData`.

    Notes
    -----
    Missing values: pairwise per item — a respondent-item enters when both
    E and P are present. ``E == 0`` makes that respondent-item's ratio
    undefined (counted in ``n_undefined``, excluded from ``mean_ratio``)
    while it still enters the means of E and P, so ``ratio_of_means`` stays
    defined whenever the mean expectation is positive. Negative values are
    rejected: a ratio needs a scale with a true zero. The headline is the
    ratio of means (module docstring explains why).

    References
    ----------
    Seed 004 formula 满意度 = 感受值 / 盼望值 (satisfaction = perceived value /
    expected value); difference form P - E after Parasuraman, A., Zeithaml,
    V. A., & Berry, L. L. (1988). SERVQUAL. *Journal of Retailing*, 64(1), 12-40.

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": [1, 2, 3], "A_E": [5.0, 6, 4], "A_P": [6.0, 6, 3]})
    >>> res = satisfaction_ratio(f, {"A": ("A_E", "A_P")})
    >>> res.items[["item", "ratio_of_means", "class"]].round(3).to_dict("records")
    [{'item': 'A', 'ratio_of_means': 1.0, 'class': 'met'}]
    """
    dim_of = _checked_dimensions(frame, pairs, dimensions, min_n)
    dimensions = dict(dimensions or {})
    ids = frame[id_col] if id_col in frame.columns else pd.Series(frame.index, index=frame.index)
    blocks = _RatioBlocks.of(frame, pairs)
    answered = blocks.complete.any(axis=1)
    require_n("satisfaction ratio (respondents with at least one answered E/P pair)",
              int(answered.sum()), min_n)
    notes: list[str] = []

    # 1. items, 2. dimensions (respondents' own ratios), 3. respondents, 4. survey
    items_table = _item_table(blocks, pairs, dim_of, tolerance, min_n, notes)
    dims_table = _dimension_table(blocks, dimensions, tolerance, min_n, notes)
    everyone = blocks.respondent_level(list(pairs))
    survey_row = {"level": "survey", "n_items": len(pairs), **_aggregate(everyone, tolerance)}
    n_undef_pairs = int(everyone["n_undefined"].sum())
    if n_undef_pairs:
        notes.append(f"{n_undef_pairs} respondent-item pair(s) with expectation 0: ratio undefined, "
                     "left out of mean_ratio, kept in the means of E and P")
    notes.append("headline = ratio of means (mean P / mean E); mean_ratio = mean of individual ratios; "
                 "dimension and survey levels average respondents' own ratios")
    notes.append(f"class: delighted > 1, met within ±{tolerance:g} of 1, disappointed < 1")
    return SatisfactionResult(
        items=items_table,
        dimensions=dims_table,
        respondents=_respondent_table(everyone, ids, tolerance),
        survey=pd.DataFrame([survey_row]),
        methods=_ratio_methods(frame, answered, notes),
    )


def _checked_dimensions(frame, pairs, dimensions, min_n) -> dict[str, str]:
    """``{item: dimension}`` after checking the arguments (programming errors raise ValueError)."""
    _validated(frame, pairs)
    if min_n < 1:
        raise ValueError("min_n must be at least 1")
    dimensions = dict(dimensions or {})
    unknown = sorted({i for items in dimensions.values() for i in items} - set(pairs))
    if unknown:
        raise ValueError(f"satisfaction ratio: dimension item(s) not in pairs: {', '.join(unknown)}")
    return {i: d for d, items in dimensions.items() for i in items}


@dataclass
class _RatioBlocks:
    """Respondent x item matrices: E, P (NaN unless both answered) and which pairs are answered.

    Neither the ratio P / E nor the difference P - E is kept as a matrix (176 MB
    each at a million respondents and 22 items): the ratio is computed a column
    at a time (:meth:`ratio`, the division of :func:`item_ratios`), the
    difference per item or from the row sums of P and E.
    """

    E: pd.DataFrame
    P: pd.DataFrame
    complete: pd.DataFrame

    @classmethod
    def of(cls, frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]]) -> "_RatioBlocks":
        return cls(*paired_blocks(frame, pairs))

    def ratio(self, position: int) -> np.ndarray:
        """Item ``position``'s ratios P / E, NaN where the pair is not answered or E is 0
        (:func:`item_ratios` on the item's columns: E and P hold the answers where both are)."""
        return _pair_ratios(self.E.to_numpy()[:, position], self.P.to_numpy()[:, position])

    def respondent_level(self, items: Sequence[str]) -> pd.DataFrame:
        """Each respondent's pairs, means, own ratio sum P / sum E and mean ratio over ``items``.

        Row sums over the answered cells (``sum(where=answered)``, which adds the
        same cells in the same order as ``numpy.nansum`` without its zero-filled
        copy of the matrix); the mean difference is (sum P - sum E) / k, the
        same sums, since E and P are missing together. The ratios are added a
        column at a time, in item order, as the row sum of a ratio matrix adds them.
        """
        positions = self.E.columns.get_indexer(list(items))
        cols = slice(None) if np.array_equal(positions, np.arange(self.E.shape[1])) else positions
        c = self.complete.to_numpy()[:, cols]
        e, p = self.E.to_numpy()[:, cols], self.P.to_numpy()[:, cols]
        k = c.sum(axis=1)
        sum_r, n_ratios = np.zeros(len(k)), np.zeros(len(k), dtype=np.int64)
        n_undefined = np.zeros(len(k), dtype=np.int64)
        for j, position in enumerate(positions):
            r = self.ratio(position)
            defined = ~np.isnan(r)
            np.add(sum_r, r, out=sum_r, where=defined)
            n_ratios += defined
            n_undefined += c[:, j] & ~defined
        with np.errstate(invalid="ignore", divide="ignore"):
            sum_p = p.sum(axis=1, where=c)
            sum_e = np.where(k > 0, e.sum(axis=1, where=c), np.nan)
            ok = (k > 0) & (sum_e > 0)
            ratio = np.full(len(k), np.nan)
            np.divide(sum_p, sum_e, out=ratio, where=ok)
            mean_ratio = np.where(n_ratios > 0, sum_r / n_ratios, np.nan)
            mean_e, mean_p = sum_e / k, np.where(k > 0, sum_p / k, np.nan)
            mean_diff = (sum_p - sum_e) / k
        return pd.DataFrame({"n_pairs": k, "mean_E": mean_e, "mean_P": mean_p, "ratio": ratio,
                             "mean_ratio": mean_ratio, "n_undefined": n_undefined,
                             "mean_diff": mean_diff}, index=self.E.index)


def _aggregate(level: pd.DataFrame, tolerance: float) -> dict:
    """A unit's summary from its respondents' own means and ratios."""
    lv = level[level["n_pairs"] > 0]
    return _summary(lv["mean_E"], lv["mean_P"], lv["ratio"], lv["mean_diff"], tolerance)


def _item_table(blocks: _RatioBlocks, pairs, dim_of, tolerance, min_n, notes) -> pd.DataFrame:
    rows, sparse = [], []
    for item in pairs:
        ok = blocks.complete[item].to_numpy()
        if ok.sum() < min_n:
            sparse.append(f"{item} (n={int(ok.sum())})")
            continue
        # The item's column, then its answered rows (DataFrame.loc[rows, item]
        # would filter the rows of every item's column first).
        r = blocks.ratio(blocks.E.columns.get_loc(item))[ok]
        e, p = (matrix[item].to_numpy()[ok] for matrix in (blocks.E, blocks.P))
        answered = [pd.Series(e), pd.Series(p), pd.Series(r), pd.Series(p - e)]
        rows.append({"item": item, "dimension": dim_of.get(item), **_summary(*answered, tolerance)})
    if sparse:
        notes.append(f"items with fewer than {min_n} answered pairs left out: {', '.join(sparse)}")
    if not rows:
        raise InsufficientData("satisfaction ratio (every item)", 0, min_n)
    return pd.DataFrame(rows)


_DIMENSION_COLUMNS = ["dimension", "n_items", "n", "n_undefined", "mean_E", "mean_P",
                      "ratio_of_means", "mean_ratio", "mean_diff", "class", "share_delighted",
                      "share_met", "share_disappointed"]


def _dimension_table(blocks: _RatioBlocks, dimensions, tolerance, min_n, notes) -> pd.DataFrame:
    rows, sparse = [], []
    for dim, items in dimensions.items():
        level = blocks.respondent_level(items)
        n_dim = int((level["n_pairs"] > 0).sum())
        if n_dim < min_n:
            sparse.append(f"{dim} (n={n_dim})")
            continue
        rows.append({"dimension": dim, "n_items": len(items), **_aggregate(level, tolerance)})
    if sparse:
        notes.append(f"dimensions with fewer than {min_n} respondents left out: {', '.join(sparse)}")
    return pd.DataFrame(rows, columns=_DIMENSION_COLUMNS)


def _respondent_table(everyone: pd.DataFrame, ids: pd.Series, tolerance: float) -> pd.DataFrame:
    # Positions, not labels: ids and everyone are both indexed like the frame, and a
    # label lookup of a million ids, a boolean-filtered copy and a column selection
    # each cost as much as the table.
    answered = everyone["n_pairs"].to_numpy() > 0
    table = {"response_id": ids.to_numpy()[answered]}
    for name in ("n_pairs", "n_undefined"):
        table[name] = everyone[name].to_numpy()[answered].astype(int)
    for name in ("mean_E", "mean_P", "ratio", "mean_ratio", "mean_diff"):
        table[name] = everyone[name].to_numpy()[answered]
    table["class"] = classify_ratio(table["ratio"], tolerance).to_numpy()
    reason = np.full(len(table["ratio"]), "", dtype=object)
    reason[np.isnan(table["ratio"])] = "sum of expectations is 0: ratio undefined"
    table["reason"] = reason
    return pd.DataFrame(table)


def _ratio_methods(frame: pd.DataFrame, answered: pd.Series, notes: list[str]) -> Methods:
    return Methods(
        analysis="Satisfaction ratio (perception / expectation)",
        n_used=int(answered.sum()),
        n_excluded=int(len(frame) - answered.sum()),
        missing="pairwise per item: a respondent-item enters when both E and P are answered; "
                "respondent ratios use each respondent's answered pairs",
        formula="S = P / E per respondent-item; respondent S_i = sum P / sum E; "
                "aggregate S = mean(P) / mean(E) (headline) and mean(S_i); difference D = P - E",
        reference=_REFERENCE,
        notes=notes,
    )
