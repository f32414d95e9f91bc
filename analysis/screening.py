"""Data-quality screening of responses.

Screening is a list of *rules*. A rule is any callable that takes the
response frame and returns a :class:`RuleResult` (a flag and a reason per
row). :func:`flag_responses` runs the list, :func:`exclude` drops flagged
responses and says how many and why. Adding a check — for example the KANO
questionable-answer rate, computed elsewhere per respondent — means writing
one more rule function (or wrapping a per-respondent Series with
:func:`rule_from_series`), never editing this module.

Rules shipped here: straight-lining (:func:`straightlining`), speeding
(:func:`too_fast`) and identical expectation and perception answers
(:func:`identical_e_p`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .common import Methods, float_matrix, require_n
from .io import check_columns

__all__ = ["RuleResult", "Rule", "straightlining", "too_fast", "identical_e_p", "rule_from_series",
           "flag_responses", "ExclusionReport", "exclude"]


@dataclass
class RuleResult:
    """Outcome of one screening rule.

    Attributes
    ----------
    name : short rule name; becomes a column of :func:`flag_responses`.
    flagged : bool Series indexed like the frame.
    reason : str Series indexed like the frame ("" where not flagged).
    description : the rule and its threshold, for the methods section.
    """

    name: str
    flagged: pd.Series
    reason: pd.Series
    description: str


Rule = Callable[[pd.DataFrame], RuleResult]


def straightlining(columns: Sequence[str], *, min_answered: int = 3,
                   name: str = "straightlining") -> Rule:
    """Rule: the same answer to every item of a block of rating items.

    A respondent is flagged when they answered at least ``min_answered`` of
    ``columns`` and those answers have zero variance (e.g. "7" to all 22
    expectation items). Call it once per block (E block, P block ...) with
    distinct names.

    References
    ----------
    Herzog, A. R., & Bachman, J. G. (1981). Effects of questionnaire length
    on response quality. *Public Opinion Quarterly*, 45(4), 549-559;
    Kim, Y., Dykema, J., Stevenson, J., Black, P., & Moberg, D. P. (2019).
    Straightlining: overview of measurement, comparison of indicators, and
    effects in mail-web mixed-mode surveys. *Social Science Computer
    Review*, 37(2), 214-233 (zero within-respondent SD as the indicator).

    Examples
    --------
    >>> f = pd.DataFrame({"a": [7, 5.0], "b": [7, 4.0], "c": [7, 6.0]})
    >>> straightlining(["a", "b", "c"])(f).flagged.tolist()
    [True, False]
    """
    columns = list(columns)
    if len(columns) < 2:
        raise ValueError("straightlining needs a block of at least 2 columns")
    if min_answered < 2:
        raise ValueError("min_answered must be at least 2")

    def rule(frame: pd.DataFrame) -> RuleResult:
        check_columns(frame, columns, f"screening rule {name}")
        # On the float matrix: pandas row max/min and a row-wise back-fill (for the
        # repeated value) each copy the block; fmax/fmin skip missing answers.
        block = float_matrix(frame, columns)
        answered = (~np.isnan(block)).sum(axis=1)
        highest, lowest = np.fmax.reduce(block, axis=1), np.fmin.reduce(block, axis=1)
        hit = (answered >= min_answered) & (highest - lowest == 0)
        flagged = pd.Series(hit, index=frame.index)
        reason = pd.Series("", index=frame.index)
        # every answered item of a flagged row holds the same value: the row maximum
        reason[flagged] = [f"same answer ({v:g}) to all {k} answered items of {name}"
                           for v, k in zip(highest[hit], answered[hit])]
        return RuleResult(name, flagged.astype(bool), reason,
                          f"{name}: zero variance across {len(columns)} items "
                          f"(at least {min_answered} answered)")
    return rule


def too_fast(*, duration_col: str = "duration_seconds", fraction: float = 1 / 3,
             seconds: float | None = None, name: str = "too_fast") -> Rule:
    """Rule: completion time below a threshold.

    Default threshold: ``fraction`` (1/3) of the median duration of the
    screened responses. Relative-to-median cut-offs are the common rule of
    thumb for "speeders" because they adapt to questionnaire length; one
    third of the median is a widely used convention, Leiner (2019) argues
    for a speed factor around 2 (half the median) as a stricter choice.
    Give ``seconds`` for a fixed threshold instead. Responses without a
    duration are not flagged.

    References
    ----------
    Greszki, R., Meyer, M., & Schoen, H. (2015). Exploring the effects of
    removing "too fast" responses and respondents from web surveys.
    *Public Opinion Quarterly*, 79(2), 471-503. Leiner, D. J. (2019). Too
    fast, too straight, too weird: non-reactive indicators for meaningless
    data in internet surveys. *Survey Research Methods*, 13(3), 229-248.

    Examples
    --------
    >>> f = pd.DataFrame({"duration_seconds": [300, 320, 280, 60.0]})
    >>> too_fast()(f).flagged.tolist()
    [False, False, False, True]
    """
    if seconds is None and not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    if seconds is not None and seconds <= 0:
        raise ValueError("seconds must be positive")

    def rule(frame: pd.DataFrame) -> RuleResult:
        check_columns(frame, [duration_col], f"screening rule {name}")
        duration = frame[duration_col].astype("float64")
        if seconds is None:
            require_n(f"screening rule {name} (responses with a duration, for the median)",
                      int(duration.notna().sum()), 3)
            median = float(duration.median())
            threshold = fraction * median
            desc = f"{name}: duration below {fraction:.3g} x median ({median:.0f} s) = {threshold:.0f} s"
        else:
            threshold = float(seconds)
            desc = f"{name}: duration below {threshold:g} s"
        flagged = (duration < threshold).fillna(False)
        reason = pd.Series("", index=frame.index)
        reason[flagged] = [f"completed in {d:.0f} s, threshold {threshold:.0f} s" for d in duration[flagged]]
        return RuleResult(name, flagged.astype(bool), reason, desc)
    return rule


def identical_e_p(pairs: Mapping[str, tuple[str, str]], *, min_pairs: int = 3,
                  name: str = "identical_e_p") -> Rule:
    """Rule: expectation equals perception on every answered item.

    Flags respondents with at least ``min_pairs`` answered E/P pairs and
    ``E == P`` on all of them — typical of copying the first block into the
    second, and it makes every gap zero.

    Examples
    --------
    >>> f = pd.DataFrame({"A_E": [5, 5.0], "A_P": [5, 4.0], "B_E": [6, 6.0], "B_P": [6, 6.0]})
    >>> identical_e_p({"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}, min_pairs=2)(f).flagged.tolist()
    [True, False]
    """
    if not pairs:
        raise ValueError("identical_e_p needs at least one pair")
    if min_pairs < 1:
        raise ValueError("min_pairs must be at least 1")

    def rule(frame: pd.DataFrame) -> RuleResult:
        check_columns(frame, [c for ep in pairs.values() for c in ep], f"screening rule {name}")
        E = float_matrix(frame, [e for e, _ in pairs.values()])
        P = float_matrix(frame, [p for _, p in pairs.values()])
        both = ~np.isnan(E) & ~np.isnan(P)
        k = pd.Series(both.sum(axis=1), index=frame.index)
        same = ((E == P) | ~both).all(axis=1)
        flagged = (k >= min_pairs) & same
        reason = pd.Series("", index=frame.index)
        reason[flagged] = [f"expectation = perception on all {n} answered pairs" for n in k[flagged]]
        return RuleResult(name, flagged.astype(bool), reason,
                          f"{name}: E equal to P on every answered pair (at least {min_pairs})")
    return rule


def rule_from_series(name: str, flagged: pd.Series, reason: str | pd.Series, *,
                     id_col: str = "response_id", description: str = "") -> Rule:
    """Turn a per-respondent flag computed elsewhere into a rule.

    ``flagged`` is a bool Series indexed by response id (e.g. "share of
    KANO answers in the Questionable category above 0.2"); responses absent
    from it are not flagged.

    Examples
    --------
    >>> q = pd.Series([True, False], index=[11, 12])
    >>> f = pd.DataFrame({"response_id": [11, 12, 13]})
    >>> rule_from_series("kano_questionable", q, "too many Q answers")(f).flagged.tolist()
    [True, False, False]
    """
    if not isinstance(flagged, pd.Series) or flagged.dtype != bool:
        raise ValueError(f"rule {name}: flagged must be a bool pandas Series indexed by {id_col}")

    def rule(frame: pd.DataFrame) -> RuleResult:
        check_columns(frame, [id_col], f"screening rule {name}")
        ids = frame[id_col]
        f = pd.Series(ids.isin(flagged.index[flagged.to_numpy()]).to_numpy(), index=frame.index)
        if isinstance(reason, pd.Series):
            why = pd.Series(ids.map(reason.astype(str)).fillna("").to_numpy(), index=frame.index)
        else:
            why = pd.Series(reason, index=frame.index)
        return RuleResult(name, f, why.where(f, ""), description or name)
    return rule


def flag_responses(frame: pd.DataFrame, rules: Sequence[Rule], *,
                   id_col: str = "response_id") -> pd.DataFrame:
    """Run screening rules and collect the flags per response.

    Returns
    -------
    DataFrame
        One row per response: ``response_id``, one bool column per rule
        (named by the rule), ``flagged`` (any rule) and ``reasons`` (the
        flagged rules' reasons joined by "; "). ``attrs["rules"]`` holds
        each rule's description for the methods section.

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": [1, 2], "a": [7, 5.0], "b": [7, 4.0], "c": [7, 6.0]})
    >>> flag_responses(f, [straightlining(["a", "b", "c"])])[["response_id", "flagged"]].to_dict("list")
    {'response_id': [1, 2], 'flagged': [True, False]}
    """
    if not rules:
        raise ValueError("flag_responses needs at least one rule")
    check_columns(frame, [id_col], "screening")
    out = pd.DataFrame({"response_id": frame[id_col].to_numpy()})
    reasons: list[pd.Series] = []
    descriptions = {}
    for rule in rules:
        res = rule(frame)
        if not isinstance(res, RuleResult):
            raise ValueError(f"screening rule {rule!r} returned {type(res).__name__}, not RuleResult")
        if res.name in out.columns or res.name in ("flagged", "reasons"):
            raise ValueError(f"two screening rules are named {res.name!r}; give them distinct names")
        hit = res.flagged.reindex(frame.index).fillna(False).astype(bool).to_numpy()
        out[res.name] = hit
        # Text only for the flagged rows: "name: reason" for every response would
        # build a million strings to keep a few thousand.
        text = np.full(len(out), "", dtype=object)
        if hit.any():
            why = res.reason.reindex(frame.index).fillna("").astype(str).to_numpy()
            text[hit] = res.name + ": " + why[hit].astype(object)
        reasons.append(pd.Series(text, index=out.index))
        descriptions[res.name] = res.description
    names = list(descriptions)
    out["flagged"] = out[names].any(axis=1)
    out["reasons"] = ""
    flagged = out["flagged"].to_numpy()
    if flagged.any():
        # Only flagged rows have reasons to join, rule by rule over the flagged rows
        # ("; " between non-empty texts): a row-wise apply over every response took a
        # second at 100k, and 0.2 s over the flagged ones at a million.
        joined = reasons[0].to_numpy()[flagged]
        for text in reasons[1:]:
            text = text.to_numpy()[flagged]
            separator = np.where((joined != "") & (text != ""), "; ", "").astype(object)
            joined = joined + separator + text
        out.loc[flagged, "reasons"] = joined
    out.attrs["rules"] = descriptions
    return out


@dataclass
class ExclusionReport:
    """What screening removed.

    Attributes
    ----------
    n_before, n_after, n_excluded : response counts.
    by_rule : ``rule, n_flagged, description`` (a response can trip several rules).
    excluded_ids : the removed response ids.
    methods : for the methods section (``n_excluded`` filled).
    """

    n_before: int
    n_after: int
    n_excluded: int
    by_rule: pd.DataFrame
    excluded_ids: list = field(default_factory=list)
    methods: Methods | None = None

    def as_text(self) -> str:
        parts = [f"{self.n_excluded} of {self.n_before} responses excluded"]
        parts += [f"{r.rule}: {r.n_flagged}" for r in self.by_rule.itertuples() if r.n_flagged]
        return "; ".join(parts) + "."


def exclude(frame: pd.DataFrame, flags: pd.DataFrame, *, rules: Sequence[str] | None = None,
            id_col: str = "response_id") -> tuple[pd.DataFrame, ExclusionReport]:
    """Drop flagged responses and report how many and why.

    Parameters
    ----------
    frame : DataFrame
        The response frame.
    flags : DataFrame
        Output of :func:`flag_responses`.
    rules : list of str, optional
        Exclude on these rules only (default: any flag). Lets a report show
        flags without acting on all of them.

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": [1, 2], "a": [7, 5.0], "b": [7, 4.0], "c": [7, 6.0]})
    >>> kept, report = exclude(f, flag_responses(f, [straightlining(["a", "b", "c"])]))
    >>> kept["response_id"].tolist(), report.as_text()
    ([2], '1 of 2 responses excluded; straightlining: 1.')
    """
    check_columns(frame, [id_col], "exclude")
    check_columns(flags, ["response_id", "flagged"], "exclude (flags from flag_responses)")
    rule_names = [c for c in flags.columns if c not in ("response_id", "flagged", "reasons")]
    chosen = rule_names if rules is None else list(rules)
    unknown = sorted(set(chosen) - set(rule_names))
    if unknown:
        raise ValueError(f"exclude: no such rule(s) in flags: {', '.join(unknown)}")
    hit = flags[chosen].any(axis=1) if chosen else pd.Series(False, index=flags.index)
    # Id arrays, not Python sets: a set of a million ids costs a second to build.
    drop = frame[id_col].isin(flags.loc[hit, "response_id"].to_numpy())
    kept = frame[~drop]
    descriptions = flags.attrs.get("rules", {})
    in_frame = flags["response_id"].isin(frame[id_col].to_numpy())
    by_rule = pd.DataFrame({"rule": chosen,
                            "n_flagged": [int(flags.loc[in_frame, r].sum()) for r in chosen],
                            "description": [descriptions.get(r, "") for r in chosen]})
    n_before, n_after = len(frame), len(kept)
    report = ExclusionReport(n_before=n_before, n_after=n_after, n_excluded=n_before - n_after,
                             by_rule=by_rule, excluded_ids=sorted(frame.loc[drop, id_col].tolist()))
    report.methods = Methods(analysis="Data-quality screening", n_used=n_after,
                             n_excluded=n_before - n_after,
                             notes=[report.as_text().rstrip(".")] + [d for d in by_rule["description"] if d])
    return kept, report
