"""Segments and trends: filtering the response frame and comparing groups.

:func:`apply_filter` cuts the frame by segment answers, submission dates
and survey versions, so every other analysis can run on a segment;
:func:`by_period` groups it by calendar period for trends;
:func:`compare_groups` tests whether a score differs across groups
(one-way ANOVA, Welch's ANOVA, Kruskal-Wallis) with effect sizes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.oneway import anova_oneway

from .common import InsufficientData, Methods, UndefinedStatistic, require_n
from .io import check_columns

__all__ = ["apply_filter", "by_period", "period_summary", "GroupComparison", "compare_groups",
           "pairwise_comparisons", "POSTHOC_COLUMNS"]


def _utc(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"{what}: {value!r} is not a date/time") from None
    # naive bounds are read as UTC, the zone of submitted_at
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def apply_filter(frame: pd.DataFrame, segments: Mapping[str, Sequence] | None = None, *,
                 start=None, end=None, versions: Sequence[int] | None = None,
                 time_col: str = "submitted_at") -> pd.DataFrame:
    """Keep the responses of a segment, a date range and survey versions.

    Parameters
    ----------
    segments : dict, optional
        ``{column: [accepted values]}``; a response is kept when every
        listed column holds one of its values (AND across columns, OR
        within a column). Missing answers never match.
    start, end : date-like, optional
        Keep ``start <= submitted_at < end`` (end exclusive, so
        ``start="2024-01-01", end="2024-02-01"`` is January). Naive dates are
        UTC. Responses without a submission time are dropped when a bound
        is given.
    versions : list of int, optional
        Keep these survey versions.

    Returns
    -------
    DataFrame
        The kept rows (a copy). ``attrs["filter"]`` records ``n_before``,
        ``n_after`` and a plain-text ``description`` for the methods section.

    Examples
    --------
    >>> f = pd.DataFrame({"branch": [1.0, 2.0, 1.0], "version": [1, 1, 2],
    ...                   "submitted_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03"], utc=True)})
    >>> apply_filter(f, {"branch": [1]}, end="2024-02-01").index.tolist()
    [0]
    """
    keep = pd.Series(True, index=frame.index)
    parts = []
    for col, values in (segments or {}).items():
        check_columns(frame, [col], "segment filter")
        values = list(values) if not isinstance(values, (str, bytes)) else [values]
        if not values:
            raise ValueError(f"segment filter: no values given for {col}")
        keep &= frame[col].isin(values)
        parts.append(f"{col} in {values}")
    if start is not None or end is not None:
        check_columns(frame, [time_col], "date filter")
        t = _utc_times(frame[time_col])
        lo = _utc(start, "start") if start is not None else None
        hi = _utc(end, "end") if end is not None else None
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError(f"date filter: start {lo} is not before end {hi}")
        if lo is not None:
            keep &= t >= lo
            parts.append(f"{time_col} >= {lo.isoformat()}")
        if hi is not None:
            keep &= t < hi
            parts.append(f"{time_col} < {hi.isoformat()}")
    if versions is not None:
        check_columns(frame, ["version"], "version filter")
        keep &= frame["version"].isin(list(versions))
        parts.append(f"version in {list(versions)}")
    out = frame[keep.to_numpy()].copy()
    out.attrs["filter"] = {"n_before": len(frame), "n_after": len(out),
                           "description": "; ".join(parts) if parts else "no filter"}
    return out


def _utc_times(values: pd.Series) -> pd.Series:
    """``pd.to_datetime(values, utc=True)``; times that carry a time zone already are only
    converted (``to_datetime`` walks a million of them as Timestamp objects)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values, utc=True)


def row_periods(frame: pd.DataFrame, freq: str = "W", time_col: str = "submitted_at") -> pd.Series:
    """The calendar period (UTC) of each row's ``time_col``, named ``period``: the groups of
    :func:`by_period` and :func:`period_summary`."""
    check_columns(frame, [time_col], "by_period")
    t = _utc_times(frame[time_col])
    # Period has no time zone: convert to UTC wall time first so a response
    # lands in the same week on every server
    return t.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period(freq).rename("period")


