"""Segment comparison charts: a respondent score's group means across a segment variable."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis
from analysis.segments import GroupComparison

from .common import (COMPARED_SCORES, INK, SIGNIFICANCE_LEVEL, Chart, Labels, category_ticks, guide, hover,
                     score_names, score_reference, side_colour)


def _segment_comparison(analysis: SurveyAnalysis, segment: str, score: str) -> GroupComparison:
    """The analysis's comparison of ``score`` across ``segment`` (computed once, in
    analysis/report.py); ValueError with the reason when there is none."""
    comparison = analysis.segment_comparisons.get(segment, {}).get(score)
    if comparison is None:
        raise ValueError(analysis.skipped.get(f"segments:{segment}:{score}", "not computed"))
    return comparison


def segment_comparisons(analysis: SurveyAnalysis, labels: Labels) -> list[Chart]:
    """One chart per (segment variable, score): group means and the ANOVA/Welch/K-W tests."""
    scores = analysis.respondent_scores
    if scores is None:
        return []
    return [segment_chart(analysis, labels, segment, score)
            for segment in labels.segments for score in COMPARED_SCORES]


def segment_chart(analysis: SurveyAnalysis, labels: Labels, segment: str, score: str) -> Chart:
    names = score_names()
    chart = Chart(f"segment_{segment}_{score}",
                  _("%(score)s by %(segment)s", score=names.get(score, score), segment=labels.segment(segment)),
                  _("Group means; the test says whether groups really differ."), group=segment)
    scores = analysis.respondent_scores
    if segment not in scores or score not in scores:
        return chart.skip(analysis)
    try:
        result = _segment_comparison(analysis, segment, score)
    except ValueError as error:  # InsufficientData included: too few groups or cases
        return chart.say(_("Not enough data for this chart: %(reason)s", reason=str(error)))
    groups = result.groups
    group_names = [labels.segment_value(segment, g) for g in groups["group"]]
    reference = score_reference(score)
    figure = go.Figure(go.Bar(
        x=category_ticks(group_names), y=groups["mean"],
        marker_color=[side_colour(m, reference) for m in groups["mean"]],
        text=[f"{m:.3f}" for m in groups["mean"]], textposition="outside",
        customdata=np.column_stack([groups["n"], groups["sd"], group_names]),
        hovertemplate=hover("%{customdata[2]}: %{y:.3f}, n=%{customdata[0]}, SD %{customdata[1]:.3f}")))
    guide(figure, y=reference, colour=INK)
    # Bars start at 0 (a ratio's bars are not cut off at 0.7, which would exaggerate differences).
    low = float(min(groups["mean"].min(), reference, 0.0))
    high = float(max(groups["mean"].max(), reference, 0.0))
    pad = max(0.05, (high - low) * 0.15)
    welch = result.tests.set_index("test").loc["Welch ANOVA"]
    chart.note = _("Welch ANOVA F = %(f).2f, p = %(p).3g, η² = %(eta).3f: %(verdict)s",
                   f=welch["statistic"], p=welch["p"], eta=welch["effect_size"],
                   verdict=_("groups differ") if welch["p"] < SIGNIFICANCE_LEVEL
                   else _("no significant difference"))
    axis_range = [low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0]
    return chart.rests_on(result).draw(figure, groups.assign(label=group_names, segment=segment, score=score),
                                       height=300, yaxis_title=names.get(score, score), yaxis={"range": axis_range},
                                       xaxis={"tickangle": 0})
