"""What every chart shares: the :class:`Chart` and :class:`Labels` types, colours,
and the one figure helper (:meth:`Chart.draw`) that styles, serialises and
attaches a figure with its table.

A chart family module builds a plotly figure from an analysis result and
hands it to :meth:`Chart.draw`; a missing result becomes :meth:`Chart.skip`.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.common import Methods
from analysis.instruments import Codebook
# COMPARED_SCORES: the respondent scores trends and segment comparisons show (the analysis decides).
from analysis.report import COMPARED_SCORES, SurveyAnalysis  # noqa: F401

from ...i18n import text_in
from ..spreadsheet_safety import is_missing, safe_csv
from .layout import Box, place_labels, text_size, wrap_label

BAD = "#c0392b"
BAD_PALE = "#eba59d"
GOOD = "#1f5fa8"
GOOD_PALE = "#9dbde3"
NEUTRAL = "#7f8c8d"
EXPECTATION = "#95a5a6"
INK = "#333"
GUIDE = "#888"
SIGNIFICANCE_LEVEL = 0.05

FONT = "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', sans-serif"
GRID = "#e5e8eb"
ZERO_LINE = "#555"


# --------------------------------------------------------------------------
# Display names
# --------------------------------------------------------------------------

def score_names() -> dict[str, str]:
    return {"ratio": _("Satisfaction ratio P/E"), "gap": _("SERVQUAL gap P − E"),
            "weighted_gap": _("Weighted SERVQUAL gap"), "overall_ratio": _("Overall ratio P/E"),
            "positive_emotion": _("Positive emotion"), "negative_emotion": _("Negative emotion")}


def score_reference(score: str) -> float:
    """Where a respondent score means "expectations met": 1 for ratios, 0 for gaps."""
    return 1.0 if "ratio" in score else 0.0


def _csi_construct_names() -> dict[str, str]:
    return {"image": _("Image"), "expectation": _("Expectation"), "quality": _("Perceived quality"),
            "value": _("Perceived value"), "satisfaction": _("Satisfaction"),
            "loyalty": _("Loyalty"), "complaints": _("Complaints")}


@dataclass
class Labels:
    """Display names of dimensions, items, KANO features and segment answers in one language."""

    lang: str
    dimensions: dict[str, dict] = field(default_factory=dict)
    items: dict[str, dict] = field(default_factory=dict)
    features: dict[str, dict] = field(default_factory=dict)
    segments: dict[str, dict] = field(default_factory=dict)
    segment_values: dict[str, dict[float, dict]] = field(default_factory=dict)

    def _pick(self, texts: dict | None, fallback: str) -> str:
        return text_in(texts, self.lang) or fallback

    def dimension(self, code: str) -> str:
        if code in self.dimensions:
            return self._pick(self.dimensions[code], code)
        return _csi_construct_names().get(code, code.replace("_", " "))

    def item(self, code: str) -> str:
        return self._pick(self.items.get(code), code)

    def feature(self, code: str) -> str:
        return self._pick(self.features.get(code), code)

    def segment(self, column: str) -> str:
        return self._pick(self.segments.get(column), column)

    def segment_value(self, column: str, value: Any) -> str:
        try:
            key = float(value)
        except (TypeError, ValueError):
            return str(value)
        texts = self.segment_values.get(column, {}).get(key)
        return self._pick(texts, f"{key:g}")


def labels_for(codebook: Codebook, documents: Mapping[str, dict], kano_features: Iterable[dict],
               lang: str) -> Labels:
    """Labels of ``codebook``'s variables; ``documents`` are instrument documents by id
    (dimension labels, see :func:`surveyapp.services.surveys.instrument_documents`),
    ``kano_features`` the survey's ``[{code, feature: {zh, en}}]``."""
    dimensions: dict[str, dict] = {}
    for document in documents.values():
        for dimension in document.get("dimensions") or []:
            dimensions.setdefault(dimension["code"], dimension.get("label") or {})
    items: dict[str, dict] = {}
    segments: dict[str, dict] = {}
    segment_values: dict[str, dict[float, dict]] = {}
    for variable in codebook:
        # SERVQUAL items are named by their perception statement, the one about this firm.
        if variable.facet in (None, "P") or variable.item not in items:
            items[variable.item] = variable.text
        if variable.segment:
            segments[variable.name] = variable.text
            segment_values[variable.name] = {float(option["value"]): option["label"]
                                             for option in variable.scale.get("options", [])}
    features = {entry["code"]: entry.get("feature") or {} for entry in kano_features}
    return Labels(lang=lang, dimensions=dimensions, items=items, features=features,
                  segments=segments, segment_values=segment_values)


# --------------------------------------------------------------------------
# The chart and its one figure helper
# --------------------------------------------------------------------------

