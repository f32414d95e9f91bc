"""Path diagrams: constructs as boxes (with R²), arrows labelled with standardized coefficients.

Drawn for the relationship model (:mod:`.relationship`) and the CSI structural model (:mod:`.csi`).
Boxes are shapes in data coordinates sized for their text at the smallest width the diagram is
drawn at (:data:`.common.DIAGRAM_MIN_WIDTH`); arrows run from the edge of one box to the edge
of the other (:func:`.layout.arrow_between`); each coefficient sits beside its own arrow where
it covers no other label and no box (:func:`coefficient_places`).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ..spreadsheet_safety import is_missing
from .common import DIAGRAM_MIN_WIDTH, GOOD, SIGNIFICANCE_LEVEL, Labels, side_colour, stars
from .layout import Box, arrow_between, label_along, text_size, wrap_label

NOT_SIGNIFICANT = "#aab2b9"
NOT_SIGNIFICANT_TEXT = "#5f6a72"
BOX_FILL = "#eef3f8"
NODE_FONT = 11
COEFFICIENT_FONT = 12
#: Padding (pixels) between a box's text and its border.
BOX_PAD = 6
X_RANGE = (-0.15, 1.15)
Y_RANGE = (-0.1, 1.1)
#: Layout of a path diagram for :meth:`Chart.draw`: hidden axes over the unit square.
PATH_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
    "xaxis": {"visible": False, "range": list(X_RANGE), "fixedrange": True},
    "yaxis": {"visible": False, "range": list(Y_RANGE), "fixedrange": True},
}
#: Where along an arrow (share of its length) its coefficient may sit, in order of preference.
LABEL_SHARES = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)


def diagram_scale(height: int) -> tuple[float, float]:
    """Pixels per data unit (x, y) of a diagram ``height`` pixels high at its smallest width."""
    margin = PATH_LAYOUT["margin"]
    width = DIAGRAM_MIN_WIDTH - margin["l"] - margin["r"]
    return (width / (X_RANGE[1] - X_RANGE[0]), (height - margin["t"] - margin["b"]) / (Y_RANGE[1] - Y_RANGE[0]))


def _places(nodes: list[str], positions: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """``positions``, and a circle for constructs the layout does not place."""
    unplaced = [n for n in nodes if n not in positions]
    place = dict(positions)
    for index, node in enumerate(unplaced):
        angle = 2 * math.pi * index / max(1, len(unplaced))
        place[node] = (0.5 + 0.45 * math.cos(angle), 0.5 + 0.45 * math.sin(angle))
    return place


def r2_text(values: Sequence[float]) -> str:
    """"R² = 0.35" for one model, "R² = 0.35 · 0.31 · 0.10" for an outcome with several."""
    shown = [f"{value:.2f}" for value in values if not is_missing(value)]
    return "R² = " + " · ".join(shown) if shown else ""


def coefficient_places(arrows: Sequence[tuple[tuple[float, float], tuple[float, float]]],
                       sizes: Sequence[tuple[float, float]], scale: tuple[float, float],
                       obstacles: Sequence[Box]) -> list[tuple[float, float]]:
    """Centres (data units) of the arrows' labels (``sizes`` in pixels): beside each arrow, left of
    its direction, at the first share of :data:`LABEL_SHARES` (then the right side) where the label
    covers no earlier label, no obstacle (boxes, in pixels at ``scale``) and no other arrow, so
    that it is read as its own arrow's. Covering nothing comes first; when every place crosses an
    arrow, the place crossing fewest is taken."""
    kx, ky = scale
    lines = [((x0 * kx, y0 * ky), (x1 * kx, y1 * ky)) for (x0, y0), (x1, y1) in arrows]
    placed: list[Box] = []
    centres: list[tuple[float, float]] = []
    for index, ((start, end), (width, height)) in enumerate(zip(arrows, sizes)):
        # Far enough from the line that the label's box clears it whatever the arrow's angle.
        offset = math.hypot(width, height) / 2 + 1
        others = [line for other, line in enumerate(lines) if other != index]
        best, best_cost = None, (math.inf, math.inf)
        for share in LABEL_SHARES:
            for side in (1, -1):
                x, y = label_along(start, end, share, side * offset, scale)
                box = Box.around(x * kx, y * ky, width, height)
                cost = (sum(box.overlap_area(other) for other in (*placed, *obstacles)),
                        sum(box.crosses(*line) for line in others))
                if cost < best_cost:
                    best, best_cost = ((x, y), box), cost
                if cost == (0, 0):
                    break
            if best_cost == (0, 0):
                break
        centres.append(best[0])
        placed.append(best[1])
    return centres


def path_figure(edges: pd.DataFrame, r2: Mapping[str, float | Sequence[float]],
                positions: Mapping[str, tuple[float, float]], labels: Labels, height: int,
                r2_details: Mapping[str, str] | None = None) -> go.Figure:
    """The diagram of ``edges`` (source, target, estimate, p: NaN when unknown) drawn ``height``
    pixels high with :data:`PATH_LAYOUT`. ``r2``: an outcome's R², or the R² of each of its models;
    ``r2_details``: an outcome's hover text on its models."""
    nodes = list(dict.fromkeys([*edges["source"], *edges["target"]]))
    place = _places(nodes, positions)
    kx, ky = diagram_scale(height)
    texts, halves = {}, {}
    for node in nodes:
        text = "<b>" + wrap_label(labels.dimension(node), 18) + "</b>"
        values = r2.get(node)
        if values is not None:
            line = r2_text([values] if isinstance(values, (int, float)) else list(values))
            if line:
                text += "<br>" + line
        texts[node] = text
        width, text_height = text_size(text, NODE_FONT)
        halves[node] = ((width / 2 + BOX_PAD) / kx, (text_height / 2 + BOX_PAD) / ky)
    boxes = {node: Box.around(place[node][0] * kx, place[node][1] * ky,
                              2 * halves[node][0] * kx, 2 * halves[node][1] * ky) for node in nodes}
    arrows, colours, label_texts = [], [], []
    for edge in edges.itertuples(index=False):
        arrows.append(arrow_between(place[edge.source], halves[edge.source],
                                    place[edge.target], halves[edge.target]))
        significant = not is_missing(edge.p) and edge.p < SIGNIFICANCE_LEVEL
        colours.append(side_colour(edge.estimate) if significant else NOT_SIGNIFICANT)
        label_texts.append(f"{edge.estimate:.2f}{stars(edge.p)}")
    sizes = [tuple(v + 4 for v in text_size(text, COEFFICIENT_FONT)) for text in label_texts]
    centres = coefficient_places(arrows, sizes, (kx, ky), list(boxes.values()))
    # Annotations collected and set once: plotly re-validates all of them on every add_annotation.
    notes: list[dict] = []
    for ((x0, y0), (x1, y1)), edge, colour in zip(arrows, edges.itertuples(index=False), colours):
        notes.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                          showarrow=True, arrowhead=3, arrowsize=1, standoff=0, startstandoff=0,
                          arrowwidth=1 + 3 * min(1.0, abs(edge.estimate)), arrowcolor=colour, text=""))
    for (x, y), text, colour in zip(centres, label_texts, colours):
        notes.append(dict(x=x, y=y, xref="x", yref="y", text=text, showarrow=False,
                          bgcolor="rgba(255,255,255,0.9)", borderpad=1,
                          # grey text darker than the grey arrow: readable (contrast) on white
                          font={"size": COEFFICIENT_FONT,
                                "color": colour if colour != NOT_SIGNIFICANT else NOT_SIGNIFICANT_TEXT}))
    for node in nodes:
        notes.append(dict(x=place[node][0], y=place[node][1], xref="x", yref="y", text=texts[node],
                          showarrow=False, font={"size": NODE_FONT}, name=f"node:{node}"))
    shapes = [dict(type="rect", xref="x", yref="y", layer="below", fillcolor=BOX_FILL,
                   line={"color": GOOD, "width": 1},
                   x0=place[n][0] - halves[n][0], x1=place[n][0] + halves[n][0],
                   y0=place[n][1] - halves[n][1], y1=place[n][1] + halves[n][1], name=f"node:{n}")
              for n in nodes]
    details = r2_details or {}
    return go.Figure(go.Scatter(
        x=[place[n][0] for n in nodes], y=[place[n][1] for n in nodes], mode="markers",
        text=[labels.dimension(n) + ("<br>" + details[n] if n in details else "") for n in nodes],
        hoverinfo="text", marker={"size": 30, "opacity": 0, "symbol": "square"}),
        layout={"annotations": notes, "shapes": shapes})
