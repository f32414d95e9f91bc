"""Sufficient statistics of survey answers: sums that add up, statistics that follow from them.

Most of what a dashboard shows depends on the data only through counts,
sums and cross-products: means and SDs, SERVQUAL gaps with their t test and
CI, ratios of means, correlations, Cronbach's alpha, OLS coefficients,
one-way ANOVA. Those sums can be kept per survey cell and *updated* as
responses arrive (add a response: add its row's products; delete one:
subtract them), and cells can be merged by adding (a filter on segments is
the sum of the matching cells). This module holds the sums
(:class:`Moments`) and computes the statistics from them, to the same
values as the computation on the raw rows (tests pin 1e-9).

Missing answers are handled *pairwise*, as the gap tests do: for every pair
of columns ``(i, j)`` the sums run over the rows where both are answered.
With ``M`` the 0/1 matrix of answered cells and ``X0`` the answers with
missing set to 0 (rows are respondents)::

    n   = Mᵀ M             n[i, j]   = rows with i and j answered
    sx  = X0ᵀ M            sx[i, j]  = Σ x_i over those rows
    sxx = (X0∘X0)ᵀ M       sxx[i, j] = Σ x_i² over those rows
    sxy = X0ᵀ X0           sxy[i, j] = Σ x_i x_j over those rows

so a block of p columns costs 4 p² numbers whatever the number of rows, and
building it from n rows is four matrix products (BLAS). Statistics that need
complete cases on a set of columns (alpha, OLS) take moments built from the
rows complete on that set (:meth:`Moments.from_frame` with ``complete=True``).
A PLS path model's fit needs only the complete-case covariance matrix and
means of its items (:mod:`analysis.pls` works on that matrix), so it too can
be fitted from complete-row moments. Statistics that need ranks or
resampling (medians, Wilcoxon, Kruskal-Wallis, bootstrap CIs, HC3 standard
errors, respondent scores) cannot be kept this way and run on the raw rows.

References
----------
Chan, T. F., Golub, G. H., & LeVeque, R. J. (1979). Updating formulae and a
pairwise algorithm for computing sample variances. Stanford CS-TR-79-773
(merging sums of disjoint samples). Cronbach, L. J. (1951). Coefficient
alpha and the internal structure of tests. *Psychometrika*, 16, 297-334.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .common import InsufficientData, require_n

__all__ = ["Moments", "describe", "paired_gaps", "correlations", "cronbach_alpha", "ols", "anova_oneway"]


@dataclass
class Moments:
    """Pairwise sums of a block of columns (see the module docstring).

    Attributes
    ----------
    columns : tuple of str
        The columns, in the order of the matrices' rows and columns.
    n, sx, sxx, sxy : numpy.ndarray, shape (p, p)
        Pairwise counts and sums.

    Examples
    --------
    >>> frame = pd.DataFrame({"E": [7, 6, 7, 5], "P": [5, 6, np.nan, 4]})
    >>> m = Moments.from_frame(frame)
    >>> int(m.n[0, 1]), float(m.sx[1, 0] - m.sx[0, 1])   # pairs, sum of P - E over them
    (3, -3.0)
    >>> both = Moments.from_frame(frame.iloc[:2]) + Moments.from_frame(frame.iloc[2:])
    >>> bool(np.allclose(both.sxy, m.sxy))
    True
    """

    columns: tuple[str, ...]
    n: np.ndarray
    sx: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray

    @classmethod
    def empty(cls, columns: Sequence[str]) -> "Moments":
        p = len(columns)
        return cls(tuple(columns), *(np.zeros((p, p)) for _ in range(4)))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, columns: Sequence[str] | None = None, *,
                   complete: bool = False) -> "Moments":
        """The moments of ``frame[columns]`` (NaN = missing).

        ``complete=True`` keeps only rows answered on every column (listwise),
        as alpha and OLS need.
        """
        columns = tuple(frame.columns if columns is None else columns)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"moments: no column(s) {', '.join(map(str, missing))}")
        values = frame.loc[:, list(columns)].to_numpy(dtype="float64", copy=True)
        if complete:
            values = values[~np.isnan(values).any(axis=1)]
        return cls.from_array(values, columns)

    @classmethod
    def from_array(cls, values: np.ndarray, columns: Sequence[str]) -> "Moments":
        values = np.atleast_2d(np.asarray(values, dtype="float64"))
        if values.shape[1] != len(columns):
            raise ValueError(f"moments: {values.shape[1]} values per row for {len(columns)} columns")
        answered = ~np.isnan(values)
        mask = answered.astype("float64")
        x0 = np.where(answered, values, 0.0)
        return cls(tuple(columns), mask.T @ mask, x0.T @ mask, (x0 * x0).T @ mask, x0.T @ x0)

    def _check(self, other: "Moments") -> None:
        if other.columns != self.columns:
            raise ValueError("moments of different columns cannot be combined")

    def __add__(self, other: "Moments") -> "Moments":
        self._check(other)
        return Moments(self.columns, self.n + other.n, self.sx + other.sx, self.sxx + other.sxx,
                       self.sxy + other.sxy)

    def __sub__(self, other: "Moments") -> "Moments":
        self._check(other)
        return Moments(self.columns, self.n - other.n, self.sx - other.sx, self.sxx - other.sxx,
                       self.sxy - other.sxy)

    def index(self, column: str) -> int:
        try:
            return self.columns.index(column)
        except ValueError:
            raise KeyError(f"moments: no column {column!r}") from None

    def to_bytes(self) -> bytes:
        """A compact, portable form for storage (``numpy.savez``, float64 little-endian)."""
        buffer = io.BytesIO()
        np.savez(buffer, columns=np.array(self.columns, dtype=str), n=self.n, sx=self.sx,
                 sxx=self.sxx, sxy=self.sxy)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Moments":
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return cls(tuple(str(c) for c in stored["columns"]), stored["n"], stored["sx"],
                       stored["sxx"], stored["sxy"])


def describe(moments: Moments) -> pd.DataFrame:
    """Per column: ``n``, ``mean``, ``sd`` (n - 1 denominator), ``sum``.

    Examples
    --------
    >>> describe(Moments.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan]})))
      variable  n  mean   sd  sum
    0        x  3   2.0  1.0  6.0
    """
    n = np.diag(moments.n)
    total = np.diag(moments.sx)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        variance = np.where(n > 1, (np.diag(moments.sxx) - total * mean) / (n - 1), np.nan)
    return pd.DataFrame({"variable": list(moments.columns), "n": n.astype(int), "mean": mean,
                         "sd": np.sqrt(np.clip(variance, 0, None)), "sum": total})


def paired_gaps(moments: Moments, pairs: Mapping[str, tuple[str, str]],
                confidence: float = 0.95) -> pd.DataFrame:
    """The gap ``P - E`` of each item from moments: what :func:`analysis.servqual.paired_gap_test`
    reports for the t test, over the pairs where both are answered.

    .. math::

        n = n_{EP},\\quad \\sum d = S_{P|E} - S_{E|P},\\quad
        \\sum d^2 = Q_{P|E} + Q_{E|P} - 2\\,C_{EP},\\quad
        t = \\bar d / (s_d/\\sqrt n)

    with ``S_{P|E}`` the sum of P over rows where E is answered too (``sx``),
    ``Q`` the sums of squares (``sxx``) and ``C`` the cross-products.

    Returns
    -------
    DataFrame
        ``item, n, mean_E, mean_P, mean_gap, sd_gap, se_gap, ci_low, ci_high, t, df,
        p_t, d_z, ratio_of_means``; ``ratio_of_means`` is mean(P) / mean(E) (seed 004).

    Examples
    --------
    >>> frame = pd.DataFrame({"E": [5, 6, 7, 6, 5], "P": [4, 6, 5, 5, 3]})
    >>> row = paired_gaps(Moments.from_frame(frame), {"Q1": ("E", "P")}).iloc[0]
    >>> round(float(row["mean_gap"]), 2), round(float(row["t"]), 3)
    (-1.2, -3.207)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    rows = []
    for item, (e_col, p_col) in pairs.items():
        e, p = moments.index(e_col), moments.index(p_col)
        n = moments.n[e, p]
        sum_e, sum_p = moments.sx[e, p], moments.sx[p, e]
        sum_d = sum_p - sum_e
        sum_d2 = moments.sxx[p, e] + moments.sxx[e, p] - 2 * moments.sxy[e, p]
        row = {"item": item, "n": int(n), "mean_E": np.nan, "mean_P": np.nan, "mean_gap": np.nan,
               "sd_gap": np.nan, "se_gap": np.nan, "ci_low": np.nan, "ci_high": np.nan, "t": np.nan,
               "df": np.nan, "p_t": np.nan, "d_z": np.nan, "ratio_of_means": np.nan}
        if n > 0:
            row.update(mean_E=sum_e / n, mean_P=sum_p / n, mean_gap=sum_d / n,
                       ratio_of_means=sum_p / sum_e if sum_e > 0 else np.nan)
        if n > 1:
            sd = float(np.sqrt(max(sum_d2 - sum_d * sum_d / n, 0.0) / (n - 1)))
            se = sd / np.sqrt(n)
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se
            row.update(sd_gap=sd, se_gap=se, ci_low=row["mean_gap"] - half, ci_high=row["mean_gap"] + half,
                       df=n - 1)
            if sd > 0:
                t = row["mean_gap"] / se
                row.update(t=t, p_t=2 * stats.t.sf(abs(t), n - 1), d_z=row["mean_gap"] / sd)
        rows.append(row)
    return pd.DataFrame(rows)


