"""Relationship quality: construct scores, reliability, correlations, OLS
paths with robust standard errors, and bootstrap mediation.

Constructs are the ``dimension`` codes of ``instruments/relationship.yaml``
(``satisfaction_visit``, ``satisfaction_cumulative``, ``trust_firm``,
``trust_staff``, ``commitment_affective``, ``commitment_continuance``,
``friendship``, ``word_of_mouth``, ``forgiveness`` ...). Callers map each
construct to its item columns; a higher-order construct such as
``trust_firm`` simply lists the items of its sub-dimensions.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .common import Methods, float_columns, float_matrix, require_n, item_ranges
from .reliability import composite_reliability, cronbach_alpha

__all__ = [
    "SeedPath",
    "SEED_PATHS",
    "SEED_MEDIATION",
    "MediationResult",
    "construct_scores",
    "construct_reliability",
    "construct_correlations",
    "ols_path",
    "seed_paths",
    "mediation",
    "seed_mediation",
]


class SeedPath(NamedTuple):
    """One regression the relationship-quality seeds state."""

    label: str
    outcome: str
    predictors: tuple[str, ...]


# The paths of the customer-relationship-quality chapter (seed 003): visit
# satisfaction builds trust while trust shapes satisfaction across visits;
# trust underlies commitment; satisfaction drives affective and continuance
# commitment, mostly through affective commitment; commercial friendship
# with staff feeds satisfaction, trust in staff and both commitments; trust
# in staff transfers to the firm; affective commitment drives word of mouth
# and forgiveness of service failures.
SEED_PATHS: tuple[SeedPath, ...] = (
    SeedPath("visit satisfaction -> trust in firm", "trust_firm", ("satisfaction_visit",)),
    SeedPath("trust in firm -> cumulative satisfaction", "satisfaction_cumulative", ("trust_firm",)),
    SeedPath("trust in firm -> affective commitment", "commitment_affective", ("trust_firm",)),
    SeedPath("satisfaction -> affective commitment", "commitment_affective", ("satisfaction_cumulative",)),
    SeedPath("satisfaction + affective -> continuance commitment", "commitment_continuance",
             ("satisfaction_cumulative", "commitment_affective")),
    SeedPath("friendship -> cumulative satisfaction", "satisfaction_cumulative", ("friendship",)),
    SeedPath("friendship -> trust in staff", "trust_staff", ("friendship",)),
    SeedPath("friendship -> affective commitment", "commitment_affective", ("friendship",)),
    SeedPath("friendship -> continuance commitment", "commitment_continuance", ("friendship",)),
    SeedPath("trust in staff -> trust in firm", "trust_firm", ("trust_staff",)),
    SeedPath("affective commitment -> word of mouth", "word_of_mouth", ("commitment_affective",)),
    SeedPath("affective commitment -> forgiveness", "forgiveness", ("commitment_affective",)),
)

#: X -> M -> Y of the seeds: satisfaction acts on continuance commitment
#: mainly through affective commitment (indirect effect larger than direct).
SEED_MEDIATION = ("satisfaction_cumulative", "commitment_affective", "commitment_continuance")

_REFERENCE_PATHS = ("Garbarino & Johnson (1999) J. Marketing 63(2); Morgan & Hunt (1994) "
                    "J. Marketing 58(3); Price & Arnould (1999) J. Marketing 63(4)")


# --------------------------------------------------------------------------
# construct scores and reliability
# --------------------------------------------------------------------------

def _item_ranges(items: Iterable[str], scale) -> dict[str, tuple[float, float]]:
    if scale is None:
        raise ValueError("reverse-scored items need the scale: pass scale=(min, max) or {item: (min, max)}")
    return item_ranges(items, scale)


def _recoded_items(frame: pd.DataFrame, constructs: Mapping[str, Sequence[str]],
                   reverse: Iterable[str], scale) -> pd.DataFrame:
    if not constructs:
        raise ValueError("constructs is empty: map each construct to its item columns")
    items = []
    for name, cols in constructs.items():
        if len(cols) == 0:
            raise ValueError(f"construct {name} has no items")
        items.extend(c for c in cols if c not in items)
    missing = [c for c in items if c not in frame.columns]
    if missing:
        raise ValueError(f"item column(s) not in the frame: {', '.join(missing)}")
    reverse = list(dict.fromkeys(reverse))
    stray = [r for r in reverse if r not in items]
    if stray:
        raise ValueError(f"reverse item(s) not in any construct: {', '.join(stray)}")
    # One float64 matrix, reverse items recoded in it: assigning a recoded column to a
    # frame splits its block, and reading the matrix back then copies every item again.
    values = float_matrix(frame, items)
    for item, (lo, hi) in _item_ranges(reverse, scale).items() if reverse else ():
        column = values[:, items.index(item)]
        outside = column[(column < lo) | (column > hi)]
        if len(outside):
            raise ValueError(f"{item} has values outside its scale {lo}-{hi}: {outside[:3].tolist()}")
        column[:] = lo + hi - column
    return pd.DataFrame(values, index=frame.index, columns=items, copy=False)


def construct_scores(frame: pd.DataFrame, constructs: Mapping[str, Sequence[str]],
                     reverse: Iterable[str] = (), scale=None,
                     min_items: int | None = None) -> pd.DataFrame:
    """Construct scores as the mean of their items.

    Reverse-worded items are recoded ``min + max - x`` first (so 1..7
    becomes 7..1).

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame.
    constructs : mapping of str to sequence of str
        Construct code -> item columns.
    reverse : iterable of str
        Reverse-worded item columns.
    scale : (min, max) or mapping item -> (min, max), optional
        Scale end points; required when ``reverse`` is not empty.
    min_items : int, optional
        Missing-data rule. ``None`` (default): listwise within the construct,
        a respondent missing any item gets NaN. ``k``: the mean of the
        answered items when at least ``k`` of the construct's n items are
        answered (capped at n), NaN otherwise.

    Returns
    -------
    pandas.DataFrame
        One column per construct, the index of ``frame``; ``methods`` in
        ``.attrs``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"T1": [7, 5], "T2": [6, None], "T3": [1, 3]})
    >>> construct_scores(df, {"trust": ["T1", "T2", "T3"]}, reverse=["T3"], scale=(1, 7),
    ...                  min_items=2)["trust"].tolist()
    [6.666666666666667, 5.0]
    """
    if min_items is not None and (int(min_items) != min_items or min_items < 1):
        raise ValueError(f"min_items must be a positive integer or None; got {min_items}")
    data = _recoded_items(frame, constructs, reverse, scale)
    values = data.to_numpy()
    scores = np.empty((len(constructs), len(frame)))
    for score, cols in zip(scores, constructs.values()):
        # Row means on the matrix (sum of answered items / their count, as pandas' mean);
        # the sum over the answered cells adds what numpy.nansum adds, without its copy.
        block = values[:, data.columns.get_indexer(list(cols))]
        need = len(cols) if min_items is None else min(int(min_items), len(cols))
        present = ~np.isnan(block)
        answered = present.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            score[:] = np.where(answered >= max(need, 1), block.sum(axis=1, where=present) / answered, np.nan)
    # scores.T is the column-major block pandas keeps: no copy.
    out = pd.DataFrame(scores.T, index=frame.index, columns=list(constructs), copy=False)
    rule = ("listwise within construct (all items required)" if min_items is None
            else f"mean of answered items when at least {min_items} of n items are answered")
    out.attrs["methods"] = Methods(
        analysis="construct scores",
        n_used=int(out.notna().all(axis=1).sum()),
        n_excluded=int(out.isna().any(axis=1).sum()),
        missing=rule,
        formula="score = mean of items; reverse items recoded min + max - x",
        notes=[f"reverse-scored: {', '.join(reverse)}"] if list(reverse) else [],
    )
    return out


def construct_reliability(frame: pd.DataFrame, constructs: Mapping[str, Sequence[str]],
                          reverse: Iterable[str] = (), scale=None, min_n: int = 10) -> pd.DataFrame:
    """Reliability and convergent validity per construct.

    Reverse items are recoded first; then, per construct,

    * Cronbach's alpha with its Feldt CI,
      :func:`analysis.reliability.cronbach_alpha`;
    * composite reliability ``CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))``
      and average variance extracted ``AVE = sum(l^2) / k`` from the
      standardized loadings ``l`` of a one-factor ML model,
      :func:`analysis.reliability.composite_reliability` (Fornell & Larcker
      1981). CR and AVE need at least three items and are NaN otherwise.

    Cases are used listwise per construct. Common benchmarks: alpha and
    CR >= .70, AVE >= .50.

    Parameters
    ----------
    frame, constructs, reverse, scale
        As in :func:`construct_scores`.
    min_n : int, default 10
        Fewest complete cases per construct.

    Returns
    -------
    pandas.DataFrame
        Index ``construct``; columns n_items, n, alpha, alpha_ci_low,
        alpha_ci_high, omega, composite_reliability, ave, min_loading, max_loading,
        note (e.g. a Heywood case). ``methods`` in ``.attrs``.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. Psychometrika 16(3), 297-334.
    Fornell, C. & Larcker, D. F. (1981). Evaluating structural equation
    models with unobservable variables and measurement error. Journal of
    Marketing Research 18(1), 39-50.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.standard_normal(500)
    >>> df = pd.DataFrame({f"T{i}": f + rng.standard_normal(500) for i in range(3)})
    >>> rel = construct_reliability(df, {"trust": ["T0", "T1", "T2"]})
    >>> bool(rel.loc["trust", "alpha"] > 0.7)
    True
    """
    data = _recoded_items(frame, constructs, reverse, scale)
    rows = {}
    answered = data.notna().to_numpy()
    for name, cols in constructs.items():
        cols = list(cols)
        # the recoded items themselves: data[cols] would copy the construct's columns
        block = data
        n = int(answered[:, data.columns.get_indexer(cols)].all(axis=1).sum())
        require_n(f"reliability of {name}", n, min_n)
        row = {"n_items": len(cols), "n": n, "alpha": np.nan, "alpha_ci_low": np.nan,
               "alpha_ci_high": np.nan, "omega": np.nan, "composite_reliability": np.nan,
               "ave": np.nan, "min_loading": np.nan, "max_loading": np.nan, "note": ""}
        if len(cols) >= 2:
            alpha = cronbach_alpha(block, cols, min_n=min_n)
            row.update(alpha=alpha.alpha, alpha_ci_low=alpha.ci_low, alpha_ci_high=alpha.ci_high,
                       omega=alpha.omega)
        else:
            row["note"] = "single item: no reliability"
        if len(cols) >= 3:
            cr = composite_reliability(block, cols, min_n=min_n)
            lam = cr.loadings["loading"]
            row.update(composite_reliability=cr.cr, ave=cr.ave, min_loading=float(lam.min()),
                       max_loading=float(lam.max()))
            row["note"] = "; ".join(msg for msg in cr.methods.notes if "Heywood" in msg)
        elif len(cols) == 2:
            row["note"] = "two items: CR and AVE need three"
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "construct"
    out.attrs["methods"] = Methods(
        analysis="construct reliability",
        n_used=int(out["n"].min()),
        n_excluded=int(len(frame) - out["n"].min()),
        missing="listwise per construct",
        formula="alpha = k/(k-1)(1 - sum var_i / var total); CR = (sum l)^2/((sum l)^2 + sum(1-l^2)); "
                "AVE = mean l^2; l = one-factor ML standardized loadings; McDonald's omega total "
                "from a one-factor minres model (analysis.reliability.omega_total)",
        reference="Cronbach (1951) Psychometrika 16(3); Feldt (1965) Psychometrika 30(3); "
                  "Fornell & Larcker (1981) JMR 18(1)",
        notes=["reverse items recoded min + max - x before all statistics"] if list(reverse) else [],
    )
    return out


def _complete_column_correlations(values: np.ndarray, present: np.ndarray) -> dict[tuple[int, int], float]:
    """Pearson r of every pair of columns answered on every row, from one centred
    cross-product of those columns: the centring and the normalisation of
    ``numpy.corrcoef`` (a pair of columns with no missing value has all rows in
    common), without a pass over the rows per pair. Constant columns and fewer
    than three rows leave their pairs out (the caller gives them NaN)."""
    n = len(values)
    full = [j for j in range(values.shape[1]) if present[:, j].all()]
    if n < 3 or len(full) < 2:
        return {}
    block = values[:, full]
    varying = [k for k, j in enumerate(full) if np.ptp(block[:, k]) > 0]
    block = block[:, varying]
    full = [full[k] for k in varying]
    centred = block - block.mean(axis=0)
    cov = centred.T @ centred / (n - 1)
    sd = np.sqrt(np.diag(cov))
    r = np.clip(cov / sd[:, None] / sd[None, :], -1.0, 1.0)
    return {(full[a], full[b]): float(r[a, b]) for a in range(len(full)) for b in range(a + 1, len(full))}


def construct_correlations(scores: pd.DataFrame, method: str = "pearson") -> pd.DataFrame:
    """Pairwise correlations between construct scores with two-sided p-values.

    Parameters
    ----------
    scores : pandas.DataFrame
        Construct scores (e.g. from :func:`construct_scores`).
    method : {"pearson", "spearman"}
        Correlation coefficient.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per pair with columns x, y, n, r, p (pairwise
        complete cases; r and p NaN below 3 cases). Pivot ``r`` for a matrix.
        ``methods`` in ``.attrs``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 4, 5, 9], "c": [4, 3, 2, 2]})
    >>> construct_correlations(s)[["x", "y"]].values.tolist()
    [['a', 'b'], ['a', 'c'], ['b', 'c']]
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman'; got {method!r}")
    if scores.shape[1] < 2:
        raise ValueError("need at least two constructs to correlate")
    values = scores.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    present = ~np.isnan(values)
    position = {name: i for i, name in enumerate(scores.columns)}
    whole = _complete_column_correlations(values, present) if method == "pearson" else {}
    rows = []
    for x, y in itertools.combinations(scores.columns, 2):
        i, j = position[x], position[y]
        if (i, j) in whole:
            n, r = len(values), whole[i, j]
        else:
            keep = present[:, i] & present[:, j]
            a, b = values[keep, i], values[keep, j]
            n = len(a)
            r = np.nan
            # A constant column has no correlation (scipy would warn and return NaN).
            if n >= 3 and np.ptp(a) > 0 and np.ptp(b) > 0:
                if method == "spearman":
                    a, b = stats.rankdata(a), stats.rankdata(b)
                r = float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))
        p = np.nan
        if np.isfinite(r):
            # Pearson's r and its exact two-sided p, t = r sqrt((n-2)/(1-r^2)) on n-2 df
            # (what scipy.stats.pearsonr returns, without its per-call overhead).
            t = r * np.sqrt((n - 2) / max(1.0 - r * r, np.finfo(float).tiny))
            p = float(2 * stats.t.sf(abs(t), n - 2))
        rows.append({"x": x, "y": y, "n": n, "r": r, "p": p})
    out = pd.DataFrame(rows)
    out.attrs["methods"] = Methods(
        analysis=f"{method} correlations of construct scores",
        n_used=int(out["n"].max()),
        missing="pairwise",
        test=f"{method} correlation, two-sided",
    )
    return out