def by_period(frame: pd.DataFrame, freq: str = "W", *, time_col: str = "submitted_at"):
    """Group responses by calendar period of ``submitted_at`` (UTC).

    ``freq`` is a pandas period alias: "D", "W" (weeks ending Sunday), "M",
    "Q", "Y". Returns a ``DataFrameGroupBy`` keyed by ``pandas.Period``;
    responses without a submission time are left out. Any analysis can run
    per period: ``{p: servqual(g, ...) for p, g in by_period(frame, "M")}``.

    Examples
    --------
    >>> f = pd.DataFrame({"x": [1.0, 2, 3], "submitted_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-01-02", "2024-01-09"], utc=True)})
    >>> by_period(f, "W")["x"].mean().tolist()
    [1.5, 3.0]
    """
    return frame.groupby(row_periods(frame, freq, time_col), sort=True)


def period_summary(frame: pd.DataFrame, score: str, freq: str = "W", *,
                   time_col: str = "submitted_at", confidence: float = 0.95,
                   periods: pd.Series | None = None) -> pd.DataFrame:
    """Trend table of a score: ``period, n, mean, sd, ci_low, ci_high`` per period.

    The t interval needs two cases; periods with one response keep their
    mean and have no interval (``ci_low``/``ci_high`` NaN, ``note`` says so).
    ``periods`` are the rows' periods when already computed
    (:func:`row_periods` of the same frame, ``freq`` and ``time_col``), so
    several scores of one frame share them.

    Examples
    --------
    >>> f = pd.DataFrame({"score": [1.0, 3.0, 5.0], "submitted_at": pd.to_datetime(
    ...     ["2024-01-02", "2024-01-03", "2024-02-01"], utc=True)})
    >>> period_summary(f, "score", "M")[["n", "mean", "note"]].to_dict("records")
    [{'n': 2, 'mean': 2.0, 'note': ''}, {'n': 1, 'mean': 5.0, 'note': 'one response: no interval'}]
    """
    check_columns(frame, [score], "period summary")
    rows = []
    # Only the score column is grouped: grouping the frame would copy every
    # column of every period (seconds on a million respondents' scores).
    series = frame[score].astype("float64")
    if periods is None:
        periods = row_periods(frame, freq, time_col)
    elif len(periods) != len(frame):
        raise ValueError(f"periods has {len(periods)} entries for {len(frame)} rows")
    for period, x in series.groupby(periods, sort=True):
        x = x.dropna()
        n = len(x)
        if n == 0:
            continue
        mean = float(x.mean())
        row = {"period": period, "n": n, "mean": mean, "sd": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "note": "one response: no interval"}
        if n >= 2:
            sd = float(x.std(ddof=1))
            h = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
            row.update(sd=sd, ci_low=mean - h, ci_high=mean + h, note="")
        rows.append(row)
    if not rows:
        raise InsufficientData(f"period summary of {score}", 0, 1)
    return pd.DataFrame(rows)


@dataclass
class GroupComparison:
    """A score compared across groups.

    Attributes
    ----------
    groups : ``group, n, mean, sd, median`` for the groups tested.
    tests : rows "ANOVA", "Welch ANOVA", "Kruskal-Wallis" with ``statistic,
        df1, df2, p, effect_size, effect_name``.
    dropped : ``group, n`` of groups too small to test.
    methods : how it was made.
    posthoc : pairwise comparisons of the groups (:func:`pairwise_comparisons`):
        Tukey HSD after the ANOVA, Games-Howell after Welch's ANOVA and Dunn's
        test with Holm's correction after Kruskal-Wallis. Computed on first
        use and kept: the studentized-range p-values cost about 35 ms a pair
        (scipy's numerical integration), so a dashboard that shows only the
        omnibus tests does not pay for them.
    samples : the tested groups' scores, in ``groups`` order.
    """

    groups: pd.DataFrame
    tests: pd.DataFrame
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["group", "n"]))
    methods: Methods | None = None
    samples: list = field(default_factory=list, repr=False)
    _posthoc: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def posthoc(self) -> pd.DataFrame:
        if self._posthoc is None:
            self._posthoc = (pairwise_comparisons(self.samples, list(self.groups["group"]))
                             if len(self.samples) >= 2 else pd.DataFrame(columns=POSTHOC_COLUMNS))
        return self._posthoc


