"""Trend charts: a respondent score's mean per period."""
from __future__ import annotations

import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import BAD, GOOD, Chart, Labels, guide, hover, interval, score_names, score_reference


def trend(analysis: SurveyAnalysis, labels: Labels, score: str) -> Chart:
    names = score_names()
    chart = Chart(f"trend_{score}", _("Trend: %(score)s per period", score=names.get(score, score)),
                  _("Mean per period with 95 percent confidence interval; dashed line: expectations met."))
    if analysis.trends is None:
        return chart.skip(analysis, "trends")
    table = analysis.trends[analysis.trends["score"] == score]
    if table.empty:
        return chart.skip(analysis)
    periods = [str(p) for p in table["period"]]
    figure = go.Figure(go.Scatter(
        x=periods, y=table["mean"], mode="lines+markers", line={"color": GOOD},
        error_y=interval(table["mean"], table["ci_low"], table["ci_high"], colour="#999"),
        customdata=table["n"], hovertemplate=hover("%{x}: %{y:.3f}, n=%{customdata}")))
    guide(figure, y=score_reference(score), colour=BAD)
    return chart.draw(figure, table.assign(period=periods), height=300, yaxis_title=names.get(score, score),
                      xaxis={"type": "category"})