# --------------------------------------------------------------------------
# regression paths
# --------------------------------------------------------------------------

def _numeric(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"column(s) not in the frame: {', '.join(missing)}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"a variable appears twice among {list(cols)}")
    return float_columns(frame, cols)


def _ols(X: np.ndarray, y: np.ndarray, alpha: float = 0.05, hc3: bool = True) -> dict[str, np.ndarray | float]:
    """OLS with t tests: what ``statsmodels`` ``OLS(y, X).fit(cov_type="HC3", use_t=True)``
    (``hc3=True``) or ``OLS(y, X).fit()`` (classical errors) reports - params, bse,
    tvalues, pvalues, conf_int, rsquared, rsquared_adj - from the normal equations
    instead of a pseudo-inverse (an SVD of the n x p design, most of the time at a
    million rows).

    With ``A = (X'X)^{-1}``, residuals ``e`` and leverages ``h_i = x_i A x_i'``:
    classical ``cov = A e'e / (n - p)``; HC3 ``cov = A X' diag(e_i^2 / (1 - h_i)^2) X A``
    (MacKinnon & White 1985; Long & Ervin 2000); t on ``n - p`` df. ``X`` holds the
    constant column.
    """
    n, p = X.shape
    inverse = np.linalg.inv(X.T @ X)
    params = inverse @ (X.T @ y)
    resid = y - X @ params
    df = n - p
    if hc3:
        leverage = ((X @ inverse) * X).sum(axis=1)
        weighted = X * (resid / (1.0 - leverage))[:, None]
        cov = inverse @ (weighted.T @ weighted) @ inverse
    else:
        cov = inverse * ((resid @ resid) / df)
    bse = np.sqrt(np.diag(cov))
    t = params / bse
    half = stats.t.ppf(1 - alpha / 2, df) * bse
    centred = y - y.mean()
    r2 = 1 - (resid @ resid) / (centred @ centred)
    return {"params": params, "bse": bse, "t": t, "p": 2 * stats.t.sf(np.abs(t), df),
            "ci_low": params - half, "ci_high": params + half, "r2": float(r2),
            "adj_r2": float(1 - (n - 1) / df * (1 - r2))}


def _vif(X: np.ndarray, j: int) -> float:
    """Variance inflation factor of column ``j`` of a design with a constant:
    ``1 / (1 - R²_j)``, R²_j of the OLS of column j on the others (as
    ``statsmodels.stats.outliers_influence.variance_inflation_factor``)."""
    others = np.delete(X, j, axis=1)
    target = X[:, j]
    coef = np.linalg.solve(others.T @ others, others.T @ target)
    resid = target - others @ coef
    centred = target - target.mean()
    r2 = 1 - (resid @ resid) / (centred @ centred)
    return float(1.0 / (1.0 - r2))


def ols_path(frame: pd.DataFrame, outcome: str, predictors: Sequence[str] | str,
             standardize: bool = True, min_n: int = 10) -> pd.DataFrame:
    """OLS regression of one outcome on its predictors, with standardized
    coefficients, HC3 robust standard errors, R² and VIF.

    Variables are z-scored (mean 0, SD 1 with ddof=1) before the fit, so the
    slopes are standardized betas. Standard errors use the HC3
    heteroscedasticity-consistent covariance, recommended for the sample
    sizes of survey studies (Long & Ervin 2000), with t tests on n - k - 1
    df. VIF_j = 1 / (1 - R²_j), R²_j from regressing predictor j on the
    others.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data (e.g. construct scores).
    outcome : str
        Dependent variable.
    predictors : str or sequence of str
        Independent variables.
    standardize : bool, default True
        False keeps the raw metric (unstandardized b).
    min_n : int, default 10
        Fewest complete cases; at least k + 3 are always required.

    Returns
    -------
    pandas.DataFrame
        One row per predictor: outcome, predictor, beta, se_hc3, t, p,
        ci_low, ci_high (95%), r2, adj_r2, n, vif. ``methods`` in ``.attrs``.

    Raises
    ------
    InsufficientData
        Too few complete cases.
    ValueError
        Unknown or constant variables.

    References
    ----------
    Long, J. S. & Ervin, L. H. (2000). Using heteroscedasticity consistent
    standard errors in the linear regression model. The American
    Statistician 54(3), 217-224.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"sat": rng.normal(size=200)})
    >>> d["trust"] = 0.6 * d["sat"] + rng.normal(size=200)
    >>> round(float(ols_path(d, "trust", "sat").loc[0, "beta"]), 2)
    0.45
    """
    predictors = [predictors] if isinstance(predictors, str) else list(predictors)
    if not predictors:
        raise ValueError("predictors is empty")
    if outcome in predictors:
        raise ValueError(f"{outcome} is both outcome and predictor")
    data = _numeric(frame, [outcome] + predictors)
    n_all = len(data)
    data = data.dropna()
    n, k = len(data), len(predictors)
    require_n(f"regression of {outcome}", n, max(min_n, k + 3))
    constant = [c for c in data.columns if data[c].std(ddof=1) == 0]
    if constant:
        raise ValueError(f"no variance in {', '.join(constant)} among the {n} complete cases")
    if standardize:
        data = (data - data.mean()) / data.std(ddof=1)
    X = np.column_stack([np.ones(n), data[predictors].to_numpy(dtype="float64")])
    fit = _ols(X, data[outcome].to_numpy(dtype="float64"))
    vif = [1.0] if k == 1 else [_vif(X, j) for j in range(1, k + 1)]
    out = pd.DataFrame({
        "outcome": outcome,
        "predictor": predictors,
        "beta": fit["params"][1:],
        "se_hc3": fit["bse"][1:],
        "t": fit["t"][1:],
        "p": fit["p"][1:],
        "ci_low": fit["ci_low"][1:],
        "ci_high": fit["ci_high"][1:],
        "r2": fit["r2"],
        "adj_r2": fit["adj_r2"],
        "n": n,
        "vif": vif,
    })
    out.attrs["methods"] = Methods(
        analysis=f"OLS regression of {outcome}",
        n_used=n,
        n_excluded=n_all - n,
        missing="listwise",
        formula=("z-scored variables, OLS; beta = standardized slope" if standardize
                 else "OLS on raw scores"),
        test=f"HC3 robust standard errors, t test on {n - k - 1} df",
        reference="Long & Ervin (2000) American Statistician 54(3)",
    )
    return out


def seed_paths(construct_scores: pd.DataFrame, paths: Sequence[SeedPath] = SEED_PATHS,
               min_n: int = 10) -> pd.DataFrame:
    """Run the relationship-quality paths the seeds state (:data:`SEED_PATHS`).

    Each path is one :func:`ols_path` regression (standardized betas, HC3
    SEs). Paths whose constructs are not all columns of
    ``construct_scores`` are skipped and named in the methods notes.

    Parameters
    ----------
    construct_scores : pandas.DataFrame
        Columns named by construct code (see module docstring).
    paths : sequence of SeedPath
        Default :data:`SEED_PATHS`.
    min_n : int, default 10
        Passed to :func:`ols_path`.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per path and predictor with columns path, outcome,
        predictor, beta, se_hc3, t, p, ci_low, ci_high, r2, adj_r2, n, vif.
        ``methods`` in ``.attrs``.

    Raises
    ------
    ValueError
        When no path can be run.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> s = pd.DataFrame({"trust_staff": rng.normal(size=100)})
    >>> s["trust_firm"] = 0.7 * s["trust_staff"] + rng.normal(size=100)
    >>> seed_paths(s)["path"].tolist()
    ['trust in staff -> trust in firm']
    """
    tables, skipped = [], []
    for path in paths:
        needed = (path.outcome,) + tuple(path.predictors)
        absent = [c for c in needed if c not in construct_scores.columns]
        if absent:
            skipped.append(f"{path.label} (no {', '.join(absent)})")
            continue
        table = ols_path(construct_scores, path.outcome, list(path.predictors), min_n=min_n)
        table.insert(0, "path", path.label)
        tables.append(table)
    if not tables:
        expected = sorted({c for p in paths for c in (p.outcome,) + tuple(p.predictors)})
        raise ValueError("none of the seed paths can be run: construct_scores needs columns named "
                         + ", ".join(expected))
    out = pd.concat(tables, ignore_index=True)
    out.attrs["methods"] = Methods(
        analysis="relationship-quality paths",
        n_used=int(out["n"].max()),
        n_excluded=int(len(construct_scores) - out["n"].min()),
        missing="listwise per regression",
        formula="one OLS regression per path on z-scored construct scores",
        test="HC3 robust standard errors, t tests",
        reference=_REFERENCE_PATHS,
        notes=[f"skipped: {s}" for s in skipped],
    )
    return out


# --------------------------------------------------------------------------
# mediation
# --------------------------------------------------------------------------

@dataclass
class MediationResult:
    """Simple mediation X -> M -> Y (Preacher & Hayes 2008).

    Attributes
    ----------
    x, m, y : variable names.
    n : complete cases used.
    a : effect of X on M.
    b : effect of M on Y controlling for X.
    direct : c', effect of X on Y controlling for M.
    total : c, effect of X on Y (= c' + a*b).
    indirect : a*b.
    indirect_se : SD of the bootstrap distribution of a*b.
    ci_low, ci_high : percentile bootstrap confidence interval of a*b.
    ci_level : e.g. 0.95.
    n_boot, seed : resamples and seed (same seed, same CI).
    proportion_mediated : a*b / c (unstable when c is near 0).
    paths : tidy table of a, b, c, c' (OLS SE, t, p, CI) and the indirect
        effect (bootstrap SE and CI).
    boot_indirect : the bootstrap estimates of a*b.
    methods : how it was computed.
    """

    x: str
    m: str
    y: str
    n: int
    a: float
    b: float
    direct: float
    total: float
    indirect: float
    indirect_se: float
    ci_low: float
    ci_high: float
    ci_level: float
    n_boot: int
    seed: int | None
    proportion_mediated: float
    paths: pd.DataFrame
    boot_indirect: np.ndarray = field(repr=False)
    methods: Methods | None = None

    @property
    def significant(self) -> bool:
        """True when the bootstrap CI of a*b excludes 0."""
        return bool(self.ci_low > 0 or self.ci_high < 0)

    @property
    def indirect_exceeds_direct(self) -> bool:
        """|a*b| > |c'|: most of the effect runs through the mediator."""
        return bool(abs(self.indirect) > abs(self.direct))


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-D array and how often each occurs (rows in ``np.unique`` order).

    Each column is coded by hashing (``pandas.factorize``, linear time) and
    the codes are combined into one integer per row, so only integers are
    sorted; ``np.unique(values, axis=0)`` sorts the rows themselves, ten
    times slower on a million rows. Falls back to it when the combined code
    would not fit in 63 bits.
    """
    codes, levels = zip(*(pd.factorize(column, sort=True) for column in values.T))
    sizes = [len(level) for level in levels]
    if float(np.prod(np.asarray(sizes, dtype=float))) >= 2.0 ** 62:
        return np.unique(values, axis=0, return_counts=True)
    key = np.zeros(len(values), dtype=np.int64)
    for code, size in zip(codes, sizes):
        key = key * size + code
    present, frequency = np.unique(key, return_counts=True)
    columns = []
    for level, size in zip(reversed(levels), reversed(sizes)):
        present, code = np.divmod(present, size)
        columns.append(np.asarray(level, dtype="float64")[code])
    return np.column_stack(columns[::-1]), frequency


def _bootstrap_indirect(xv: np.ndarray, mv: np.ndarray, yv: np.ndarray, cov: np.ndarray,
                        n_boot: int, rng: np.random.Generator,
                        chunk_bytes: int = 2 ** 26) -> np.ndarray:
    """``a*b`` in each of ``n_boot`` case resamples, without materialising the resamples.

    A case resample (``n`` rows drawn with replacement, each row with
    probability ``1/n``) is the original rows weighted by their draw counts;
    rows with equal values are interchangeable, so the resample is equally
    the *distinct* rows ``z_k`` weighted by counts drawn from the
    multinomial ``Mult(n, f_k / n)`` of their frequencies ``f_k`` - the same
    distribution of resamples (Efron & Tibshirani 1993, ch. 6: the bootstrap
    samples the empirical distribution, whose atoms are the distinct rows).
    Both regressions of a resample need only the cross-products
    ``Z' W Z = Σ_k c_k z_k z_k'`` of ``Z = [1, x, covariates, m, y]`` (one
    matrix product for a chunk of resamples); the normal equations then give
    ``a`` and ``b`` exactly as OLS on the resampled rows would. Survey
    construct scores take few distinct values, so a resample costs a few
    thousand binomial draws instead of ``n`` integer draws: a million
    respondents take as long as a thousand. With continuous data (every row
    distinct) it is the classic case bootstrap at the classic cost.
    """
    n = len(xv)
    z = np.column_stack([np.ones(n), xv, cov, mv, yv])
    distinct, frequency = _distinct_rows(z)
    k = z.shape[1]
    products = (distinct[:, :, None] * distinct[:, None, :]).reshape(len(distinct), k * k)
    share = frequency / n
    p_a = k - 2  # [1, x, covariates]: the design of M; adding m gives the design of Y
    chunk = int(max(1, min(n_boot, chunk_bytes // (8 * len(distinct)))))
    boot = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        counts = rng.multinomial(n, share, size=size).astype("float64")
        zz = (counts @ products).reshape(size, k, k)
        a = np.linalg.solve(zz[:, :p_a, :p_a], zz[:, :p_a, p_a, None])[:, 1, 0]
        b = np.linalg.solve(zz[:, :p_a + 1, :p_a + 1], zz[:, :p_a + 1, p_a + 1, None])[:, p_a, 0]
        boot[start:start + size] = a * b
    return boot


def mediation(frame: pd.DataFrame, x: str, m: str, y: str, covariates: Sequence[str] = (),
              n_boot: int = 5000, seed: int | None = None, ci: float = 0.95,
              standardize: bool = False, min_n: int = 20) -> MediationResult:
    """Simple mediation with a percentile bootstrap CI of the indirect effect.

    Three OLS regressions (covariates, if any, enter all three):

    * ``M = i1 + a X + e1``
    * ``Y = i2 + c' X + b M + e2``
    * ``Y = i3 + c X + e3``  (total effect, ``c = c' + a b``)

    The indirect effect ``a b`` is tested with the percentile bootstrap:
    ``n_boot`` resamples of the cases (with replacement), ``a b`` re-estimated
    in each, and the CI given by the ``(1 - ci)/2`` and ``(1 + ci)/2``
    quantiles. The effect is significant when the CI excludes 0.
    Proportion mediated = ``a b / c``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data (e.g. construct scores).
    x, m, y : str
        Predictor, mediator, outcome.
    covariates : sequence of str
        Control variables.
    n_boot : int, default 5000
        Bootstrap resamples (at least 200).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same CI.
    ci : float, default 0.95
        Confidence level.
    standardize : bool, default False
        z-score all variables first (effects in SD units).
    min_n : int, default 20
        Fewest complete cases.

    Returns
    -------
    MediationResult

    References
    ----------
    Preacher, K. J. & Hayes, A. F. (2008). Asymptotic and resampling
    strategies for assessing and comparing indirect effects in multiple
    mediator models. Behavior Research Methods 40(3), 879-891.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["m"] = 0.5 * d["x"] + rng.normal(size=300)
    >>> d["y"] = 0.4 * d["m"] + rng.normal(size=300)
    >>> r = mediation(d, "x", "m", "y", n_boot=500, seed=1)
    >>> r.significant
    True
    """
    covariates = list(covariates)
    if n_boot < 200:
        raise ValueError(f"n_boot must be at least 200 for a percentile CI; got {n_boot}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1; got {ci}")
    cols = [x, m, y] + covariates
    data = _numeric(frame, cols)
    n_all = len(data)
    data = data.dropna()
    n = len(data)
    require_n(f"mediation {x} -> {m} -> {y}", n, max(min_n, len(covariates) + 5))
    constant = [c for c in cols if data[c].std(ddof=1) == 0]
    if constant:
        raise ValueError(f"no variance in {', '.join(constant)}")
    if standardize:
        data = (data - data.mean()) / data.std(ddof=1)

    ones = np.ones((n, 1))
    cov = data[covariates].to_numpy()
    xv, mv, yv = (data[c].to_numpy() for c in (x, m, y))
    design_x = np.column_stack([ones, xv, cov])
    design_xm = np.column_stack([ones, xv, mv, cov])

    alpha = 1 - ci
    fit_m = _ols(design_x, mv, alpha, hc3=False)
    fit_y = _ols(design_xm, yv, alpha, hc3=False)
    fit_total = _ols(design_x, yv, alpha, hc3=False)
    a, b = fit_m["params"][1], fit_y["params"][2]
    direct, total = fit_y["params"][1], fit_total["params"][1]
    indirect = a * b

    boot = _bootstrap_indirect(xv, mv, yv, cov, n_boot, np.random.default_rng(seed))
    lo, hi = np.quantile(boot, [(1 - ci) / 2, (1 + ci) / 2])

    rows = []
    for label, fit, j in (("a (X -> M)", fit_m, 1), ("b (M -> Y | X)", fit_y, 2),
                          ("c (total X -> Y)", fit_total, 1), ("c' (direct X -> Y | M)", fit_y, 1)):
        rows.append({"path": label, "estimate": fit["params"][j], "se": fit["bse"][j], "t": fit["t"][j],
                     "p": fit["p"][j], "ci_low": fit["ci_low"][j], "ci_high": fit["ci_high"][j],
                     "method": "OLS"})
    rows.append({"path": "a*b (indirect)", "estimate": indirect, "se": boot.std(ddof=1), "t": np.nan,
                 "p": np.nan, "ci_low": lo, "ci_high": hi, "method": f"percentile bootstrap ({n_boot})"})
    table = pd.DataFrame(rows)

    with np.errstate(divide="ignore", invalid="ignore"):
        proportion = float(indirect / total) if total != 0 else np.nan
    methods = Methods(
        analysis=f"mediation {x} -> {m} -> {y}",
        n_used=n,
        n_excluded=n_all - n,
        missing="listwise",
        formula="M = a X; Y = c' X + b M; Y = c X; indirect = a*b; c = c' + a*b; "
                "proportion mediated = a*b / c" + ("; variables z-scored" if standardize else ""),
        test=f"percentile bootstrap CI ({ci:.0%}) of a*b, {n_boot} resamples, seed {seed}",
        reference="Preacher & Hayes (2008) Behavior Research Methods 40(3)",
        notes=[f"covariates: {', '.join(covariates)}"] if covariates else [],
    )
    return MediationResult(x=x, m=m, y=y, n=n, a=float(a), b=float(b), direct=float(direct),
                           total=float(total), indirect=float(indirect),
                           indirect_se=float(boot.std(ddof=1)), ci_low=float(lo), ci_high=float(hi),
                           ci_level=ci, n_boot=n_boot, seed=seed, proportion_mediated=proportion,
                           paths=table, boot_indirect=boot, methods=methods)


def seed_mediation(construct_scores: pd.DataFrame, n_boot: int = 5000, seed: int | None = None,
                   standardize: bool = True) -> MediationResult:
    """The seeds' mediation: cumulative satisfaction -> affective commitment
    -> continuance commitment (:data:`SEED_MEDIATION`).

    The seeds state that the indirect effect through affective commitment is
    larger than the direct one; :attr:`MediationResult.indirect_exceeds_direct`
    checks it on the data. Effects are standardized by default so they are
    comparable with :func:`seed_paths`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> s = pd.DataFrame({"satisfaction_cumulative": rng.normal(size=200)})
    >>> s["commitment_affective"] = 0.6 * s["satisfaction_cumulative"] + rng.normal(size=200)
    >>> s["commitment_continuance"] = 0.5 * s["commitment_affective"] + rng.normal(size=200)
    >>> seed_mediation(s, n_boot=300, seed=1).indirect_exceeds_direct
    True
    """
    x, m, y = SEED_MEDIATION
    absent = [c for c in SEED_MEDIATION if c not in construct_scores.columns]
    if absent:
        raise ValueError(f"construct_scores lacks {', '.join(absent)}")
    return mediation(construct_scores, x, m, y, n_boot=n_boot, seed=seed, standardize=standardize)
