"""Who is unhappy: the one rule that lists customers for follow-up and opens recovery cases.

The same :class:`UnhappinessRule` drives the dashboard's follow-up list
(:func:`follow_up_list`) and the cases opened on each completed response
(surveyapp/services/cases.py via :func:`unhappy_customers`), so a manager
sets it once per survey and both agree.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .common import Methods

COMBINE = ("any", "all")


@dataclass(frozen=True)
class UnhappinessRule:
    """When a customer needs a call back; a ``None`` criterion is switched off.

    overall_at_most : directly stated overall satisfaction (1-10) at or below this.
    ratio_below : respondent satisfaction ratio P/E (seed 004: sum P / sum E) below this.
    gap_below : respondent's unweighted SERVQUAL gap (mean over dimensions of P - E) below this.
    negative_emotion_at_least : mean negative-emotion intensity (scale items) at or above this.
    polarity_below : comment polarity in [-1, 1] below this.
    keywords : words (zh or en, matched case-insensitively as substrings of the comment);
        any one present is a reason.
    combine : ``"any"`` (one reason is enough) or ``"all"`` (every switched-on criterion
        must hold; a criterion whose score is missing does not hold).
    """

    ratio_below: float | None = 0.8
    gap_below: float | None = -1.5
    negative_emotion_at_least: float | None = 5.0
    overall_at_most: float | None = 4.0
    polarity_below: float | None = -0.3
    keywords: tuple[str, ...] = ()
    combine: str = "any"

    def __post_init__(self) -> None:
        if self.combine not in COMBINE:
            raise ValueError(f"combine must be 'any' or 'all', not {self.combine!r}")
        object.__setattr__(self, "keywords",
                           tuple(k.strip() for k in self.keywords if k and k.strip()))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["keywords"] = list(self.keywords)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "UnhappinessRule":
        """The rule stored as :meth:`to_json` (unknown keys ignored; missing ones default)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        if "keywords" in values:
            values["keywords"] = tuple(values["keywords"] or ())
        return cls(**values)

    @property
    def active(self) -> list[str]:
        return [name for name, _c, _d, _t in _CRITERIA if getattr(self, _LIMIT[name]) is not None] + \
            (["keywords"] if self.keywords else [])


#: The older name; the dashboard's follow-up thresholds are the unhappiness rule.
FollowUpThresholds = UnhappinessRule

#: score column -> (rule field, direction, reason template)
_CRITERIA = [
    ("overall", "overall_at_most", "at_most", "overall satisfaction {value:g} <= {limit:g}"),
    ("ratio", "ratio_below", "below", "satisfaction ratio P/E {value:.2f} < {limit:g}"),
    ("gap", "gap_below", "below", "SERVQUAL gap {value:.2f} < {limit:g}"),
    ("negative_emotion", "negative_emotion_at_least", "at_least",
     "negative emotion {value:.1f} >= {limit:g}"),
    ("polarity", "polarity_below", "below", "comment polarity {value:.2f} < {limit:g}"),
]
_LIMIT = {column: limit for column, limit, _d, _t in _CRITERIA}
SCORE_COLUMNS = tuple(column for column, *_ in _CRITERIA)


