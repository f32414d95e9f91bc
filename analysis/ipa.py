"""Importance-performance analysis (Martilla & James 1977).

Each attribute is placed by its importance (stated by respondents, or
derived from how strongly its performance goes with overall satisfaction)
against its performance (mean perception). The grid is split at the grand
means (or at the scale midpoint) into four quadrants:

==================  ====================  =========================
                    low performance       high performance
==================  ====================  =========================
high importance     concentrate here      keep up the good work
low importance      low priority          possible overkill
==================  ====================  =========================
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import statsmodels.api as sm

from .common import Methods, require_n
from .io import check_columns

__all__ = ["IPAResult", "ipa", "QUADRANTS"]

#: (high importance?, high performance?) -> label
QUADRANTS = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}
_REFERENCE = ("Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. Journal of "
              "Marketing, 41(1), 77-79; derived importance: Bacon, D. R. (2003). A comparison of "
              "approaches to importance-performance analysis. International Journal of Market "
              "Research, 45(1), 55-71")


@dataclass
class IPAResult:
    """Importance-performance grid.

    Attributes
    ----------
    table : one row per attribute: ``item, n, performance, importance,
        quadrant`` and, for derived importance, ``se, p`` (regression: HC3
        standard errors of the standardized coefficient) or ``p``
        (correlation).
    importance_split, performance_split : where the axes are cut.
    importance_type : "stated", "regression" or "correlation".
    r_squared : R² of the derived-importance regression (else ``None``).
    methods : how it was made.
    """

    table: pd.DataFrame
    importance_split: float
    performance_split: float
    importance_type: str
    r_squared: float | None
    methods: Methods


def ipa(frame: pd.DataFrame, performance: Mapping[str, str], *, importance: str = "stated",
        importance_cols: Mapping[str, str] | None = None, overall: str | None = None,
        split: str = "mean", midpoints: tuple[float, float] | None = None,
        min_n: int = 10) -> IPAResult:
    """Importance-performance analysis with stated or derived importance.

    Performance of attribute *j* is the mean perception :math:`\\bar P_j`.
    Importance is

    * ``"stated"``: the mean of the stated importance ratings :math:`\\bar I_j`;
    * ``"regression"``: the standardized coefficient :math:`\\beta_j` of the
      OLS regression of overall satisfaction on all attribute perceptions,
      :math:`z(Y) = \\sum_j \\beta_j z(P_j) + e` (statsmodels OLS; HC3 SEs);
    * ``"correlation"``: Pearson :math:`r(P_j, Y)`.

    A point is "high" on an axis when it is at or above the split.

    Parameters
    ----------
    frame : DataFrame
    performance : dict
        ``{item: perception column}``.
    importance : {"stated", "regression", "correlation"}
    importance_cols : dict
        ``{item: stated-importance column}``, required for "stated".
    overall : str
        Overall satisfaction column, required for derived importance.
    split : {"mean", "midpoint"}
        Cut the axes at the grand means of the plotted values (Martilla &
        James's data-centred grid) or at ``midpoints`` = (importance
        midpoint, performance midpoint), e.g. (4, 4) on 7-point scales.
        Derived importances are not on the rating scale, so a midpoint
        split is only allowed with stated importance.
    min_n : int
        Fewest respondents accepted (complete cases for derived importance).

    Notes
    -----
    Missing values: stated importance and performance use each item's
    answered cases (pairwise); derived importance uses respondents who
    answered the overall item and every attribute (listwise), and so does
    performance in that case, so both axes rest on the same people.
    Regression coefficients are sensitive to collinear attributes (Bacon
    2003); correlations are the robust alternative.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis.
    *Journal of Marketing*, 41(1), 77-79. Bacon, D. R. (2003). *International
    Journal of Market Research*, 45(1), 55-71.

    Examples
    --------
    >>> f = pd.DataFrame({"A_P": [6, 5, 6, 7.0], "B_P": [3, 4, 2, 3.0],
    ...                   "A_I": [4, 3, 4, 3.0], "B_I": [7, 6, 7, 6.0]})
    >>> res = ipa(f, {"A": "A_P", "B": "B_P"}, importance_cols={"A": "A_I", "B": "B_I"}, min_n=3)
    >>> res.table[["item", "quadrant"]].to_dict("records")
    [{'item': 'A', 'quadrant': 'possible overkill'}, {'item': 'B', 'quadrant': 'concentrate here'}]
    """
    if not performance:
        raise ValueError("IPA: performance is empty: give {item: perception column}")
    if importance not in ("stated", "regression", "correlation"):
        raise ValueError(f"importance must be 'stated', 'regression' or 'correlation', got {importance!r}")
    if split not in ("mean", "midpoint"):
        raise ValueError(f"split must be 'mean' or 'midpoint', got {split!r}")
    if split == "midpoint":
        if midpoints is None:
            raise ValueError("split='midpoint' needs midpoints=(importance midpoint, performance midpoint)")
        if importance != "stated":
            raise ValueError("a scale-midpoint split needs stated importance: derived importances "
                             "(coefficients, correlations) are not on the rating scale")
    items = list(performance)
    check_columns(frame, list(performance.values()), "IPA performance")
    notes: list[str] = []
    r_squared = None
    if importance == "stated":
        if importance_cols is None:
            raise ValueError("stated importance needs importance_cols={item: importance column}")
        absent = sorted(set(items) - set(importance_cols))
        if absent:
            raise ValueError(f"IPA: no importance column for item(s): {', '.join(absent)}")
        check_columns(frame, [importance_cols[i] for i in items], "IPA importance")
        rows = []
        for item in items:
            p = frame[performance[item]].astype("float64")
            imp = frame[importance_cols[item]].astype("float64")
            n = int(min(p.notna().sum(), imp.notna().sum()))
            require_n(f"IPA item {item} (answers)", n, min_n)
            rows.append({"item": item, "n": n, "n_importance": int(imp.notna().sum()),
                         "performance": float(p.mean()), "importance": float(imp.mean())})
        table = pd.DataFrame(rows)
        missing = "pairwise: each item's mean over the respondents who answered it"
        formula = "performance = mean P; importance = mean stated importance"
    else:
        if overall is None:
            raise ValueError(f"{importance} importance needs overall= (overall satisfaction column)")
        check_columns(frame, [overall], "IPA overall satisfaction")
        cols = [performance[i] for i in items]
        data = frame[cols + [overall]].astype("float64").dropna()
        n = len(data)
        need = max(min_n, len(items) + 2) if importance == "regression" else min_n
        require_n(f"IPA {importance} importance (respondents answering overall and every attribute)", n, need)
        sd = data.std(ddof=1)
        constant = list(sd.index[sd == 0])
        if constant:
            raise ValueError(f"IPA: constant column(s) {', '.join(constant)}: importance undefined")
        perf = data[cols].mean().to_numpy()
        if importance == "regression":
            z = (data - data.mean()) / sd  # only the regression reads z-scores
            fit = sm.OLS(z[overall], z[cols]).fit(cov_type="HC3")
            # no intercept: every variable is centred, so it would be 0
            table = pd.DataFrame({"item": items, "n": n, "performance": perf,
                                  "importance": fit.params[cols].to_numpy(),
                                  "se": fit.bse[cols].to_numpy(), "p": fit.pvalues[cols].to_numpy()})
            r_squared = float(fit.rsquared)
            formula = ("importance = standardized OLS coefficient of overall satisfaction on all "
                       "attribute perceptions (z-scores, HC3 SEs)")
            neg = [i for i, b in zip(items, table["importance"]) if b < 0]
            if neg:
                notes.append(f"negative coefficient(s) for {', '.join(neg)}: likely collinearity; "
                             "consider importance='correlation'")
        else:
            from scipy import stats

            rs = [stats.pearsonr(data[c], data[overall]) for c in cols]
            table = pd.DataFrame({"item": items, "n": n, "performance": perf,
                                  "importance": [float(r.statistic) for r in rs],
                                  "p": [float(r.pvalue) for r in rs]})
            formula = "importance = Pearson correlation of attribute perception with overall satisfaction"
        missing = "listwise: respondents answering the overall item and every attribute"
    if split == "mean":
        imp_split, perf_split = float(table["importance"].mean()), float(table["performance"].mean())
        notes.append("axes split at the grand means of importance and performance")
    else:
        imp_split, perf_split = float(midpoints[0]), float(midpoints[1])
        notes.append(f"axes split at the scale midpoints (importance {imp_split:g}, performance {perf_split:g})")
    high_i = table["importance"] >= imp_split
    high_p = table["performance"] >= perf_split
    table["quadrant"] = [QUADRANTS[(bool(a), bool(b))] for a, b in zip(high_i, high_p)]
    methods = Methods(analysis=f"Importance-performance analysis ({importance} importance)",
                      n_used=int(table["n"].max()), missing=missing, formula=formula,
                      reference=_REFERENCE, notes=notes)
    return IPAResult(table=table, importance_split=imp_split, performance_split=perf_split,
                     importance_type=importance, r_squared=r_squared, methods=methods)