def compare_groups(frame: pd.DataFrame, score: str, group: str, *,
                   min_group_n: int = 2) -> GroupComparison:
    """One-way ANOVA, Welch's ANOVA and Kruskal-Wallis of a score across groups.

    .. math::

        F = \\frac{SS_B/(g-1)}{SS_W/(N-g)}, \\quad
        \\eta^2 = \\frac{SS_B}{SS_T}, \\quad
        \\varepsilon^2 = \\frac{H}{(N^2-1)/(N+1)} = \\frac{H}{N-1}

    Welch's F (unequal variances) from ``statsmodels.stats.oneway.anova_oneway``
    with ``use_var="unequal"``; ANOVA and Kruskal-Wallis (tie-corrected H)
    from ``scipy.stats``. The eta squared on the Welch row is the same
    descriptive eta squared.

    Parameters
    ----------
    score : str
        Numeric column (e.g. a respondent's SERVQUAL score).
    group : str
        Segment column; missing group values are left out.
    min_group_n : int, default 2
        Groups with fewer cases are dropped and listed in ``dropped`` (a
        variance needs two). At least two groups must remain.

    References
    ----------
    Fisher's one-way ANOVA; Welch, B. L. (1951). *Biometrika*, 38, 330-336;
    Kruskal, W. H., & Wallis, W. A. (1952). *JASA*, 47, 583-621;
    epsilon squared for H: Tomczak, M., & Tomczak, E. (2014). *Trends in
    Sport Sciences*, 1(21), 19-25.

    Examples
    --------
    >>> f = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "y": [1, 2, 3, 2, 5, 6, 5, 7.0]})
    >>> res = compare_groups(f, "y", "g")
    >>> round(float(res.tests.set_index("test").loc["ANOVA", "statistic"]), 2)
    35.53
    """
    check_columns(frame, [score, group], "group comparison")
    if not pd.api.types.is_numeric_dtype(frame[score]):
        raise ValueError(f"group comparison: score column {score} is not numeric")
    if min_group_n < 2:
        raise ValueError("min_group_n must be at least 2")
    data = frame[[group, score]].dropna()
    sizes = data.groupby(group, sort=True)[score].size()
    small = sizes[sizes < min_group_n]
    kept = sizes[sizes >= min_group_n]
    require_n(f"comparison of {score} across {group} (groups with at least {min_group_n} cases)",
              len(kept), 2)
    data = data[data[group].isin(kept.index)]
    samples = [data.loc[data[group] == g, score].to_numpy(dtype="float64") for g in kept.index]
    n_total = int(sum(len(s) for s in samples))
    k = len(samples)
    if all(np.ptp(s) == 0 for s in samples):
        raise UndefinedStatistic(f"comparison of {score} across {group}",
                                 f"{score} is constant within every group, so F is undefined")
    grand = np.concatenate(samples).mean()
    ss_b = sum(len(s) * (s.mean() - grand) ** 2 for s in samples)
    ss_t = sum(((s - grand) ** 2).sum() for s in samples)
    eta2 = ss_b / ss_t if ss_t > 0 else np.nan
    f_res = stats.f_oneway(*samples)
    welch = anova_oneway(samples, use_var="unequal", welch_correction=True)
    kw = kruskal_wallis(samples)
    tests = pd.DataFrame([
        {"test": "ANOVA", "statistic": float(f_res.statistic), "df1": float(k - 1),
         "df2": float(n_total - k), "p": float(f_res.pvalue), "effect_size": eta2,
         "effect_name": "eta squared"},
        {"test": "Welch ANOVA", "statistic": float(welch.statistic), "df1": float(welch.df[0]),
         "df2": float(welch.df[1]), "p": float(welch.pvalue), "effect_size": eta2,
         "effect_name": "eta squared"},
        {"test": "Kruskal-Wallis", "statistic": float(kw.statistic), "df1": float(k - 1),
         "df2": np.nan, "p": float(kw.pvalue), "effect_size": float(kw.statistic) / (n_total - 1),
         "effect_name": "epsilon squared"},
    ])
    groups = pd.DataFrame({"group": list(kept.index), "n": [len(s) for s in samples],
                           "mean": [s.mean() for s in samples], "sd": [s.std(ddof=1) for s in samples],
                           "median": [float(np.median(s)) for s in samples]})
    dropped = pd.DataFrame({"group": list(small.index), "n": small.to_numpy(dtype=int)})
    notes = []
    if len(small):
        notes.append(f"groups with fewer than {min_group_n} cases not compared: "
                     + ", ".join(f"{g} (n={n})" for g, n in small.items()))
    methods = Methods(analysis=f"{score} across {group}", n_used=n_total,
                      n_excluded=int(len(frame) - n_total),
                      missing="cases with a missing score or group left out",
                      formula="F = MS_between / MS_within; eta^2 = SS_between / SS_total; "
                              "epsilon^2 = H / (N - 1)",
                      test="one-way ANOVA; Welch's ANOVA (unequal variances); Kruskal-Wallis H "
                           "(tie-corrected)",
                      reference="Welch (1951) Biometrika 38; Kruskal & Wallis (1952) JASA 47; "
                                "Tomczak & Tomczak (2014) Trends in Sport Sciences 1(21)",
                      notes=notes)
    methods.test += ("; pairwise: Tukey HSD (after ANOVA), Games-Howell (after Welch's ANOVA), "
                     "Dunn's z with Holm's correction (after Kruskal-Wallis)")
    methods.reference += ("; Tukey (1949) Biometrics 5; Games & Howell (1976) J. Educ. Statist. 1; "
                          "Dunn (1964) Technometrics 6; Holm (1979) Scand. J. Statist. 6")
    return GroupComparison(groups=groups, tests=tests, dropped=dropped, methods=methods,
                           samples=samples)


