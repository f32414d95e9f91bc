"""Internal consistency of multi-item scales.

Cronbach's alpha (raw, from the covariance matrix as SPSS reports it, and
standardized, from the mean inter-item correlation) with the Feldt (1965)
confidence interval, item diagnostics (corrected item-total correlation,
alpha if item deleted), a helper that runs it for the E, P and gap scores
of every SERVQUAL dimension, and composite reliability / average variance
extracted from a one-factor model (Fornell & Larcker 1981).

All computations use listwise deletion: a respondent enters when every item
of the scale is answered, so alpha, its CI and the item statistics all rest
on the same cases.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .common import InsufficientData, Methods, UndefinedStatistic, complete_rows, require_n
from .io import check_columns

__all__ = ["AlphaResult", "cronbach_alpha", "omega_total", "DimensionReliability", "servqual_reliability",
           "ConstructReliability", "composite_reliability"]

_ALPHA_REF = ("Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. "
              "Psychometrika, 16(3), 297-334; CI: Feldt, L. S. (1965). Psychometrika, 30(3), 357-370")


def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    total = cov.sum()
    if total <= 0:
        return np.nan
    return k / (k - 1) * (1 - np.trace(cov) / total)


def _alpha_std_from_corr(corr: np.ndarray) -> tuple[float, float]:
    k = corr.shape[0]
    rbar = (corr.sum() - k) / (k * (k - 1))
    return k * rbar / (1 + (k - 1) * rbar), rbar


@dataclass
class AlphaResult:
    """Cronbach's alpha of one scale.

    Attributes
    ----------
    alpha : raw alpha (covariance based).
    alpha_std : standardized alpha (mean inter-item correlation based).
    ci_low, ci_high : Feldt confidence interval of the raw alpha.
    mean_r : mean inter-item correlation.
    omega : McDonald's omega total of a one-factor model (:func:`omega_total`);
        NaN for two items (a one-factor model of two items is not identified).
    n, k : respondents (listwise) and items.
    items : per item ``item, mean, sd, item_total_r`` (corrected: item vs.
        sum of the other items), ``alpha_if_deleted``; empty for k = 2's
        deleted alphas, which are undefined with one item left (NaN there).
    methods : how it was made.
    """

    alpha: float
    alpha_std: float
    ci_low: float
    ci_high: float
    mean_r: float
    n: int
    k: int
    items: pd.DataFrame
    methods: Methods
    omega: float = np.nan

    def as_frame(self) -> pd.DataFrame:
        """One-row tidy summary."""
        return pd.DataFrame([{"n": self.n, "k": self.k, "alpha": self.alpha, "alpha_std": self.alpha_std,
                              "ci_low": self.ci_low, "ci_high": self.ci_high, "mean_r": self.mean_r,
                              "omega": self.omega}])


def cronbach_alpha(frame: pd.DataFrame, items: Sequence[str] | None = None, *,
                   confidence: float = 0.95, min_n: int = 3) -> AlphaResult:
    """Cronbach's alpha, standardized alpha, Feldt CI and item diagnostics.

    .. math::

        \\alpha = \\frac{k}{k-1}\\Big(1 - \\frac{\\sum_j s_j^2}{s_X^2}\\Big), \\qquad
        \\alpha_{std} = \\frac{k\\bar r}{1 + (k-1)\\bar r}

    Feldt (1965) interval, with :math:`F` quantiles on
    :math:`(n-1,\\ (n-1)(k-1))` degrees of freedom:

    .. math::

        1 - (1-\\alpha) F_{1-\\gamma/2} \\ \\le\\ \\alpha \\ \\le\\ 1 - (1-\\alpha) F_{\\gamma/2}

    Parameters
    ----------
    frame : DataFrame
        Wide data, one column per item.
    items : list of str, optional
        The scale's columns (default: every column of ``frame``).
    confidence : float
        Confidence level of the Feldt interval.
    min_n : int
        Fewest complete respondents accepted.

    Raises
    ------
    InsufficientData
        Fewer than ``min_n`` complete respondents, or fewer than 2 items.
    ValueError
        Unknown columns, non-numeric columns, or zero total-score variance.

    References
    ----------
    Cronbach, L. J. (1951). *Psychometrika*, 16(3), 297-334. Feldt, L. S.
    (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. *Psychometrika*, 30(3), 357-370.
    Same computation as ``pingouin.cronbach_alpha(nan_policy="listwise")``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5.0], "b": [2, 2, 4, 4, 5.0], "c": [1, 3, 3, 5, 4.0]})
    >>> round(cronbach_alpha(df).alpha, 4)
    0.9364
    """
    items = list(frame.columns if items is None else items)
    check_columns(frame, items, "Cronbach's alpha")
    for c in items:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise ValueError(f"Cronbach's alpha: column {c} is not numeric")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    require_n("Cronbach's alpha (items)", len(items), 2)
    X = complete_rows(frame, items)
    n, k = len(X), len(items)
    require_n("Cronbach's alpha (respondents answering every item)", n, max(min_n, 2))
    # Everything below follows from the item means and the covariance matrix
    # (one pass over the rows): correlations, item SDs and the item-rest
    # correlations (cov(X_j, T - X_j) and var(T - X_j) are sums of its cells).
    means = X.mean(axis=0)
    cov = np.cov(X, rowvar=False, ddof=1)
    if cov.sum() <= 0:
        raise UndefinedStatistic("Cronbach's alpha", "the total score has no variance")
    variances = np.diag(cov)
    constant = [c for c, v in zip(items, variances) if v == 0]
    alpha = _alpha_from_cov(cov)
    corr = None
    if constant:
        alpha_std, rbar = np.nan, np.nan
    else:
        corr = _correlations(cov)
        alpha_std, rbar = _alpha_std_from_corr(corr)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = 1 - confidence
    ci_low = 1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)
    ci_high = 1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)

    rows = []
    for j, name in enumerate(items):
        keep = [m for m in range(k) if m != j]
        rest_cov = cov[np.ix_(keep, keep)]
        rest_variance = rest_cov.sum()
        r = (cov[j, keep].sum() / np.sqrt(variances[j] * rest_variance)
             if variances[j] > 0 and rest_variance > 0 else np.nan)
        a_del = _alpha_from_cov(rest_cov) if k > 2 else np.nan
        rows.append({"item": name, "mean": means[j], "sd": np.sqrt(variances[j]),
                     "item_total_r": r, "alpha_if_deleted": a_del})
    notes = []
    omega = np.nan
    if constant:
        notes.append(f"constant item(s) {', '.join(constant)}: standardized alpha and omega undefined")
    elif k >= 3:
        omega, heywood = _omega_from_corr(corr)
        if heywood:
            notes.append("omega: Heywood case in the one-factor model (a communality reached 1)")
    if k == 2:
        notes.append("two items: alpha if item deleted undefined")
    methods = Methods(
        analysis="Cronbach's alpha", n_used=n, n_excluded=int(len(frame) - n),
        missing="listwise: respondents answering every item",
        formula="alpha = k/(k-1) * (1 - sum item variances / total-score variance); "
                "standardized alpha = k*rbar / (1 + (k-1)*rbar); "
                "omega total = (sum l)^2 / ((sum l)^2 + sum u), one-factor minres model",
        test=f"Feldt (1965) {confidence:.0%} CI, F on ({df1}, {df2}) df",
        reference=_ALPHA_REF + "; " + _OMEGA_REF, notes=notes)
    return AlphaResult(alpha=float(alpha), alpha_std=float(alpha_std), ci_low=float(ci_low),
                       ci_high=float(ci_high), mean_r=float(rbar), n=n, k=k,
                       items=pd.DataFrame(rows), methods=methods, omega=float(omega))


_OMEGA_REF = ("McDonald, R. P. (1999). Test Theory: A Unified Treatment. Erlbaum, ch. 6 "
              "(omega); Hayes, A. F., & Coutts, J. J. (2020). Communication Methods and "
              "Measures, 14(1), 1-24")


def _minres_one_factor(corr: np.ndarray, tol: float = 1e-10,
                       max_iter: int = 10_000) -> tuple[np.ndarray, bool]:
    """Loadings of a one-factor minres (unweighted least squares) solution.

    Iterated principal axes: communalities start at the squared multiple
    correlations, the reduced matrix's first eigenpair gives loadings, their
    squares the next communalities, until they change by less than ``tol``;
    the fixed point minimizes the off-diagonal residuals (Harman 1976), the
    minres criterion of R psych ``fa(fm="minres")``. Communalities are kept
    at most 1; ``True`` is returned with the loadings when one reached it
    (a Heywood case).
    """
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            h2 = 1 - 1 / np.diag(np.linalg.inv(corr))
    except np.linalg.LinAlgError:
        h2 = None
    if h2 is None or not np.all(np.isfinite(h2)):
        # A singular or nearly singular matrix (e.g. two identical items) has no usable
        # squared multiple correlations: start from each item's largest correlation.
        h2 = np.abs(corr - np.eye(len(corr))).max(axis=0)
    loadings = np.sqrt(np.clip(h2, 0, 1))
    for _ in range(max_iter):
        reduced = corr.copy()
        np.fill_diagonal(reduced, h2)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        updated = np.minimum(loadings ** 2, 1.0)
        if np.max(np.abs(updated - h2)) < tol:
            h2 = updated
            break
        h2 = updated
    if loadings.sum() < 0:
        loadings = -loadings
    return loadings, bool((h2 >= 1 - 1e-9).any())


def _omega_from_corr(corr: np.ndarray) -> tuple[float, bool]:
    if not np.all(np.isfinite(corr)):
        return float("nan"), False  # an item without variance: no factor model
    loadings, heywood = _minres_one_factor(corr)
    common = loadings.sum() ** 2
    return float(common / (common + (1 - np.minimum(loadings ** 2, 1)).sum())), heywood


def omega_total(frame: pd.DataFrame, items: Sequence[str] | None = None, *, min_n: int = 3) -> float:
    r"""McDonald's omega total of a one-factor (congeneric) model of the items.

    .. math::

        \omega_t = \frac{(\sum_j \lambda_j)^2}{(\sum_j \lambda_j)^2 + \sum_j \psi_j}

    with standardized loadings :math:`\lambda_j` of a one-factor minres
    (unweighted least squares) solution of the correlation matrix and
    uniquenesses :math:`\psi_j = 1 - \lambda_j^2`. Unlike alpha it does
    not assume every item loads equally (tau-equivalence). Listwise deletion.

    Raises
    ------
    InsufficientData
        Fewer than 3 items (a one-factor model of two is not identified) or
        fewer than ``min_n`` complete respondents; constant items.

    References
    ----------
    McDonald, R. P. (1999). *Test Theory: A Unified Treatment*, ch. 6.
    Hayes, A. F., & Coutts, J. J. (2020). Use omega rather than Cronbach's
    alpha for estimating reliability. But... *Communication Methods and
    Measures*, 14(1), 1-24.

    Examples
    --------
    With loadings .8, .7 and .6 the population omega is
    2.1² / (2.1² + 0.36 + 0.51 + 0.64) = 0.745:

    >>> lam = np.array([.8, .7, .6])
    >>> corr = np.outer(lam, lam) + np.diag(1 - lam ** 2)
    >>> x = np.random.default_rng(0).multivariate_normal(np.zeros(3), corr, size=20000)
    >>> round(omega_total(pd.DataFrame(x, columns=["a", "b", "c"])), 2)  # a sample of 20,000
    0.74
    """
    items = list(frame.columns if items is None else items)
    check_columns(frame, items, "omega")
    require_n("omega total (items; a one-factor model needs 3)", len(items), 3)
    data = frame[items].astype("float64").dropna()
    require_n("omega total (respondents answering every item)", len(data), max(min_n, 2))
    if (data.std() == 0).any():
        raise UndefinedStatistic("omega total", "an item is constant")
    return _omega_from_corr(_correlations(np.cov(data.to_numpy(), rowvar=False, ddof=1)))[0]


def _correlations(cov: np.ndarray) -> np.ndarray:
    """The correlation matrix of a covariance matrix (as ``numpy.corrcoef``, clipped to [-1, 1])."""
    sd = np.sqrt(np.diag(cov))
    return np.clip(cov / sd[:, None] / sd[None, :], -1, 1)


@dataclass
class DimensionReliability:
    """Alpha of E, P and gap scores per dimension.

    Attributes
    ----------
    summary : ``dimension, score (E/P/gap), k, n, alpha, alpha_std, ci_low,
        ci_high, mean_r``, plus ``note`` for dimensions that could not be
        computed (too few items or cases) — those rows keep NaN statistics
        with the reason.
    items : item diagnostics with ``dimension`` and ``score`` columns.
    methods : how it was made.
    """

    summary: pd.DataFrame
    items: pd.DataFrame
    methods: Methods


def servqual_reliability(frame: pd.DataFrame, pairs: Mapping[str, tuple[str, str]],
                         dimensions: Mapping[str, Sequence[str]], *, confidence: float = 0.95,
                         min_n: int = 3) -> DimensionReliability:
    """Cronbach's alpha for expectations, perceptions and gaps of each dimension.

    Applies :func:`cronbach_alpha` to the E columns, the P columns and the
    gap scores ``P - E`` of each dimension (Parasuraman et al. 1988 report
    alpha for the gap scores; E and P alphas show whether a low gap alpha
    comes from either side). A dimension with one item or too few complete
    respondents keeps a row with the reason in ``note``.

    Examples
    --------
    >>> f = pd.DataFrame({"A_E": [6, 7, 5, 4.0], "A_P": [5, 6, 5, 3.0],
    ...                   "B_E": [7, 6, 5, 5.0], "B_P": [6, 6, 4, 3.0]})
    >>> rel = servqual_reliability(f, {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}, {"core": ["A", "B"]})
    >>> rel.summary[["score", "alpha"]].round(3).to_dict("list")
    {'score': ['E', 'P', 'gap'], 'alpha': [0.784, 0.905, 0.0]}
    """
    check_columns(frame, [c for ep in pairs.values() for c in ep], "SERVQUAL reliability")
    unknown = sorted({i for its in dimensions.values() for i in its} - set(pairs))
    if unknown:
        raise ValueError(f"SERVQUAL reliability: dimension item(s) not in pairs: {', '.join(unknown)}")
    rows, item_rows = [], []
    n_max = 0
    for dim, its in dimensions.items():
        # One dimension's E, P and gap blocks at a time: the three blocks of every
        # item at once held three more copies of the answers (0.5 GB at a million).
        e_block = pd.DataFrame({i: frame[pairs[i][0]] for i in its}, index=frame.index)
        p_block = pd.DataFrame({i: frame[pairs[i][1]] for i in its}, index=frame.index)
        scores = {"E": e_block, "P": p_block,
                  "gap": p_block.astype("float64", copy=False) - e_block.astype("float64", copy=False)}
        for score, data in scores.items():
            base = {"dimension": dim, "score": score, "k": len(its)}
            try:
                res = cronbach_alpha(data, list(its), confidence=confidence, min_n=min_n)
            except InsufficientData as exc:
                rows.append({**base, "n": int(data[list(its)].dropna().shape[0]), "alpha": np.nan,
                             "alpha_std": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                             "mean_r": np.nan, "note": str(exc)})
                continue
            n_max = max(n_max, res.n)
            rows.append({**base, **res.as_frame().drop(columns="k").iloc[0].to_dict(),
                         "note": "; ".join(res.methods.notes)})
            item_rows.append(res.items.assign(dimension=dim, score=score))
    summary = pd.DataFrame(rows)
    summary["n"] = summary["n"].astype(int)
    if summary["alpha"].isna().all():
        raise InsufficientData("SERVQUAL reliability (every dimension)", 0, min_n)
    methods = Methods(
        analysis="Cronbach's alpha of E, P and gap per dimension", n_used=n_max,
        missing="listwise within each dimension and score",
        formula="alpha = k/(k-1) * (1 - sum item variances / total variance)",
        test=f"Feldt (1965) {confidence:.0%} CI", reference=_ALPHA_REF)
    items_table = (pd.concat(item_rows, ignore_index=True)[["dimension", "score", "item", "mean", "sd",
                                                            "item_total_r", "alpha_if_deleted"]])
    return DimensionReliability(summary=summary, items=items_table, methods=methods)


@dataclass
class ConstructReliability:
    """Composite reliability and AVE of one construct.

    Attributes
    ----------
    cr : composite reliability (Fornell & Larcker 1981 rho_c).
    ave : average variance extracted.
    loadings : ``item, loading, uniqueness`` (standardized, one factor).
    n, k : respondents (listwise) and items.
    method : "ml" (maximum likelihood) or "pc" (first principal component).
    methods : how it was made.
    """

    cr: float
    ave: float
    loadings: pd.DataFrame
    n: int
    k: int
    method: str
    methods: Methods


def composite_reliability(frame: pd.DataFrame, items: Sequence[str], *, method: str = "ml",
                          min_n: int = 10) -> ConstructReliability:
    """Composite reliability and average variance extracted from standardized loadings.

    .. math::

        CR = \\frac{(\\sum_j \\lambda_j)^2}{(\\sum_j \\lambda_j)^2 + \\sum_j (1 - \\lambda_j^2)},
        \\qquad AVE = \\frac{1}{k}\\sum_j \\lambda_j^2

    Parameters
    ----------
    frame : DataFrame
    items : list of str
        The construct's items (at least 3: a one-factor model of two items
        is not identified).
    method : {"ml", "pc"}
        ``"ml"``: standardized loadings of a one-factor maximum-likelihood
        factor analysis of the correlation matrix (``statsmodels``
        ``Factor(method="ml")``) — the usual choice, close to a CFA's
        standardized solution. ``"pc"``: loadings of the first principal
        component of the correlation matrix (eigenvector x sqrt(eigenvalue));
        these overstate loadings and so CR and AVE.
    min_n : int
        Fewest complete respondents accepted.

    Notes
    -----
    Listwise deletion. Loadings are signed so that their sum is positive.
    A Heywood case (uniqueness below 0.005, i.e. a loading of about 1 or more) is kept
    and named in the notes: the one-factor model does not fit and CR/AVE
    should not be reported.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation
    models with unobservable variables and measurement error. *Journal of
    Marketing Research*, 18(1), 39-50.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=500)
    >>> df = pd.DataFrame({f"x{j}": 0.8 * f + 0.6 * rng.normal(size=500) for j in range(4)})
    >>> res = composite_reliability(df, list(df.columns))
    >>> round(res.ave, 1), round(res.cr, 1)
    (0.6, 0.9)
    """
    items = list(items)
    check_columns(frame, items, "composite reliability")
    if method not in ("ml", "pc"):
        raise ValueError(f"method must be 'ml' or 'pc', got {method!r}")
    require_n("composite reliability (items; a one-factor model needs 3)", len(items), 3)
    answers = complete_rows(frame, items)
    n, k = len(answers), len(items)
    require_n("composite reliability (respondents answering every item)", n, max(min_n, k + 1))
    # every row equal to the first: a constant item (one comparison pass, no variance rounding)
    const = [c for c, same in zip(items, (answers == answers[:1]).all(axis=0)) if same]
    if const:
        raise UndefinedStatistic("composite reliability", f"constant item(s) {', '.join(const)}")
    corr = np.corrcoef(answers, rowvar=False)
    del answers
    if method == "ml":
        from statsmodels.multivariate.factor import Factor

        with warnings.catch_warnings():
            # statsmodels warns when the ML optimizer hits a boundary; the
            # Heywood check below reports that case to the reader instead
            warnings.simplefilter("ignore")
            # a fixed seed: statsmodels draws random starting values, and the
            # same data must give the same report twice
            fitted = Factor(corr=corr, n_factor=1, method="ml", nobs=n).fit(rng=0)
        lam = np.asarray(fitted.loadings, dtype="float64")[:, 0]
        how = "one-factor maximum-likelihood factor analysis (statsmodels Factor, method='ml')"
    else:
        values, vectors = np.linalg.eigh(corr)
        lam = vectors[:, -1] * np.sqrt(values[-1])
        how = "first principal component of the correlation matrix"
    if lam.sum() < 0:
        lam = -lam
    uniq = 1 - lam ** 2
    s = lam.sum()
    cr = s ** 2 / (s ** 2 + uniq.sum())
    ave = float(np.mean(lam ** 2))
    notes = [f"standardized loadings from {how}"]
    # ML estimates pile up at the boundary near zero uniqueness, so anything
    # below 0.005 (a loading above ~0.9975) is treated as a Heywood case
    heywood = [i for i, u in zip(items, uniq) if u < 0.005]
    if heywood:
        notes.append(f"Heywood case (loading >= 1) for {', '.join(heywood)}: the one-factor model does "
                     "not fit; do not report CR/AVE")
    methods = Methods(analysis="Composite reliability and AVE", n_used=n, n_excluded=len(frame) - n,
                      missing="listwise", formula="CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); "
                      "AVE = mean(l^2)",
                      reference="Fornell, C., & Larcker, D. F. (1981). Journal of Marketing Research, "
                                "18(1), 39-50", notes=notes)
    loadings = pd.DataFrame({"item": items, "loading": lam, "uniqueness": uniq})
    return ConstructReliability(cr=float(cr), ave=ave, loadings=loadings, n=n, k=k, method=method,
                                methods=methods)
