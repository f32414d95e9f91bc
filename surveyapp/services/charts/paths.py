"""Path diagrams: constructs as boxes (with R²), arrows labelled with standardized coefficients.

Drawn for the relationship model (:mod:`.relationship`) and the CSI structural model (:mod:`.csi`).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd
import plotly.graph_objects as go

from ..spreadsheet_safety import is_missing
from .common import GOOD, SIGNIFICANCE_LEVEL, Labels, side_colour, stars

NOT_SIGNIFICANT = "#aab2b9"
#: Layout of a path diagram for :meth:`Chart.draw`: hidden axes over the unit square.
PATH_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
    "xaxis": {"visible": False, "range": [-0.15, 1.15], "fixedrange": True},
    "yaxis": {"visible": False, "range": [-0.1, 1.1], "fixedrange": True},
}


def _wrap(text: str, width: int = 16) -> str:
    """Break a long construct name onto lines of about ``width`` characters (at spaces)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _places(nodes: list[str], positions: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """``positions``, and a circle for constructs the layout does not place."""
    unplaced = [n for n in nodes if n not in positions]
    place = dict(positions)
    for index, node in enumerate(unplaced):
        angle = 2 * math.pi * index / max(1, len(unplaced))
        place[node] = (0.5 + 0.45 * math.cos(angle), 0.5 + 0.45 * math.sin(angle))
    return place


def path_figure(edges: pd.DataFrame, r2: Mapping[str, float], positions: Mapping[str, tuple[float, float]],
                labels: Labels) -> go.Figure:
    """The diagram of ``edges`` (source, target, estimate, p: NaN when unknown); draw it with
    :data:`PATH_LAYOUT`."""
    nodes = list(dict.fromkeys([*edges["source"], *edges["target"]]))
    place = _places(nodes, positions)
    # Annotations collected and set once: plotly re-validates all of them on every add_annotation.
    notes: list[dict] = []
    for edge in edges.itertuples(index=False):
        (x0, y0), (x1, y1) = place[edge.source], place[edge.target]
        significant = not is_missing(edge.p) and edge.p < SIGNIFICANCE_LEVEL
        colour = side_colour(edge.estimate) if significant else NOT_SIGNIFICANT
        notes.append(dict(x=x0 + 0.72 * (x1 - x0), y=y0 + 0.72 * (y1 - y0), ax=x0 + 0.28 * (x1 - x0),
                          ay=y0 + 0.28 * (y1 - y0), xref="x", yref="y", axref="x", ayref="y",
                          showarrow=True, arrowhead=3, arrowsize=1.2,
                          arrowwidth=1 + 4 * min(1.0, abs(edge.estimate)), arrowcolor=colour, text=""))
        notes.append(dict(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=f"{edge.estimate:.2f}{stars(edge.p)}",
                          showarrow=False, bgcolor="rgba(255,255,255,0.85)", font={"size": 12, "color": colour}))
    for node in nodes:
        text = "<b>" + _wrap(labels.dimension(node)) + "</b>"
        if node in r2 and not is_missing(r2[node]):
            text += f"<br>R² = {r2[node]:.2f}"
        # Nodes are boxed labels drawn over the arrows' ends.
        notes.append(dict(x=place[node][0], y=place[node][1], xref="x", yref="y", text=text,
                          showarrow=False, bgcolor="#eef3f8", bordercolor=GOOD, borderwidth=1,
                          borderpad=4, font={"size": 11}))
    return go.Figure(go.Scatter(
        x=[place[n][0] for n in nodes], y=[place[n][1] for n in nodes], mode="markers",
        text=[labels.dimension(n) for n in nodes], hoverinfo="text", marker={"size": 1, "opacity": 0}),
        layout={"annotations": notes})
