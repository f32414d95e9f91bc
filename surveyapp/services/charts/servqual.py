"""SERVQUAL charts: gap by dimension, expectation vs perception per item, the overall scores."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import EXPECTATION, Chart, Labels, gap_colour, hover, interval, side_colour
from .layout import LINE_BREAK, wrap_label

#: Columns (a CJK character is two) of an item's axis label line and of its hover text line.
ITEM_LABEL_COLUMNS = 30
HOVER_COLUMNS = 48
#: Pixels per line of an item's label, and between items.
ITEM_ROW_PIXELS = 15
ITEM_ROW_GAP = 10


def _gap_colours(table) -> list[str]:
    return [gap_colour(m, lo, hi) for m, lo, hi in zip(table["mean_gap"], table["ci_low"], table["ci_high"])]


def servqual_gap_by_dimension(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_dimensions", _("Where service falls short: gap by dimension"),
                  _("Perception minus expectation (P − E) with 95 percent confidence interval. "
                    "Below 0 (red): customers get less than they expect; pale: not significant."))
    if analysis.servqual is None:
        return chart.skip(analysis, "servqual")
    table = analysis.servqual.dimensions.sort_values("mean_gap")
    names = [labels.dimension(code) for code in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=table["mean_gap"], y=names, orientation="h", marker_color=_gap_colours(table),
        error_x=interval(table["mean_gap"], table["ci_low"], table["ci_high"]),
        customdata=np.column_stack([table["ci_low"], table["ci_high"], table["n"]]),
        hovertemplate=hover("%{y}: %{x:.2f} [%{customdata[0]:.2f}, %{customdata[1]:.2f}], n=%{customdata[2]}")))
    table = table[["dimension", "n", "mean_E", "mean_P", "mean_gap", "ci_low", "ci_high", "p_t_holm",
                   "share_negative"]].assign(label=names)
    return chart.rests_on(analysis.servqual).draw(figure, table, height=80 + 48 * len(table),
                                                  xaxis_title=_("Gap P − E (0 = expectations met)"))


def servqual_items_dumbbell(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_items", _("Expectation vs perception per item, largest shortfall first"),
                  _("Grey: what customers expect; coloured: what they perceive. "
                    "The longer a red line, the larger the shortfall."))
    if analysis.servqual is None:
        return chart.skip(analysis, "servqual")
    # Worst item on top: plotly draws the first category at the bottom.
    table = analysis.servqual.items.sort_values("mean_gap", ascending=False)
    texts = [labels.item(code) for code in table["item"]]
    # The full item text, wrapped: the axis label in the width a phone leaves, the hover wider.
    names = [wrap_label(f"{code} {text}", ITEM_LABEL_COLUMNS) for code, text in zip(table["item"], texts)]
    hovers = [wrap_label(f"{code} {text}", HOVER_COLUMNS) for code, text in zip(table["item"], texts)]
    segment_x: list[float | None] = []
    segment_y: list[str | None] = []
    for name, e, p in zip(names, table["mean_E"], table["mean_P"]):
        segment_x += [e, p, None]
        segment_y += [name, name, None]
    figure = go.Figure([
        go.Scatter(x=segment_x, y=segment_y, mode="lines", line={"color": "#b0b7bd", "width": 3},
                   hoverinfo="skip", showlegend=False),
        go.Scatter(x=table["mean_E"], y=names, mode="markers", name=_("Expectation"),
                   marker={"color": EXPECTATION, "size": 10}, customdata=hovers,
                   hovertemplate=hover("%{customdata}<br>" + _("Expectation") + " %{x:.2f}")),
        go.Scatter(x=table["mean_P"], y=names, mode="markers", name=_("Perception"),
                   marker={"color": _gap_colours(table), "size": 11},
                   customdata=np.column_stack([hovers, table["mean_gap"]]),
                   hovertemplate=hover("%{customdata[0]}<br>" + _("Perception") + " %{x:.2f}, "
                                       + _("gap") + " %{customdata[1]:.2f}")),
    ])
    chart.wide = True
    rows = sum(ITEM_ROW_PIXELS * max(1, name.count(LINE_BREAK) + 1) + ITEM_ROW_GAP for name in names)
    return chart.rests_on(analysis.servqual).draw(
        figure, table[["item", "dimension", "n", "mean_E", "mean_P", "mean_gap", "ci_low", "ci_high",
                       "p_t_holm"]].assign(label=texts),
        height=110 + rows, showlegend=True, legend={"orientation": "h", "y": 1, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        xaxis_title=_("Mean rating"), yaxis={"tickfont": {"size": 11}})


def servqual_scores(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_scores", _("SERVQUAL score: unweighted vs importance-weighted"),
                  _("Weighted by the 100 points each customer gave the five dimensions. "
                    "Below 0: overall quality below expectations."))
    if analysis.servqual is None:
        return chart.skip(analysis, "servqual")
    table = analysis.servqual.scores
    names = {"unweighted": _("Unweighted"), "weighted": _("Importance-weighted")}
    figure = go.Figure(go.Bar(
        x=[names.get(s, s) for s in table["score"]], y=table["value"],
        marker_color=[side_colour(v) for v in table["value"]],
        text=[f"{v:.2f}" for v in table["value"]], textposition="outside",
        customdata=table["n"], hovertemplate=hover("%{x}: %{y:.3f}, n=%{customdata}")))
    if analysis.servqual.weights is not None:
        weights = analysis.servqual.weights
        chart.note = _("Mean importance weights: %(weights)s", weights=", ".join(
            f"{labels.dimension(d)} {w:.0%}" for d, w in zip(weights["dimension"], weights["mean_weight"])))
    return chart.rests_on(analysis.servqual).draw(figure, table.copy(), height=300, yaxis_title=_("Gap P − E"))