@dataclass
class Chart:
    """One dashboard chart: a figure, or the reason there is none, and its data."""

    id: str
    title: str
    subtitle: str = ""
    figure: dict | None = None
    empty: str | None = None
    note: str = ""
    table: pd.DataFrame | None = None
    #: charts shown one group at a time (segment comparisons: the segment variable)
    group: str = ""
    #: drawn across the page's full width on a desktop (dense diagrams)
    wide: bool = False
    #: a diagram drawn at least :data:`DIAGRAM_MIN_WIDTH` pixels wide (scrolls sideways on a phone)
    diagram: bool = False
    #: "few responses: n = 6" when the chart's result rests on fewer cases than its stated minimum
    few: str = ""

    def to_payload(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "subtitle": self.subtitle, "group": self.group,
                "wide": self.wide, "diagram": self.diagram, "few": self.few,
                "figure": self.figure, "empty": self.empty, "note": self.note,
                "has_data": self.table is not None and len(self.table) > 0}

    def skip(self, analysis: SurveyAnalysis, *sections: str) -> "Chart":
        """No figure: the analysis's reason for the first missing section, else "not measured"."""
        for section in sections:
            if section in analysis.skipped:
                return self.say(_("Not enough data for this chart: %(reason)s",
                                  reason=analysis.skipped[section]))
        return self.say(_("This survey does not measure this, or the filter leaves no responses."))

    def rests_on(self, result: Any) -> "Chart":
        """Mark the chart "few responses" when ``result``'s methods record says so."""
        self.few = few_responses(result)
        return self

    def say(self, reason: str) -> "Chart":
        """No figure, for ``reason``."""
        self.empty = reason
        return self

    def draw(self, figure: go.Figure, table: pd.DataFrame | None, *, height: int = 360,
             **layout: Any) -> "Chart":
        """Style ``figure`` the dashboard's way, keep it as plain JSON and ``table`` as its data.

        ``layout``: plotly layout settings of this chart (axis titles and ranges, legend, margin).
        """
        figure.update_layout(
            height=height, margin=layout.pop("margin", {"l": 10, "r": 10, "t": 10, "b": 40}),
            autosize=True, font={"family": FONT, "size": 13},
            # The empty template: the page styles the charts, and each figure's JSON stays small.
            template="none",
            paper_bgcolor="#fff", plot_bgcolor="#fff", showlegend=layout.pop("showlegend", False),
            legend=layout.pop("legend", {"orientation": "h", "y": -0.2}), **layout)
        figure.update_xaxes(automargin=True, gridcolor=GRID, zerolinecolor=ZERO_LINE)
        figure.update_yaxes(automargin=True, gridcolor=GRID, zerolinecolor=ZERO_LINE)
        self.figure = _plain(json.loads(figure.to_json()))
        self.table = table
        return self


def _plain(value: Any) -> Any:
    """Figure JSON as lists of numbers, ``None`` for missing values."""
    # plotly 6 stores numeric arrays base64-encoded ({"dtype", "bdata", "shape"}); plain lists
    # keep the page's data readable (tests, CSV checks) and NaN must become null for JSON.parse.
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if value.get("shape"):
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return _plain(array.tolist())
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def methods_record(result: Any) -> Methods | None:
    """The :class:`Methods` record of an analysis result (an attribute, or a DataFrame's attrs)."""
    record = getattr(result, "methods", None)
    if record is None and isinstance(result, pd.DataFrame):
        record = result.attrs.get("methods")
    return record if isinstance(record, Methods) else None


def few_responses(result: Any) -> str:
    """"Few responses: n = 6 (stated minimum 30)" when ``result`` rests on fewer cases than the
    stated minimum of its headline figure (:data:`analysis.common.MIN_N`), else ""."""
    record = methods_record(result)
    if record is None or not record.few_responses:
        return ""
    return _("Few responses: n = %(n)s (stated minimum %(minimum)s)", n=record.n_used, minimum=record.min_n)


def chart_csv(table: pd.DataFrame) -> str:
    """The chart's data as CSV text, every text cell safe to open in a spreadsheet."""
    return safe_csv(table.columns, table.itertuples(index=False))


# --------------------------------------------------------------------------
# Pieces of figures
# --------------------------------------------------------------------------

def hover(template: str) -> str:
    """A hover text without plotly's trace-name box."""
    return template + "<extra></extra>"


def side_colour(value: float, reference: float = 0.0) -> str:
    """Red below ``reference`` (below expectation, negative effect), blue at or above it."""
    return BAD if value < reference else GOOD


def gap_colour(mean: float, low: float, high: float) -> str:
    """:func:`side_colour` of a gap, paler when its interval includes 0 (not significant)."""
    significant = not (low <= 0 <= high)
    if mean < 0:
        return BAD if significant else BAD_PALE
    return GOOD if significant else GOOD_PALE


def interval(mean: Sequence[float] | pd.Series, low: Sequence[float] | pd.Series,
             high: Sequence[float] | pd.Series, colour: str = INK) -> dict[str, Any]:
    """Error bars from ``low`` to ``high`` around ``mean`` (an asymmetric confidence interval)."""
    mean, low, high = (np.asarray(values, dtype=float) for values in (mean, low, high))
    return {"type": "data", "symmetric": False, "array": high - mean, "arrayminus": mean - low,
            "color": colour}