@dataclass(frozen=True)
class KruskalWallis:
    """Kruskal-Wallis H (tie-corrected) and its chi-square p-value."""

    statistic: float
    pvalue: float


def kruskal_wallis(samples: Sequence[np.ndarray]) -> KruskalWallis:
    r"""Kruskal-Wallis H test of ``samples`` (two or more groups), ties given their mid-rank.

    .. math::

        H = \frac{\frac{12}{N(N+1)} \sum_i \frac{R_i^2}{n_i} - 3(N+1)}
                 {1 - \sum_g (t_g^3 - t_g) / (N^3 - N)}, \qquad p = P(\chi^2_{k-1} > H)

    with ``R_i`` the rank sum of group ``i`` and ``t_g`` the sizes of the
    groups of tied values: ``scipy.stats.kruskal``'s formula, term for term.
    The ranks are not sorted out of every value: the distinct values are found
    by hashing (``pandas.factorize``), each gets its mid-rank from the counts
    below it. Mid-ranks are multiples of 1/2 and every partial sum of a
    group's ranks stays below 2^53, so the rank sums are exact in any order
    of summation, as scipy's are.

    References
    ----------
    Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion
    variance analysis. *JASA*, 47, 583-621.

    Examples
    --------
    >>> res = kruskal_wallis([np.array([1.0, 1, 1]), np.array([2.0, 2, 2]), np.array([2.0, 2])])
    >>> ref = stats.kruskal([1, 1, 1], [2, 2, 2], [2, 2])
    >>> bool(np.isclose(res.statistic, ref.statistic)), bool(np.isclose(res.pvalue, ref.pvalue))
    (True, True)
    """
    if len(samples) < 2:
        raise ValueError("Kruskal-Wallis needs at least two groups")
    sizes = [len(sample) for sample in samples]
    if min(sizes) < 1:
        raise ValueError("Kruskal-Wallis: a group is empty")
    values = np.concatenate([np.asarray(sample, dtype="float64") for sample in samples])
    if np.isnan(values).any():
        raise ValueError("Kruskal-Wallis: missing values; drop them first")
    group = np.repeat(np.arange(len(samples)), sizes)
    codes, levels = pd.factorize(values, sort=True)
    tied = np.bincount(codes, minlength=len(levels)).astype("float64")
    midrank = np.cumsum(tied) - (tied - 1) / 2
    rank_sums = np.bincount(group, weights=midrank[codes], minlength=len(samples))
    total = sum(sizes)
    ties = 1 - np.sum(tied ** 3 - tied) / (total ** 3 - total)
    ssbn = sum(rank_sums[i] ** 2 / sizes[i] for i in range(len(samples)))
    h = (12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)) / ties
    return KruskalWallis(statistic=float(h), pvalue=float(stats.chi2.sf(h, len(samples) - 1)))


#: Columns of :attr:`GroupComparison.posthoc`.
POSTHOC_COLUMNS = ["method", "group_a", "group_b", "difference", "se", "statistic",
                   "p", "p_adjusted", "adjustment"]


