"""Per-customer scores for recovery cases, the churn early warning (流失预警) and recovery outcomes.

Three pieces, each DataFrame in, DataFrame (or dataclass) out:

* :func:`customer_scores`: the scores the unhappiness rule
  (:mod:`analysis.followup`) reads, computed row by row, so that one new
  response is scored on its own and data-quality screening never drops a
  customer (screening flags are reported beside, never used to exclude).
* :func:`churn_risk`: a documented equal-weight index of the relationship
  answers, and :func:`churn_check`, its ranking checked against stated
  repurchase intention with a cross-validated logistic regression beside it.
* :func:`recovery_summary`: how the loop performs (contact within SLA,
  time to first contact, resolution, root causes, satisfaction before vs
  after recovery).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .common import Methods
from .instruments import Codebook
from .relationship import construct_scores
from .report import EMOTIONS, RELATIONSHIP, SERVQUAL, construct_columns, ep_pairs, pair_dimensions
from .satisfaction import satisfaction_ratio
from .servqual import gap_scores

#: Relationship constructs of the churn index: construct -> whether a HIGH score means risk.
CHURN_CONSTRUCTS: dict[str, bool] = {
    "repurchase": False,
    "commitment_affective": False,
    "trust_firm": False,
    "satisfaction_cumulative": False,
    "negative_emotion": True,
}
#: Risk bands of the churn index (lower bounds): below 1/3 low, below 1/2 medium, else high.
CHURN_BANDS = ((0.5, "high"), (1 / 3, "medium"), (0.0, "low"))


def _rating_range(codebook: Codebook, columns: Sequence[str]) -> tuple[float, float]:
    lows = [codebook[c].scale["min"] for c in columns]
    highs = [codebook[c].scale["max"] for c in columns]
    return float(min(lows)), float(max(highs))


def customer_scores(frame: pd.DataFrame, codebook: Codebook, *,
                    relationship: bool = True) -> pd.DataFrame:
    """Every customer's scores for the unhappiness rule and the churn index.

    Parameters
    ----------
    frame : the response frame (``response_id`` and codebook columns).
    codebook : its variables.
    relationship : also the relationship constructs (the churn index needs them;
        the unhappiness rule does not, so one response can be judged cheaply first).

    Returns
    -------
    DataFrame, one row per input row: ``response_id``; ``overall`` (the
    stated overall satisfaction item, 1-10); ``ratio`` (sum P / sum E of the
    SERVQUAL pairs, :func:`analysis.satisfaction.satisfaction_ratio`);
    ``gap`` (mean over SERVQUAL dimensions of the mean P - E); the
    relationship and emotion construct means (``negative_emotion`` among
    them; their scale ranges come from :func:`construct_ranges`). Missing
    where the survey lacks the items.

    Examples
    --------
    >>> from analysis.instruments import DEFAULT_DIR, compose_codebook, load_instruments
    >>> cb = compose_codebook([(load_instruments(DEFAULT_DIR)["overall"], None)])
    >>> f = pd.DataFrame({"response_id": [7], "OV01_E": [8.0], "OV01_P": [4.0], "OVS1": [3.0]})
    >>> customer_scores(f, cb)[["response_id", "overall"]].to_dict("records")
    [{'response_id': 7, 'overall': 3.0}]
    """
    if "response_id" not in frame:
        raise ValueError("the frame needs a 'response_id' column")
    table = pd.DataFrame({"response_id": frame["response_id"].to_numpy()})
    overall = [v.name for v in codebook if v.dimension == "overall_satisfaction" and v.name in frame]
    table["overall"] = (frame[overall].mean(axis=1).to_numpy() if overall else np.nan)
    pairs = {item: cols for item, cols in ep_pairs(codebook, SERVQUAL).items()
             if cols[0] in frame and cols[1] in frame} if codebook.select(instrument=SERVQUAL) else {}
    table["ratio"] = np.nan
    table["gap"] = np.nan
    if pairs and frame[[c for cols in pairs.values() for c in cols]].notna().any(axis=None):
        dims = pair_dimensions(codebook, pairs)
        ratio = satisfaction_ratio(frame, pairs, dims, min_n=1).respondents.set_index("response_id")
        table["ratio"] = ratio["ratio"].reindex(table["response_id"]).to_numpy()
        gaps = gap_scores(frame, pairs)
        by_dimension = pd.DataFrame({dim: gaps[items].mean(axis=1) for dim, items in dims.items()})
        table["gap"] = by_dimension.mean(axis=1).to_numpy()
    for instrument in ((RELATIONSHIP, EMOTIONS) if relationship else (EMOTIONS,)):
        columns = {name: [c for c in cols if c in frame]
                   for name, cols in construct_columns(codebook, instrument).items()}
        columns = {name: cols for name, cols in columns.items() if cols}
        if not columns or not len(frame):
            continue
        scores = construct_scores(frame, columns, min_items=1)
        for name in scores.columns:
            column = f"{name}_emotion" if instrument == EMOTIONS else name
            table[column] = scores[name].to_numpy()
    return table


def construct_ranges(codebook: Codebook) -> dict[str, tuple[float, float]]:
    """The scale range of every construct :func:`customer_scores` reports (for the churn index)."""
    ranges: dict[str, tuple[float, float]] = {}
    for instrument in (RELATIONSHIP, EMOTIONS):
        for name, cols in construct_columns(codebook, instrument).items():
            key = f"{name}_emotion" if instrument == EMOTIONS else name
            ranges[key] = _rating_range(codebook, cols)
    return ranges


def churn_risk(scores: pd.DataFrame, ranges: Mapping[str, tuple[float, float]],
               constructs: Mapping[str, bool] = CHURN_CONSTRUCTS) -> pd.DataFrame:
    """Churn early-warning index (流失预警): the mean of the rescaled relationship risks.

    Each construct score x on its scale [lo, hi] becomes a risk in [0, 1]:
    ``(hi - x) / (hi - lo)`` for constructs that keep customers (repurchase
    intention, affective commitment, trust, satisfaction) and
    ``(x - lo) / (hi - lo)`` for negative emotion. The index is their mean
    over the constructs the customer answered, with equal weights: unit
    weights rank about as well as fitted ones out of sample and do not
    overfit one survey (Dawes 1979, "The robust beauty of improper linear
    models", American Psychologist 34(7); Wainer 1976). The choice of
    constructs follows the commitment-trust theory (Morgan & Hunt 1994,
    Journal of Marketing 58(3)) and the background texts' 流失预警.
    :func:`churn_check` measures how well such an index ranks customers by
    stated repurchase intention on real data.

    Bands: ``high`` at 0.5 or more, ``medium`` from 1/3, else ``low``.

    Returns
    -------
    DataFrame: ``response_id``, ``churn_risk`` (NaN without any construct),
    ``churn_band``, ``churn_n`` (constructs used).

    Examples
    --------
    >>> s = pd.DataFrame({"response_id": [1, 2], "repurchase": [1.0, 7.0],
    ...                   "negative_emotion": [6.0, 1.0]})
    >>> r = churn_risk(s, {"repurchase": (1, 7), "negative_emotion": (1, 7)})
    >>> r["churn_risk"].round(3).tolist(), r["churn_band"].tolist()
    ([0.917, 0.0], ['high', 'low'])
    """
    risks = {}
    for name, high_is_risk in constructs.items():
        if name not in scores or name not in ranges:
            continue
        lo, hi = ranges[name]
        if hi <= lo:
            raise ValueError(f"the scale of {name!r} is empty: {lo}..{hi}")
        x = pd.to_numeric(scores[name], errors="coerce").astype(float)
        risks[name] = (x - lo) / (hi - lo) if high_is_risk else (hi - x) / (hi - lo)
    table = pd.DataFrame({"response_id": scores["response_id"].to_numpy()})
    if risks:
        matrix = pd.DataFrame(risks).clip(0, 1)
        table["churn_risk"] = matrix.mean(axis=1).to_numpy()
        table["churn_n"] = matrix.notna().sum(axis=1).to_numpy()
    else:
        table["churn_risk"] = np.nan
        table["churn_n"] = 0
    table["churn_band"] = [churn_band(value) for value in table["churn_risk"]]
    return table


def churn_band(risk: float | None) -> str | None:
    """The band of a churn index value (None when unknown)."""
    if risk is None or not np.isfinite(risk):
        return None
    for lower, band in CHURN_BANDS:
        if risk >= lower:
            return band
    return "low"


@dataclass(frozen=True)
class ChurnCheck:
    """How well the churn index ranks customers who say they will not come back.

    auc_index : ROC AUC of the equal-weight index for "low intention" (no fitting).
    auc_logistic_cv : cross-validated ROC AUC of a logistic regression on the same constructs.
    n, n_low : customers used and how many stated low intention.
    methods : how it was made.
    """

    auc_index: float
    auc_logistic_cv: float
    n: int
    n_low: int
    methods: Methods


def churn_check(frame: pd.DataFrame, predictors: Mapping[str, Sequence[str]],
                ranges: Mapping[str, tuple[float, float]], high_is_risk: Mapping[str, bool],
                intention: str, low_at_most: float, *, folds: int = 5,
                seed: int = 0) -> ChurnCheck:
    """Check the churn index's ranking against stated repurchase intention.

    The target is "low intention" (``intention`` at most ``low_at_most``);
    the intention item itself is not among the predictors. The index
    (:func:`churn_risk` on the predictor construct means) is compared by
    ROC AUC with a logistic regression of the same target on the same
    constructs, scored by stratified ``folds``-fold cross-validation
    (scikit-learn ``cross_val_predict``), so the fitted model's advantage
    is measured out of sample.

    Examples
    --------
    >>> f = pd.DataFrame({"S": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 3,
    ...                   "L": [1, 3, 2, 5, 4, 7, 6, 9, 8, 10] * 3})
    >>> c = churn_check(f, {"sat": ["S"]}, {"sat": (1, 10)}, {"sat": False}, "L", 4, folds=3)
    >>> round(c.auc_index, 2), c.n_low  # 23 of 24 low-high pairs ranked right
    (0.96, 12)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    columns = [c for cols in predictors.values() for c in cols]
    missing = [c for c in [*columns, intention] if c not in frame]
    if missing:
        raise ValueError(f"columns not in the frame: {missing}")
    if intention in columns:
        raise ValueError("the intention item must not be a predictor")
    data = frame.dropna(subset=[*columns, intention])
    means = pd.DataFrame({name: data[list(cols)].astype(float).mean(axis=1)
                          for name, cols in predictors.items()})
    means.insert(0, "response_id", np.arange(len(data)))
    low = (data[intention].to_numpy(dtype=float) <= low_at_most).astype(int)
    if low.sum() < folds or (len(low) - low.sum()) < folds:
        raise ValueError(f"too few customers on one side of the intention cut ({low.sum()} low)")
    index = churn_risk(means, ranges, high_is_risk)["churn_risk"].to_numpy()
    model = LogisticRegression(max_iter=1000)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(model, means[list(predictors)].to_numpy(), low, cv=splitter,
                                  method="predict_proba")[:, 1]
    return ChurnCheck(
        auc_index=float(roc_auc_score(low, index)),
        auc_logistic_cv=float(roc_auc_score(low, predicted)), n=int(len(low)), n_low=int(low.sum()),
        methods=Methods(analysis="churn index check", n_used=int(len(low)),
                        missing="customers missing a predictor or the intention item are left out",
                        formula=f"target: {intention} <= {low_at_most}; AUC of the equal-weight index "
                                f"vs {folds}-fold cross-validated logistic regression",
                        reference="Dawes (1979) American Psychologist 34(7); Hanley & McNeil (1982)"))


@dataclass(frozen=True)
class RecoverySummary:
    """How the recovery loop performs.

    opened : cases opened.
    contacted_within_sla : share of cases first contacted before their due time (of all opened).
    median_hours_to_contact : median hours from opening to first contact (contacted cases).
    resolved_share : share of cases resolved (closed as unreachable is not resolved).
    root_causes : DataFrame ``root_cause, cases`` of resolved cases, most frequent first.
    before_after : DataFrame ``case_id, before, after``: overall satisfaction at the
        response and satisfaction with the recovery (both 1-10), for answered re-surveys.
    """

    opened: int
    contacted_within_sla: float | None
    median_hours_to_contact: float | None
    resolved_share: float | None
    root_causes: pd.DataFrame
    before_after: pd.DataFrame

    @property
    def mean_before(self) -> float | None:
        return float(self.before_after["before"].mean()) if len(self.before_after) else None

    @property
    def mean_after(self) -> float | None:
        return float(self.before_after["after"].mean()) if len(self.before_after) else None


def recovery_summary(cases: pd.DataFrame) -> RecoverySummary:
    """Recovery figures of a table of cases (CustomerGauge's 48-hour follow-up target,
    Qualtrics/Medallia closed-loop reports).

    Parameters
    ----------
    cases : DataFrame with ``case_id``, ``status``, ``opened_at``, ``due_at``,
        ``first_contact_at`` (NaT if none), ``root_cause``, ``overall``
        (satisfaction at the response) and ``recovery_satisfaction``.

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01", tz="UTC"); h = pd.Timedelta(hours=1)
    >>> c = pd.DataFrame({"case_id": [1, 2], "status": ["resolved", "open"],
    ...     "opened_at": [t, t], "due_at": [t + 48 * h, t + 48 * h],
    ...     "first_contact_at": [t + 5 * h, pd.NaT], "root_cause": ["wait", None],
    ...     "overall": [2.0, 3.0], "recovery_satisfaction": [8.0, np.nan]})
    >>> s = recovery_summary(c)
    >>> s.opened, s.contacted_within_sla, s.median_hours_to_contact, s.resolved_share
    (2, 0.5, 5.0, 0.5)
    >>> s.before_after.to_dict("records")
    [{'case_id': 1, 'before': 2.0, 'after': 8.0}]
    """
    needed = ["case_id", "status", "opened_at", "due_at", "first_contact_at", "root_cause",
              "overall", "recovery_satisfaction"]
    missing = [c for c in needed if c not in cases]
    if missing:
        raise ValueError(f"the cases table needs the columns {missing}")
    n = len(cases)
    opened = pd.to_datetime(cases["opened_at"], utc=True)
    due = pd.to_datetime(cases["due_at"], utc=True)
    contact = pd.to_datetime(cases["first_contact_at"], utc=True)
    hours = (contact - opened).dt.total_seconds() / 3600
    within = (contact.notna() & (contact <= due)).sum()
    resolved = cases["status"] == "resolved"
    causes = (cases.loc[resolved & cases["root_cause"].notna(), "root_cause"].value_counts()
              .rename_axis("root_cause").reset_index(name="cases"))
    answered = cases["recovery_satisfaction"].notna() & cases["overall"].notna()
    before_after = pd.DataFrame({"case_id": cases.loc[answered, "case_id"].astype(int).to_numpy(),
                                 "before": cases.loc[answered, "overall"].astype(float).to_numpy(),
                                 "after": cases.loc[answered, "recovery_satisfaction"]
                                 .astype(float).to_numpy()})
    return RecoverySummary(
        opened=n, contacted_within_sla=float(within / n) if n else None,
        median_hours_to_contact=float(hours.median()) if hours.notna().any() else None,
        resolved_share=float(resolved.mean()) if n else None,
        root_causes=causes, before_after=before_after)