def guide(figure: go.Figure, *, x: float | None = None, y: float | None = None,
          colour: str = INK, dash: str = "dash") -> None:
    """A reference line across the plot: expectations met, a quadrant split."""
    if x is not None:
        figure.add_vline(x=x, line_dash=dash, line_color=colour)
    if y is not None:
        figure.add_hline(y=y, line_dash=dash, line_color=colour)


#: Font size and padding (pixels) of a label placed beside a point (:func:`point_labels`).
POINT_LABEL_FONT = 12
POINT_LABEL_PAD = 2


def point_label_size(text: str) -> tuple[float, float]:
    """Pixel size of a :func:`point_labels` label: its text, padding and 1 px border on each side."""
    width, height = text_size(text, POINT_LABEL_FONT)
    frame = 2 * (POINT_LABEL_PAD + 1)
    return width + frame, height + frame


def point_labels(xs: Sequence[float], ys: Sequence[float], texts: Sequence[str], marker_sizes: Sequence[float],
                 colours: Sequence[str], x_range: Sequence[float], y_range: Sequence[float],
                 smallest_plot: tuple[float, float], corners: Iterable[tuple[float, float, str]] = (),
                 corner_size: int = 11) -> list[dict[str, Any]]:
    """Annotations labelling each point with ``texts``, joined to it by a thin line, none overlapping
    another, a marker or a corner name.

    Placed (:func:`.layout.place_labels`) for the smallest plot area the chart is drawn in,
    ``smallest_plot`` pixels (width, height) over ``x_range`` and ``y_range``; on a larger plot the
    labels only move apart. ``corners``: :func:`corner_notes` names ``(x, y, text)`` in fractions of
    the plot area (``ref="paper"``), anchored as that function anchors them.
    """
    kx = smallest_plot[0] / (x_range[1] - x_range[0])
    ky = smallest_plot[1] / (y_range[1] - y_range[0])
    area = Box(x_range[0] * kx, y_range[0] * ky, x_range[1] * kx, y_range[1] * ky)
    obstacles = [Box.around(x * kx, y * ky, size, size) for x, y, size in zip(xs, ys, marker_sizes)]
    for fx, fy, text in corners:
        width, height = text_size(text, corner_size)
        x = (x_range[0] + fx * (x_range[1] - x_range[0])) * kx
        y = (y_range[0] + fy * (y_range[1] - y_range[0])) * ky
        left = x if fx < 0.5 else x - width
        bottom = y - height if fy > 0.5 else y
        obstacles.append(Box(left, bottom, left + width, bottom + height))
    sizes = [point_label_size(text) for text in texts]
    places = place_labels(list(zip(xs, ys)), sizes, (kx, ky), area, obstacles)
    return [dict(x=x, y=y, ax=lx, ay=ly, xref="x", yref="y", axref="x", ayref="y", text=text,
                 showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor=GUIDE, standoff=size / 2,
                 font={"size": POINT_LABEL_FONT, "color": INK}, bgcolor="#fff", bordercolor=colour,
                 borderwidth=1, borderpad=POINT_LABEL_PAD, xanchor="center", yanchor="middle")
            for (lx, ly), x, y, text, size, colour in zip(places, xs, ys, texts, marker_sizes, colours)]


def corner_notes(notes: Iterable[tuple[float, float, str, str]], ref: str, size: int) -> list[dict[str, Any]]:
    """Quadrant names ``(x, y, text, colour)`` written into the corners of a grid: anchored at their
    left side when ``x < 0.5``, else their right; at their top when ``y > 0.5``, else their bottom."""
    # Annotations as dicts, set with the figure's layout in one go (plotly re-validates every
    # annotation on each add_annotation).
    return [dict(x=x, y=y, xref=ref, yref=ref if ref == "paper" else "y", text=text, showarrow=False,
                 xanchor="left" if x < 0.5 else "right", yanchor="top" if y > 0.5 else "bottom",
                 font={"color": colour, "size": size})
            for x, y, text, colour in notes]


def stars(p: float) -> str:
    if is_missing(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < SIGNIFICANCE_LEVEL else ""


#: Columns (a CJK character is two) a phone-width category axis has for all its labels together.
CATEGORY_AXIS_COLUMNS = 36


def category_ticks(names: Sequence[str]) -> list[str]:
    """Category axis labels wrapped so that side by side they fit a phone's plot, drawn upright
    (with ``tickangle=0``) instead of rotated: at least 8 columns a label."""
    width = max(8, CATEGORY_AXIS_COLUMNS // max(1, len(names)))
    return [wrap_label(name, width) for name in names]


#: Width in pixels (CSS ``.plot.diagram``'s min-width) a path diagram is never drawn narrower than.
DIAGRAM_MIN_WIDTH = 880
