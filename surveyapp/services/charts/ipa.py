"""Importance-performance grids (stated and derived importance)."""
from __future__ import annotations

import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import BAD, GOOD, GUIDE, NEUTRAL, Chart, Labels, corner_notes, guide, hover, point_labels
from .layout import wrap_label

MARKER_SIZE = 14
#: The smallest plot area (pixels: width, height) the grid is drawn in: a 390 px wide phone.
IPA_MIN_PLOT = (230, 260)

QUADRANT_COLOURS = {"concentrate here": BAD, "keep up the good work": GOOD,
                    "low priority": NEUTRAL, "possible overkill": "#e67e22"}
#: Where each quadrant's name is written (fractions of the plot area).
QUADRANT_CORNERS = {"concentrate here": (0.01, 0.99), "keep up the good work": (0.99, 0.99),
                    "low priority": (0.01, 0.01), "possible overkill": (0.99, 0.01)}


def _quadrant_names() -> dict[str, str]:
    return {"concentrate here": _("Concentrate here"), "keep up the good work": _("Keep up the good work"),
            "low priority": _("Low priority"), "possible overkill": _("Possible overkill")}


def _range(values, pad_share: float, least_pad: float) -> list[float]:
    """Axis range of ``values`` padded by ``pad_share`` of their spread (at least ``least_pad``)."""
    low, high = float(values.min()), float(values.max())
    pad = max(least_pad, (high - low) * pad_share)
    return [low - pad, high + pad]


def ipa_grid(analysis: SurveyAnalysis, labels: Labels, kind: str) -> Chart:
    titles = {"stated": _("Importance-performance grid (importance stated by customers)"),
              "derived": _("Importance-performance grid (importance derived from overall satisfaction)")}
    chart = Chart(f"ipa_{kind}", titles.get(kind, kind),
                  _("Top left: important but performing poorly - concentrate here."))
    result = analysis.ipa.get(kind)
    if result is None:
        return chart.skip(analysis, f"ipa_{kind}")
    table = result.table
    quadrant_names = _quadrant_names()
    names = [labels.dimension(code) for code in table["item"]]
    colours = [QUADRANT_COLOURS.get(q, NEUTRAL) for q in table["quadrant"]]
    figure = go.Figure(go.Scatter(
        x=table["performance"], y=table["importance"], mode="markers", text=names,
        marker={"size": MARKER_SIZE, "color": colours},
        customdata=[quadrant_names.get(q, q) for q in table["quadrant"]],
        hovertemplate=hover("%{text}: " + _("performance") + " %{x:.2f}, " + _("importance")
                            + " %{y:.3f}<br>%{customdata}")))
    guide(figure, x=result.performance_split, y=result.importance_split, colour=GUIDE, dash="dot")
    corners = [(x, y, quadrant_names[quadrant]) for quadrant, (x, y) in QUADRANT_CORNERS.items()]
    annotations = corner_notes([(x, y, text, QUADRANT_COLOURS[quadrant])
                                for (x, y, text), quadrant in zip(corners, QUADRANT_CORNERS)], "paper", 12)
    x_range = _range(table["performance"], 0.25, 0.1)
    y_range = _range(table["importance"], 0.25, 1e-3)
    # Dimension names beside their points, never on top of each other (wrapped: Chinese names are short).
    annotations += point_labels(table["performance"], table["importance"], [wrap_label(n, 16) for n in names],
                                [MARKER_SIZE] * len(names), colours, x_range, y_range, IPA_MIN_PLOT, corners, 12)
    importance_titles = {"stated": _("Importance (mean points of 100)"),
                         "regression": _("Importance (standardized regression weight)"),
                         "correlation": _("Importance (correlation with overall satisfaction)")}
    return chart.rests_on(result).draw(figure, table.assign(label=names),
                      height=400, xaxis_title=_("Performance (mean perception)"), annotations=annotations,
                      yaxis_title=wrap_label(importance_titles.get(result.importance_type, _("Importance")), 36),
                      xaxis={"range": x_range, "fixedrange": True}, yaxis={"range": y_range, "fixedrange": True})