def pairwise_comparisons(samples: Sequence[np.ndarray], labels: Sequence) -> pd.DataFrame:
    r"""Post-hoc pairwise tests of every pair of groups.

    * Tukey HSD (``scipy.stats.tukey_hsd``): difference of means over the
      pooled-variance standard error, p from the studentized range; the
      family-wise error is built in (``p`` = ``p_adjusted``).
    * Games-Howell: unequal variances, :math:`t = (\bar y_a - \bar y_b) /
      \sqrt{s_a^2/n_a + s_b^2/n_b}` with Welch-Satterthwaite df, p from the
      studentized range of :math:`\sqrt2\,|t|`.
    * Dunn (1964): :math:`z = (\bar R_a - \bar R_b) / \sqrt{(\tfrac{N(N+1)}{12}
      - \tfrac{\sum (t^3-t)}{12(N-1)})(1/n_a + 1/n_b)}` on the ranks of all
      cases (tie-corrected), two-sided normal p, Holm-adjusted across pairs.

    ``difference`` is mean a minus mean b (Tukey, Games-Howell) or mean
    rank a minus mean rank b (Dunn).

    References
    ----------
    Tukey, J. W. (1949). *Biometrics* 5, 99-114. Games, P. A. & Howell, J. F.
    (1976). *Journal of Educational Statistics* 1, 113-125. Dunn, O. J.
    (1964). *Technometrics* 6, 241-252. Holm, S. (1979). *Scand. J. Statist.* 6.

    Examples
    --------
    >>> a, b, c = np.array([1, 2, 3, 2.0]), np.array([5, 6, 5, 7.0]), np.array([2, 3, 2, 3.0])
    >>> t = pairwise_comparisons([a, b, c], ["a", "b", "c"])
    >>> t[t["method"] == "Tukey HSD"][["group_a", "group_b", "difference"]].to_dict("records")[0]
    {'group_a': 'a', 'group_b': 'b', 'difference': -3.75}
    """
    from itertools import combinations

    from .servqual import holm

    samples = [np.asarray(s, dtype="float64") for s in samples]
    k = len(samples)
    pairs = list(combinations(range(k), 2))
    rows = []
    tukey = stats.tukey_hsd(*samples)
    n_total = sum(s.size for s in samples)
    mse = sum(((s - s.mean()) ** 2).sum() for s in samples) / (n_total - k)
    for i, j in pairs:
        diff = samples[i].mean() - samples[j].mean()
        se = np.sqrt(mse * (1 / samples[i].size + 1 / samples[j].size))
        rows.append({"method": "Tukey HSD", "group_a": labels[i], "group_b": labels[j],
                     "difference": diff, "se": se, "statistic": diff / se if se > 0 else np.nan,
                     "p": float(tukey.pvalue[i, j]), "p_adjusted": float(tukey.pvalue[i, j]),
                     "adjustment": "studentized range"})
    for i, j in pairs:
        a, b = samples[i], samples[j]
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = np.sqrt(va + vb)
        diff = a.mean() - b.mean()
        if se > 0:
            t = diff / se
            df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
            p = float(stats.studentized_range.sf(np.sqrt(2) * abs(t), k, df))
        else:
            t, p = np.nan, np.nan
        rows.append({"method": "Games-Howell", "group_a": labels[i], "group_b": labels[j],
                     "difference": diff, "se": se, "statistic": t, "p": p, "p_adjusted": p,
                     "adjustment": "studentized range"})
    ranks = stats.rankdata(np.concatenate(samples))
    _, tie_sizes = np.unique(ranks, return_counts=True)
    ties = float((tie_sizes ** 3 - tie_sizes).sum())
    variance = n_total * (n_total + 1) / 12 - ties / (12 * (n_total - 1))
    bounds = np.cumsum([0] + [s.size for s in samples])
    mean_rank = [ranks[bounds[g]:bounds[g + 1]].mean() for g in range(k)]
    dunn = []
    for i, j in pairs:
        se = np.sqrt(variance * (1 / samples[i].size + 1 / samples[j].size))
        diff = mean_rank[i] - mean_rank[j]
        z = diff / se if se > 0 else np.nan
        dunn.append({"method": "Dunn", "group_a": labels[i], "group_b": labels[j],
                     "difference": diff, "se": se, "statistic": z,
                     "p": float(2 * stats.norm.sf(abs(z))) if se > 0 else np.nan,
                     "adjustment": "Holm"})
    p_raw = np.array([row["p"] for row in dunn])
    adjusted = np.full(len(dunn), np.nan)
    ok = np.isfinite(p_raw)
    if ok.any():
        adjusted[ok] = holm(p_raw[ok])
    for row, value in zip(dunn, adjusted):
        row["p_adjusted"] = float(value)
    return pd.DataFrame(rows + dunn, columns=POSTHOC_COLUMNS)

