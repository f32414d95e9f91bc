"""Consumption emotion charts: how customers feel, and how that moves with satisfaction."""
from __future__ import annotations

import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import BAD, GOOD, Chart, Labels, hover, side_colour, stars


def emotion_profile(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("emotions", _("Consumption emotions: how customers feel"),
                  _("Mean intensity of positive and negative emotions (higher negative = worse)."))
    if analysis.emotions is None:
        return chart.skip(analysis, "emotions")
    table = analysis.emotions.reset_index()
    names = [labels.dimension(d) for d in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=names, y=table["mean"], marker_color=[BAD if d == "negative" else GOOD for d in table["dimension"]],
        error_y={"type": "data", "array": table["sd"], "color": "#999"},
        text=[f"{m:.2f}" for m in table["mean"]], textposition="inside",
        customdata=table["n"], hovertemplate=hover("%{x}: %{y:.2f} (SD bar), n=%{customdata}")))
    return chart.rests_on(analysis.emotions).draw(figure, table.assign(label=names), height=300,
                      yaxis_title=_("Mean intensity (bar: ±1 SD)"))


def emotion_satisfaction(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("emotions_satisfaction", _("How emotions move with satisfaction"),
                  _("Correlation of each emotion with satisfaction: positive emotions should rise "
                    "with satisfaction, negative ones fall."))
    if analysis.emotions is None or "r_satisfaction" not in analysis.emotions:
        return chart.skip(analysis, "emotions")
    table = analysis.emotions.reset_index()
    names = [labels.dimension(d) for d in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=names, y=table["r_satisfaction"], marker_color=[side_colour(r) for r in table["r_satisfaction"]],
        text=[f"r = {r:.2f}{stars(p)}" for r, p in zip(table["r_satisfaction"], table["p_satisfaction"])],
        textposition="outside"))
    table = table[["dimension", "n", "r_satisfaction", "p_satisfaction"]].assign(label=names)
    return chart.rests_on(analysis.emotions).draw(figure, table,
                      height=300, yaxis_title=_("Correlation with satisfaction (r)"), yaxis={"range": [-1, 1]})