def unhappy_customers(scores: pd.DataFrame, rule: UnhappinessRule, *,
                      id_col: str = "response_id", comment_col: str = "comment") -> pd.DataFrame:
    """Evaluate ``rule`` on every customer: who meets it, and why.

    Service recovery works on individuals (Tax & Brown 1998, "Recovering and
    learning from service failure", Sloan Management Review 40(1)): each
    customer whose own scores cross the manager's limits is named with every
    reason. Boundaries: ``overall_at_most`` and ``negative_emotion_at_least``
    include the limit, the ``*_below`` criteria exclude it.

    Parameters
    ----------
    scores : DataFrame
        ``id_col`` plus any of the columns ``overall``, ``ratio``, ``gap``,
        ``negative_emotion``, ``polarity`` and ``comment_col``. A missing
        column or value is not a reason (and under ``combine="all"`` it
        fails that criterion).
    rule : UnhappinessRule

    Returns
    -------
    DataFrame
        One row per input row: ``id_col``, the score columns, ``reasons``
        (``"; "``-joined text), ``n_reasons`` and ``unhappy`` (bool), in
        input order.

    Examples
    --------
    >>> s = pd.DataFrame({"response_id": [1, 2], "overall": [4.0, 5.0],
    ...                   "comment": ["排队太久", "fine"]})
    >>> r = unhappy_customers(s, UnhappinessRule(keywords=("排队",)))
    >>> r["unhappy"].tolist(), r.loc[0, "reasons"]
    ([True, False], 'overall satisfaction 4 <= 4; keyword "排队"')
    """
    if id_col not in scores:
        raise ValueError(f"the scores need an {id_col!r} column")
    table = pd.DataFrame({id_col: scores[id_col].to_numpy()})
    n = len(table)
    # Reasons only for the rows that have one: a list per respondent is a million lists.
    reasons: dict[int, list[str]] = {}
    holds: list[np.ndarray] = []
    for column, limit_name, direction, template in _CRITERIA:
        values = (pd.to_numeric(scores[column], errors="coerce").to_numpy(dtype=float)
                  if column in scores else np.full(n, np.nan))
        table[column] = values
        limit = getattr(rule, limit_name)
        if limit is None:
            continue
        with np.errstate(invalid="ignore"):
            hit = {"below": values < limit, "at_most": values <= limit,
                   "at_least": values >= limit}[direction] & ~np.isnan(values)
        holds.append(hit)
        for position in np.flatnonzero(hit):
            reasons.setdefault(int(position), []).append(template.format(value=values[position], limit=limit))
    if rule.keywords:
        comments = (scores[comment_col].fillna("").astype(str).str.casefold().to_numpy()
                    if comment_col in scores else np.full(n, ""))
        found = [[k for k in rule.keywords if k.casefold() in text] for text in comments]
        holds.append(np.array([bool(f) for f in found], dtype=bool))
        for position, words in enumerate(found):
            if words:
                reasons.setdefault(position, []).extend(f'keyword "{word}"' for word in words)
    if not holds:
        unhappy = np.zeros(n, dtype=bool)
    elif rule.combine == "all":
        unhappy = np.logical_and.reduce(holds)
    else:
        unhappy = np.logical_or.reduce(holds)
    text = np.full(n, "", dtype=object)
    counts = np.zeros(n, dtype=np.int64)
    for position, found_reasons in reasons.items():
        text[position] = "; ".join(found_reasons)
        counts[position] = len(found_reasons)
    table["reasons"] = text
    table["n_reasons"] = counts
    table["unhappy"] = unhappy
    table.attrs["methods"] = Methods(
        analysis="unhappiness rule", n_used=n,
        missing="a criterion whose score is missing for a customer does not hold for them",
        formula=f"{rule.combine} of: " + ", ".join(
            f"{name} {getattr(rule, _LIMIT[name])}" for name in SCORE_COLUMNS
            if getattr(rule, _LIMIT[name]) is not None) + (
            f", keywords {list(rule.keywords)}" if rule.keywords else ""),
        reference="Tax & Brown (1998) Sloan Management Review 40(1)")
    return table


def follow_up_list(frame: pd.DataFrame, thresholds: UnhappinessRule, *,
                   ratio: pd.Series | None = None, gap: pd.Series | None = None,
                   negative_emotion: pd.Series | None = None,
                   overall: pd.Series | None = None, polarity: pd.Series | None = None,
                   comment: pd.Series | None = None,
                   id_col: str = "response_id", consent_col: str = "contact_ok") -> pd.DataFrame:
    """Customers who agreed to be contacted and meet the rule, worst first.

    :func:`unhappy_customers` on the consenting rows; contact details are
    joined by the caller, which knows who may see them.

    Parameters
    ----------
    frame : DataFrame with ``id_col`` and ``consent_col``.
    thresholds : UnhappinessRule
    ratio, gap, negative_emotion, overall, polarity, comment : Series indexed by response id
        Per-respondent scores; a missing series is not a criterion.

    Returns
    -------
    DataFrame: response_id, the score columns, reasons (text), n_reasons;
    sorted by n_reasons then ratio (lowest first).

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": [1, 2], "contact_ok": [True, False]})
    >>> ratio = pd.Series([0.5, 0.5], index=[1, 2])
    >>> follow_up_list(f, UnhappinessRule(), ratio=ratio)["response_id"].tolist()
    [1]
    """
    if id_col not in frame or consent_col not in frame:
        raise ValueError(f"the frame needs {id_col!r} and {consent_col!r} columns")
    consenting = frame.loc[frame[consent_col].astype(bool), id_col].to_numpy()
    scores = pd.DataFrame({id_col: consenting})
    for column, series in (("ratio", ratio), ("gap", gap), ("negative_emotion", negative_emotion),
                           ("overall", overall), ("polarity", polarity), ("comment", comment)):
        if series is not None:
            scores[column] = series.reindex(consenting).to_numpy()
    table = unhappy_customers(scores, thresholds, id_col=id_col)
    methods = table.attrs["methods"]
    table = table[table["unhappy"]].drop(columns="unhappy")
    table = table.sort_values(["n_reasons", "ratio"], ascending=[False, True]).reset_index(drop=True)
    table.attrs["methods"] = Methods(
        analysis="follow-up list", n_used=len(consenting), missing=methods.missing,
        formula="listed if consented and " + methods.formula, reference=methods.reference)
    return table
