"""Headline tiles: the few numbers on top of the dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import few_responses

RELIABLE_ALPHA = 0.7


@dataclass
class Tile:
    id: str
    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"  # good | bad | neutral
    raw: float | None = None
    #: "Few responses: n = 6 (stated minimum 30)" when the figure rests on too few cases
    few: str = ""

    def to_payload(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "value": self.value, "detail": self.detail,
                "tone": self.tone, "raw": self.raw, "few": self.few}


def headline_tiles(analysis: SurveyAnalysis, completion_rate: float | None) -> list[Tile]:
    """Responses, satisfaction ratio, overall gap, share below expectation, reliability.

    ``completion_rate``: complete / started responses of the selection, ``None`` when
    it cannot be told (a date filter selects by submission, which partial responses lack).
    """
    return [tile for tile in (_responses(analysis, completion_rate), _ratio(analysis), *_gap(analysis),
                              _reliability(analysis)) if tile is not None]


def _responses(analysis: SurveyAnalysis, completion_rate: float | None) -> Tile:
    detail = _("%(used)s analysed after screening", used=analysis.n_used)
    if completion_rate is not None:
        detail += "; " + _("completion rate %(rate)s", rate=f"{completion_rate:.0%}")
    return Tile("responses", _("Responses"), f"{analysis.n_total:,}", detail, raw=analysis.n_total)


def _ratio(analysis: SurveyAnalysis) -> Tile | None:
    ratio = analysis.satisfaction.get("servqual")
    if ratio is None:
        return None
    row = ratio.survey.iloc[0]
    classes = {"delighted": _("delighted"), "met": _("met"), "disappointed": _("disappointed"),
               "undefined": _("undefined")}
    return Tile("ratio", _("Satisfaction ratio P/E"), f"{row['ratio_of_means']:.3f}",
                _("customers overall: %(cls)s", cls=classes.get(row["class"], row["class"])),
                tone="bad" if row["ratio_of_means"] < 1 else "good", raw=float(row["ratio_of_means"]),
                few=few_responses(ratio))


def _gap(analysis: SurveyAnalysis) -> list[Tile]:
    # With only some pairs mapped the overall score is skipped (its reason is in analysis.skipped).
    if analysis.servqual is None or analysis.servqual.overall is None or analysis.servqual.overall.empty:
        return []
    overall = analysis.servqual.overall.iloc[0]
    return [Tile("gap", _("Overall SERVQUAL gap P − E"), f"{overall['mean_gap']:+.2f}",
                 _("95%% CI %(low)s to %(high)s", low=f"{overall['ci_low']:+.2f}",
                   high=f"{overall['ci_high']:+.2f}"),
                 tone="bad" if overall["ci_high"] < 0 else "good" if overall["ci_low"] > 0 else "neutral",
                 raw=float(overall["mean_gap"]), few=few_responses(analysis.servqual)),
            Tile("below", _("Customers below expectation"), f"{overall['share_negative']:.0%}",
                 _("overall gap under 0"), tone="bad" if overall["share_negative"] > 0.5 else "neutral",
                 raw=float(overall["share_negative"]), few=few_responses(analysis.servqual))]


def _reliability(analysis: SurveyAnalysis) -> Tile | None:
    if analysis.servqual_reliability is None:
        return None
    summary = analysis.servqual_reliability.summary
    perception = summary[summary["score"] == "P"]["alpha"].dropna()
    if not len(perception):
        return None
    low, high = float(perception.min()), float(perception.max())
    return Tile("alpha", _("Reliability (Cronbach's α)"), f"{low:.2f}–{high:.2f}",
                _("SERVQUAL perception scales; 0.70 or more is acceptable"),
                tone="good" if low >= RELIABLE_ALPHA else "bad", raw=low,
                few=few_responses(analysis.servqual_reliability))