def correlations(moments: Moments) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson correlations on pairwise-complete rows, and their n.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 4, 5, 9], "c": [1, np.nan, 0, 1]})
    >>> r, n = correlations(Moments.from_frame(frame))
    >>> bool(np.isclose(r.loc["a", "b"], frame["a"].corr(frame["b"]))), int(n.loc["a", "c"])
    (True, 3)
    """
    n, sx, sxx, sxy = moments.n, moments.sx, moments.sxx, moments.sxy
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = n * sxy - sx * sx.T
        var_i = n * sxx - sx * sx
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
    r = np.where(n > 1, r, np.nan)
    labels = list(moments.columns)
    return (pd.DataFrame(np.clip(r, -1, 1), index=labels, columns=labels),
            pd.DataFrame(n.astype(int), index=labels, columns=labels))


def _complete_covariance(moments: Moments, what: str) -> tuple[int, np.ndarray, np.ndarray]:
    """n, means and covariance matrix of moments built from complete rows (listwise)."""
    n_values = np.unique(moments.n)
    if len(n_values) != 1:
        raise ValueError(f"{what}: build the moments with complete=True (listwise rows)")
    n = int(n_values[0])
    mean = np.diag(moments.sx) / n if n else np.full(len(moments.columns), np.nan)
    cov = (moments.sxy - n * np.outer(mean, mean)) / (n - 1) if n > 1 else None
    return n, mean, cov


def cronbach_alpha(moments: Moments) -> dict:
    """Cronbach's alpha of the columns, from moments of the rows complete on all of them.

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_i s_i^2}{s_T^2}\\right)

    Examples
    --------
    >>> items = pd.DataFrame({"a": [3, 4, 5, 2, 4], "b": [3, 5, 4, 2, 4], "c": [2, 4, 5, 3, 5]})
    >>> round(float(cronbach_alpha(Moments.from_frame(items, complete=True))["alpha"]), 4)
    0.8857
    """
    k = len(moments.columns)
    if k < 2:
        raise ValueError("Cronbach's alpha needs at least two items")
    n, _mean, cov = _complete_covariance(moments, "Cronbach's alpha")
    require_n("Cronbach's alpha", n, 2)
    total = cov.sum()
    if total <= 0:
        raise InsufficientData("Cronbach's alpha (no variance in the total score)", n, 2)
    return {"alpha": float(k / (k - 1) * (1 - np.trace(cov) / total)), "n": n, "k": k}


def ols(moments: Moments, outcome: str, predictors: Sequence[str]) -> dict:
    """OLS of ``outcome`` on ``predictors`` (with an intercept) from complete-row moments.

    Returns the coefficients (intercept first), their classical standard
    errors, R² and n. Robust (HC3) standard errors need the rows: see
    :mod:`analysis.relationship`.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": [1.0, 3.0, 2.0, 5.0, 4.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> fit = ols(Moments.from_frame(frame, complete=True), "y", ["x"])
    >>> [round(b, 3) for b in fit["coef"]], round(fit["r2"], 3)
    ([0.6, 0.8], 0.64)
    """
    order = [moments.index(c) for c in [*predictors, outcome]]
    n, mean, cov = _complete_covariance(moments, "OLS")
    k = len(predictors)
    require_n("OLS", n, k + 2)
    sub = cov[np.ix_(order, order)]
    sxx, sxy, syy = sub[:k, :k], sub[:k, k], sub[k, k]
    slopes = np.linalg.solve(sxx, sxy)
    means = mean[order]
    intercept = means[k] - slopes @ means[:k]
    explained = slopes @ sxy
    residual_var = (syy - explained) * (n - 1) / (n - k - 1)
    inverse = np.linalg.inv(sxx * (n - 1))
    se_slopes = np.sqrt(np.diag(inverse) * residual_var)
    se_intercept = np.sqrt(residual_var * (1 / n + means[:k] @ inverse @ means[:k]))
    return {"coef": [float(intercept), *map(float, slopes)],
            "se": [float(se_intercept), *map(float, se_slopes)],
            "r2": float(explained / syy) if syy > 0 else np.nan, "n": n,
            "names": ["intercept", *predictors]}


def anova_oneway(groups: pd.DataFrame) -> dict:
    """Classic and Welch one-way ANOVA from per-group ``n``, ``sum`` and ``sumsq``.

    Examples
    --------
    >>> data = {"a": [4.0, 5, 6], "b": [6.0, 7, 8, 9], "c": [5.0, 5, 6]}
    >>> groups = pd.DataFrame([{"group": g, "n": len(v), "sum": sum(v), "sumsq": sum(x * x for x in v)}
    ...                        for g, v in data.items()])
    >>> bool(np.isclose(anova_oneway(groups)["F"], stats.f_oneway(*data.values()).statistic))
    True
    """
    used = groups[groups["n"] >= 2]
    if len(used) < 2:
        raise InsufficientData("one-way ANOVA (groups with 2+ cases)", len(used), 2)
    n = used["n"].to_numpy(float)
    mean = used["sum"].to_numpy(float) / n
    ss_within = float((used["sumsq"].to_numpy(float) - n * mean ** 2).sum())
    grand = used["sum"].sum() / n.sum()
    ss_between = float((n * (mean - grand) ** 2).sum())
    k, total = len(used), n.sum()
    df_b, df_w = k - 1, total - k
    f = (ss_between / df_b) / (ss_within / df_w) if ss_within > 0 else np.nan
    variance = (used["sumsq"].to_numpy(float) - n * mean ** 2) / (n - 1)
    result = {"F": float(f), "df_between": df_b, "df_within": df_w,
              "p": float(stats.f.sf(f, df_b, df_w)) if np.isfinite(f) else np.nan}
    with np.errstate(divide="ignore", invalid="ignore"):
        # Welch (1951): weights n/s², weighted mean, and the corrected denominator.
        w = n / variance
        mean_w = (w * mean).sum() / w.sum()
        lam = (((1 - w / w.sum()) ** 2) / (n - 1)).sum()
        f_welch = ((w * (mean - mean_w) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) / (k ** 2 - 1) * lam)
        df2 = (k ** 2 - 1) / (3 * lam)
    result.update(F_welch=float(f_welch), df_welch=float(df2),
                  p_welch=float(stats.f.sf(f_welch, k - 1, df2)) if np.isfinite(f_welch) else np.nan)
    return result
