"""Dashboard charts: plotly figures drawn from :class:`analysis.report.SurveyAnalysis` results.

Every chart takes numbers that the analysis computed and only arranges them
(sorting, colouring, labelling); no statistic is computed here. Each builder
returns a :class:`Chart`: the plotly figure as plain JSON for the page, the
table the figure was drawn from (the chart's CSV download), and, when the
analysis could not compute the section, the reason instead of a figure, so
the page says "too few responses" rather than drawing noise.

Builders call ``flask_babel.gettext``: call them under
``flask_babel.force_locale(lang)`` to get one language's titles.

Colours are the same everywhere: below expectation (negative gap, ratio < 1)
red, above it blue, "not significant" paler; expectation grey.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.instruments import Codebook
from analysis.report import SCORE_LABELS, SurveyAnalysis, compare_segments

from .spreadsheet_safety import neutralise_cell

BAD = "#c0392b"
BAD_PALE = "#eba59d"
GOOD = "#1f5fa8"
GOOD_PALE = "#9dbde3"
NEUTRAL = "#7f8c8d"
EXPECTATION = "#95a5a6"
KANO_COLOURS = {"A": "#27ae60", "O": "#1f5fa8", "M": "#c0392b", "I": "#95a5a6",
                "R": "#8e44ad", "Q": "#2c3e50"}
SIGNIFICANCE_LEVEL = 0.05
RATIO_BIN_WIDTH = 0.05

#: Respondent scores offered in trends and segment comparisons, in menu order.
COMPARED_SCORES = ("ratio", "gap")


def _kano_names() -> dict[str, str]:
    return {"A": _("Attractive"), "O": _("One-dimensional"), "M": _("Must-be"),
            "I": _("Indifferent"), "R": _("Reverse"), "Q": _("Questionable")}


def _score_names() -> dict[str, str]:
    return {"ratio": _("Satisfaction ratio P/E"), "gap": _("SERVQUAL gap P − E"),
            "weighted_gap": _("Weighted SERVQUAL gap"), "overall_ratio": _("Overall ratio P/E"),
            "positive_emotion": _("Positive emotion"), "negative_emotion": _("Negative emotion")}


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
        texts = texts or {}
        return texts.get(self.lang) or next(iter(texts.values()), None) or fallback

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
    (dimension labels), ``kano_features`` the survey's ``[{code, feature: {zh, en}}]``."""
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

    def to_payload(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "subtitle": self.subtitle, "group": self.group,
                "wide": self.wide,
                "figure": self.figure, "empty": self.empty, "note": self.note,
                "has_data": self.table is not None and len(self.table) > 0}


def chart_csv(table: pd.DataFrame) -> str:
    """The chart's data as CSV text, every text cell safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_cell(str(column)) for column in table.columns])
    for row in table.itertuples(index=False):
        writer.writerow(["" if _missing(value) else neutralise_cell(value) for value in row])
    return buffer.getvalue()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _figure_json(figure: go.Figure) -> dict:
    """The figure as plain JSON: lists of numbers, ``None`` for missing values."""
    return _plain(json.loads(figure.to_json()))


def _plain(value: Any) -> Any:
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


def _layout(figure: go.Figure, *, height: int = 360, **extra: Any) -> go.Figure:
    figure.update_layout(
        height=height, margin=extra.pop("margin", {"l": 10, "r": 10, "t": 10, "b": 40}), autosize=True,
        font={"family": "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', sans-serif",
              "size": 13},
        # The empty template: the page styles the charts, and each figure's JSON stays small.
        template="none",
        paper_bgcolor="#fff", plot_bgcolor="#fff", showlegend=extra.pop("showlegend", False),
        legend={"orientation": "h", "y": -0.2}, **extra)
    figure.update_xaxes(automargin=True, gridcolor="#e5e8eb", zerolinecolor="#555")
    figure.update_yaxes(automargin=True, gridcolor="#e5e8eb", zerolinecolor="#555")
    return figure


def _skipped(analysis: SurveyAnalysis, *sections: str) -> str:
    """The analysis's reason for a missing section, for the chart's empty state."""
    for section in sections:
        if section in analysis.skipped:
            return _("Not enough data for this chart: %(reason)s", reason=analysis.skipped[section])
    return _("This survey does not measure this, or the filter leaves no responses.")


def _gap_colour(mean: float, low: float, high: float) -> str:
    significant = not (low <= 0 <= high)
    if mean < 0:
        return BAD if significant else BAD_PALE
    return GOOD if significant else GOOD_PALE


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------
# SERVQUAL
# --------------------------------------------------------------------------

def servqual_gap_by_dimension(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_dimensions", _("Where service falls short: gap by dimension"),
                  _("Perception minus expectation (P − E) with 95 percent confidence interval. "
                    "Below 0 (red): customers get less than they expect; pale: not significant."))
    if analysis.servqual is None:
        chart.empty = _skipped(analysis, "servqual")
        return chart
    table = analysis.servqual.dimensions.sort_values("mean_gap")
    names = [labels.dimension(code) for code in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=table["mean_gap"], y=names, orientation="h",
        marker_color=[_gap_colour(m, lo, hi) for m, lo, hi in
                      zip(table["mean_gap"], table["ci_low"], table["ci_high"])],
        error_x={"type": "data", "symmetric": False, "array": table["ci_high"] - table["mean_gap"],
                 "arrayminus": table["mean_gap"] - table["ci_low"], "color": "#333"},
        customdata=np.column_stack([table["ci_low"], table["ci_high"], table["n"]]),
        hovertemplate="%{y}: %{x:.2f} [%{customdata[0]:.2f}, %{customdata[1]:.2f}], n=%{customdata[2]}"
                      "<extra></extra>"))
    _layout(figure, height=80 + 48 * len(table), xaxis_title=_("Gap P − E (0 = expectations met)"))
    chart.figure = _figure_json(figure)
    chart.table = table[["dimension", "n", "mean_E", "mean_P", "mean_gap", "ci_low", "ci_high",
                         "p_t_holm", "share_negative"]].assign(label=names)
    return chart


def servqual_items_dumbbell(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_items", _("Expectation vs perception per item, largest shortfall first"),
                  _("Grey: what customers expect; coloured: what they perceive. "
                    "The longer a red line, the larger the shortfall."))
    if analysis.servqual is None:
        chart.empty = _skipped(analysis, "servqual")
        return chart
    # Worst item on top: plotly draws the first category at the bottom.
    table = analysis.servqual.items.sort_values("mean_gap", ascending=False)
    names = [f"{code} {_short(labels.item(code), 22)}" for code in table["item"]]
    segment_x: list[float | None] = []
    segment_y: list[str | None] = []
    for name, e, p in zip(names, table["mean_E"], table["mean_P"]):
        segment_x += [e, p, None]
        segment_y += [name, name, None]
    colours = [_gap_colour(m, lo, hi) for m, lo, hi in
               zip(table["mean_gap"], table["ci_low"], table["ci_high"])]
    figure = go.Figure([
        go.Scatter(x=segment_x, y=segment_y, mode="lines", line={"color": "#b0b7bd", "width": 3},
                   hoverinfo="skip", showlegend=False),
        go.Scatter(x=table["mean_E"], y=names, mode="markers", name=_("Expectation"),
                   marker={"color": EXPECTATION, "size": 10},
                   hovertemplate="%{y}<br>" + _("Expectation") + " %{x:.2f}<extra></extra>"),
        go.Scatter(x=table["mean_P"], y=names, mode="markers", name=_("Perception"),
                   marker={"color": colours, "size": 11},
                   customdata=table["mean_gap"],
                   hovertemplate="%{y}<br>" + _("Perception") + " %{x:.2f}, "
                                 + _("gap") + " %{customdata:.2f}<extra></extra>"),
    ])
    _layout(figure, height=90 + 24 * len(table), showlegend=True,
            xaxis_title=_("Mean rating"), yaxis={"tickfont": {"size": 11}})
    chart.figure = _figure_json(figure)
    chart.table = table[["item", "dimension", "n", "mean_E", "mean_P", "mean_gap", "ci_low",
                         "ci_high", "p_t_holm"]].assign(label=[labels.item(c) for c in table["item"]])
    return chart


def servqual_scores(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("servqual_scores", _("SERVQUAL score: unweighted vs importance-weighted"),
                  _("Weighted by the 100 points each customer gave the five dimensions. "
                    "Below 0: overall quality below expectations."))
    if analysis.servqual is None:
        chart.empty = _skipped(analysis, "servqual")
        return chart
    table = analysis.servqual.scores
    names = {"unweighted": _("Unweighted"), "weighted": _("Importance-weighted")}
    figure = go.Figure(go.Bar(
        x=[names.get(s, s) for s in table["score"]], y=table["value"],
        marker_color=[BAD if v < 0 else GOOD for v in table["value"]],
        text=[f"{v:.2f}" for v in table["value"]], textposition="outside",
        customdata=table["n"], hovertemplate="%{x}: %{y:.3f}, n=%{customdata}<extra></extra>"))
    _layout(figure, height=300, yaxis_title=_("Gap P − E"))
    chart.figure = _figure_json(figure)
    chart.table = table.copy()
    if analysis.servqual.weights is not None:
        weights = analysis.servqual.weights
        chart.note = _("Mean importance weights: %(weights)s", weights=", ".join(
            f"{labels.dimension(d)} {w:.0%}" for d, w in zip(weights["dimension"], weights["mean_weight"])))
    return chart


# --------------------------------------------------------------------------
# Satisfaction ratio (seed 004: P / E)
# --------------------------------------------------------------------------

def ratio_distribution(analysis: SurveyAnalysis, labels: Labels, instrument: str = "servqual") -> Chart:
    chart = Chart("ratio_distribution", _("How satisfied are customers? Distribution of P/E"),
                  _("Each customer's satisfaction ratio perception / expectation: "
                    "below 1 disappointed (red), 1 met, above 1 delighted (blue)."))
    result = analysis.satisfaction.get(instrument)
    if result is None:
        chart.empty = _skipped(analysis, f"satisfaction_{instrument}")
        return chart
    ratios = result.respondents["ratio"].dropna().to_numpy()
    if ratios.size == 0:
        chart.empty = _("No customer has a defined ratio in this selection.")
        return chart
    # Display binning only (a histogram of the analysis's per-respondent ratios),
    # so the page gets a few dozen bars instead of every respondent's value.
    low = math.floor(ratios.min() / RATIO_BIN_WIDTH) * RATIO_BIN_WIDTH
    high = math.ceil(ratios.max() / RATIO_BIN_WIDTH + 1e-9) * RATIO_BIN_WIDTH
    edges = np.round(np.arange(low, high + RATIO_BIN_WIDTH / 2, RATIO_BIN_WIDTH), 6)
    if edges.size < 2:
        edges = np.array([low, low + RATIO_BIN_WIDTH])
    counts, edges = np.histogram(ratios, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    colours = [BAD if right <= 1 else (GOOD if left >= 1 else NEUTRAL)
               for left, right in zip(edges[:-1], edges[1:])]
    figure = go.Figure(go.Bar(x=centres, y=counts, width=RATIO_BIN_WIDTH * 0.95, marker_color=colours,
                              customdata=np.column_stack([edges[:-1], edges[1:]]),
                              hovertemplate="%{customdata[0]:.2f}–%{customdata[1]:.2f}: %{y}<extra></extra>"))
    figure.add_vline(x=1, line_dash="dash", line_color="#333")
    _layout(figure, height=300, xaxis_title=_("Satisfaction ratio P/E"), yaxis_title=_("Customers"),
            bargap=0.02)
    survey = result.survey.iloc[0]
    chart.note = _("%(disappointed)s disappointed, %(met)s met, %(delighted)s delighted (n = %(n)s).",
                   disappointed=f"{survey['share_disappointed']:.0%}", met=f"{survey['share_met']:.0%}",
                   delighted=f"{survey['share_delighted']:.0%}", n=int(survey["n"]))
    chart.figure = _figure_json(figure)
    chart.table = pd.DataFrame({"bin_from": edges[:-1], "bin_to": edges[1:], "customers": counts})
    return chart


def ratio_by_dimension(analysis: SurveyAnalysis, labels: Labels, instrument: str = "servqual") -> Chart:
    chart = Chart("ratio_dimensions", _("Satisfaction ratio P/E by dimension"),
                  _("Mean perception / mean expectation; 1 = expectations exactly met."))
    result = analysis.satisfaction.get(instrument)
    if result is None:
        chart.empty = _skipped(analysis, f"satisfaction_{instrument}")
        return chart
    table = result.dimensions.sort_values("ratio_of_means")
    names = [labels.dimension(code) for code in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=table["ratio_of_means"], y=names, orientation="h",
        marker_color=[BAD if r < 1 else GOOD for r in table["ratio_of_means"]],
        text=[f"{r:.3f}" for r in table["ratio_of_means"]], textposition="auto",
        customdata=table["n"], hovertemplate="%{y}: %{x:.3f}, n=%{customdata}<extra></extra>"))
    figure.add_vline(x=1, line_dash="dash", line_color="#333")
    lowest = float(min(table["ratio_of_means"].min(), 1.0))
    _layout(figure, height=80 + 48 * len(table), xaxis_title=_("Ratio P/E"),
            xaxis={"range": [max(0.0, lowest - 0.1), max(1.05, float(table["ratio_of_means"].max()) + 0.05)]})
    chart.figure = _figure_json(figure)
    chart.table = table[["dimension", "n", "mean_E", "mean_P", "ratio_of_means", "mean_ratio",
                         "share_disappointed", "share_met", "share_delighted"]].assign(label=names)
    return chart


# --------------------------------------------------------------------------
# KANO
# --------------------------------------------------------------------------

def kano_map(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("kano_map", _("KANO: which features delight, which are must-haves"),
                  _("Better (satisfaction if present) against |worse| (dissatisfaction if absent); "
                    "point size: self-stated importance."))
    if analysis.kano is None:
        chart.empty = _skipped(analysis, "kano")
        return chart
    table = analysis.kano.reset_index() if "feature" not in analysis.kano else analysis.kano.copy()
    if "feature" not in table:
        table = table.rename(columns={table.columns[0]: "feature"})
    importance = None
    if analysis.kano_continuous is not None and "importance_mean" in analysis.kano_continuous:
        importance = analysis.kano_continuous["importance_mean"]
        table["importance"] = importance.reindex(table["feature"]).to_numpy()
    table["worse_abs"] = table["worse"].abs()
    names = _kano_names()
    traces = []
    for category, group in table.groupby("category", sort=True):
        sizes = (8 + 3 * group["importance"].fillna(group["importance"].mean() if importance is not None
                                                    else 4)) if importance is not None else 14
        traces.append(go.Scatter(
            x=group["worse_abs"], y=group["better"], mode="markers+text", name=names.get(category, category),
            text=[_short(labels.feature(code), 18) for code in group["feature"]], textposition="top center",
            marker={"color": KANO_COLOURS.get(category, NEUTRAL), "size": sizes, "opacity": 0.85,
                    "line": {"color": "#fff", "width": 1}},
            customdata=np.column_stack([group["feature"], group["fong_significant"].astype(str)]),
            hovertemplate="%{customdata[0]}: better %{y:.2f}, |worse| %{x:.2f}<extra></extra>"))
    figure = go.Figure(traces)
    for value in (0.5,):
        figure.add_hline(y=value, line_dash="dot", line_color="#888")
        figure.add_vline(x=value, line_dash="dot", line_color="#888")
    for x, y, text in ((0.02, 0.98, _("Attractive")), (0.98, 0.98, _("One-dimensional")),
                       (0.98, 0.02, _("Must-be")), (0.02, 0.02, _("Indifferent"))):
        figure.add_annotation(x=x, y=y, xref="x", yref="y", text=text, showarrow=False,
                              xanchor="left" if x < 0.5 else "right",
                              yanchor="top" if y > 0.5 else "bottom", font={"color": "#777", "size": 11})
    _layout(figure, height=420, showlegend=True, xaxis_title=_("|Worse|: dissatisfaction if absent"),
            yaxis_title=_("Better: satisfaction if present"),
            xaxis={"range": [0, 1]}, yaxis={"range": [0, 1]})
    chart.figure = _figure_json(figure)
    columns = ["feature", "n", "category", "category_name", "fong_significant", "better", "worse",
               "share_A", "share_O", "share_M", "share_I", "share_R", "share_Q"]
    chart.table = table[[c for c in columns if c in table] +
                        (["importance"] if importance is not None else [])].assign(
        label=[labels.feature(code) for code in table["feature"]])
    return chart


def kano_rows(analysis: SurveyAnalysis, labels: Labels) -> list[dict[str, Any]]:
    """The KANO category table for the page: one dict a feature."""
    if analysis.kano is None:
        return []
    table = analysis.kano.reset_index() if "feature" not in analysis.kano else analysis.kano
    names = _kano_names()
    return [{"feature": row["feature"], "label": labels.feature(row["feature"]), "n": int(row["n"]),
             "category": row["category"], "category_label": names.get(row["category"], row["category"]),
             "second": names.get(row["second"], row["second"]) if isinstance(row["second"], str) else "",
             "fong_significant": bool(row["fong_significant"]),
             "better": float(row["better"]), "worse": float(row["worse"])}
            for _index, row in table.iterrows()]


# --------------------------------------------------------------------------
# Importance-performance
# --------------------------------------------------------------------------

def ipa_grid(analysis: SurveyAnalysis, labels: Labels, kind: str) -> Chart:
    titles = {"stated": _("Importance-performance grid (importance stated by customers)"),
              "derived": _("Importance-performance grid (importance derived from overall satisfaction)")}
    chart = Chart(f"ipa_{kind}", titles.get(kind, kind),
                  _("Top left: important but performing poorly - concentrate here."))
    result = analysis.ipa.get(kind)
    if result is None:
        chart.empty = _skipped(analysis, f"ipa_{kind}")
        return chart
    table = result.table
    quadrant_names = {"concentrate here": _("Concentrate here"),
                      "keep up the good work": _("Keep up the good work"),
                      "low priority": _("Low priority"), "possible overkill": _("Possible overkill")}
    quadrant_colours = {"concentrate here": BAD, "keep up the good work": GOOD,
                        "low priority": NEUTRAL, "possible overkill": "#e67e22"}
    figure = go.Figure(go.Scatter(
        x=table["performance"], y=table["importance"], mode="markers+text",
        text=[labels.dimension(code) for code in table["item"]], textposition="top center",
        marker={"size": 14, "color": [quadrant_colours.get(q, NEUTRAL) for q in table["quadrant"]]},
        customdata=[quadrant_names.get(q, q) for q in table["quadrant"]],
        hovertemplate="%{text}: " + _("performance") + " %{x:.2f}, " + _("importance")
                      + " %{y:.3f}<br>%{customdata}<extra></extra>"))
    figure.add_vline(x=result.performance_split, line_dash="dot", line_color="#888")
    figure.add_hline(y=result.importance_split, line_dash="dot", line_color="#888")
    for x, y, quadrant in ((0.01, 0.99, "concentrate here"), (0.99, 0.99, "keep up the good work"),
                           (0.01, 0.01, "low priority"), (0.99, 0.01, "possible overkill")):
        figure.add_annotation(x=x, y=y, xref="paper", yref="paper", text=quadrant_names[quadrant],
                              showarrow=False, xanchor="left" if x < 0.5 else "right",
                              yanchor="top" if y > 0.5 else "bottom",
                              font={"color": quadrant_colours[quadrant], "size": 12})
    x_pad = max(0.1, float(table["performance"].max() - table["performance"].min()) * 0.25)
    y_pad = max(1e-3, float(table["importance"].max() - table["importance"].min()) * 0.25)
    importance_titles = {"stated": _("Importance (mean points of 100)"),
                         "regression": _("Importance (standardized regression weight)"),
                         "correlation": _("Importance (correlation with overall satisfaction)")}
    _layout(figure, height=400, xaxis_title=_("Performance (mean perception)"),
            yaxis_title=importance_titles.get(result.importance_type, _("Importance")),
            xaxis={"range": [float(table["performance"].min()) - x_pad,
                             float(table["performance"].max()) + x_pad]},
            yaxis={"range": [float(table["importance"].min()) - y_pad,
                             float(table["importance"].max()) + y_pad]})
    chart.figure = _figure_json(figure)
    chart.table = table.assign(label=[labels.dimension(code) for code in table["item"]])
    return chart


# --------------------------------------------------------------------------
# Path diagrams: relationship model and CSI structural model
# --------------------------------------------------------------------------

#: Where each construct sits in the relationship path diagram (x, y in 0..1):
#: drivers left, relationship states in the middle, outcomes right.
RELATIONSHIP_LAYOUT = {
    "friendship": (0.0, 0.95), "trust_staff": (0.0, 0.5),
    "satisfaction_visit": (0.0, 0.05), "trust_firm": (0.34, 0.5),
    "satisfaction_cumulative": (0.34, 0.05), "commitment_affective": (0.67, 0.5),
    "commitment_continuance": (0.67, 0.95), "word_of_mouth": (1.0, 0.75),
    "forgiveness": (1.0, 0.25),
}
CSI_LAYOUT = {"image": (0.0, 0.9), "expectation": (0.0, 0.5), "quality": (0.3, 0.1),
              "value": (0.45, 0.5), "satisfaction": (0.7, 0.5), "complaints": (0.85, 0.1),
              "loyalty": (1.0, 0.9)}


def _stars(p: float) -> str:
    if _missing(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < SIGNIFICANCE_LEVEL else ""


def _wrap(text: str, width: int = 16) -> str:
    """Break a long construct name onto lines of about ``width`` characters (at spaces)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _path_figure(edges: pd.DataFrame, r2: Mapping[str, float], positions: Mapping[str, tuple[float, float]],
                 labels: Labels, height: int = 440) -> go.Figure:
    """Boxes for constructs (with R²), arrows with standardized coefficients.

    ``edges``: source, target, estimate, p (NaN when unknown).
    """
    nodes = list(dict.fromkeys([*edges["source"], *edges["target"]]))
    unplaced = [n for n in nodes if n not in positions]
    place = dict(positions)
    for index, node in enumerate(unplaced):
        angle = 2 * math.pi * index / max(1, len(unplaced))
        place[node] = (0.5 + 0.45 * math.cos(angle), 0.5 + 0.45 * math.sin(angle))
    figure = go.Figure()
    for edge in edges.itertuples(index=False):
        (x0, y0), (x1, y1) = place[edge.source], place[edge.target]
        significant = not _missing(edge.p) and edge.p < SIGNIFICANCE_LEVEL
        colour = (GOOD if edge.estimate >= 0 else BAD) if significant else "#aab2b9"
        figure.add_annotation(x=x0 + 0.72 * (x1 - x0), y=y0 + 0.72 * (y1 - y0), ax=x0 + 0.28 * (x1 - x0),
                              ay=y0 + 0.28 * (y1 - y0), xref="x", yref="y", axref="x", ayref="y",
                              showarrow=True, arrowhead=3, arrowsize=1.2,
                              arrowwidth=1 + 4 * min(1.0, abs(edge.estimate)), arrowcolor=colour, text="")
        figure.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=f"{edge.estimate:.2f}{_stars(edge.p)}",
                              showarrow=False, bgcolor="rgba(255,255,255,0.85)", font={"size": 12, "color": colour})
    for node in nodes:
        text = "<b>" + _wrap(labels.dimension(node)) + "</b>"
        if node in r2 and not _missing(r2[node]):
            text += f"<br>R² = {r2[node]:.2f}"
        # Nodes are boxed labels drawn over the arrows' ends.
        figure.add_annotation(x=place[node][0], y=place[node][1], xref="x", yref="y", text=text,
                              showarrow=False, bgcolor="#eef3f8", bordercolor=GOOD, borderwidth=1,
                              borderpad=4, font={"size": 11})
    figure.add_trace(go.Scatter(
        x=[place[n][0] for n in nodes], y=[place[n][1] for n in nodes], mode="markers",
        text=[labels.dimension(n) for n in nodes], hoverinfo="text", marker={"size": 1, "opacity": 0}))
    _layout(figure, height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
            xaxis={"visible": False, "range": [-0.15, 1.15], "fixedrange": True},
            yaxis={"visible": False, "range": [-0.1, 1.1], "fixedrange": True})
    return figure


def relationship_paths(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("relationship_model", _("What drives trust, commitment and loyalty"),
                  _("Standardized regression coefficients (β) of the relationship model; "
                    "* p < .05, ** p < .01, *** p < .001; grey arrows are not significant. "
                    "R² = share of variance explained."))
    if analysis.paths is None:
        chart.empty = _skipped(analysis, "regressions", "construct_scores")
        return chart
    table = analysis.paths
    edges = pd.DataFrame({"source": table["predictor"], "target": table["outcome"],
                          "estimate": table["beta"], "p": table["p"]})
    r2 = dict(zip(table["outcome"], table["r2"]))
    chart.figure = _figure_json(_path_figure(edges, r2, RELATIONSHIP_LAYOUT, labels, height=520))
    chart.wide = True
    chart.note = _("Each outcome is regressed on its predictors separately (OLS, HC3 standard errors); "
                   "an outcome with several models shows the R² of the last one.")
    chart.table = table.copy()
    return chart


def mediation(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("mediation", _("Mediation: how much of the effect runs through the middle step"),
                  _("Total, direct and indirect (a×b) effect; bootstrap 95 percent interval of the indirect effect."))
    result = analysis.mediation
    if result is None:
        chart.empty = _skipped(analysis, "mediation", "construct_scores")
        return chart
    names = [_("Total"), _("Direct"), _("Indirect")]
    values = [result.total, result.direct, result.indirect]
    figure = go.Figure(go.Bar(
        x=names, y=values, marker_color=[GOOD if v >= 0 else BAD for v in values],
        error_y={"type": "data", "symmetric": False, "array": [0, 0, result.ci_high - result.indirect],
                 "arrayminus": [0, 0, result.indirect - result.ci_low], "color": "#333"},
        text=[f"{v:.3f}" for v in values], textposition="outside"))
    _layout(figure, height=300, yaxis_title=_("Standardized effect"))
    chart.figure = _figure_json(figure)
    chart.subtitle = "%s → %s → %s. %s" % (labels.dimension(result.x), labels.dimension(result.m),
                                           labels.dimension(result.y), chart.subtitle)
    chart.note = _("Indirect effect %(indirect).3f [%(low).3f, %(high).3f], %(share)s of the total; "
                   "%(n_boot)s bootstrap resamples (seed %(seed)s), n = %(n)s.",
                   indirect=result.indirect, low=result.ci_low, high=result.ci_high,
                   share="—" if _missing(result.proportion_mediated) else f"{result.proportion_mediated:.0%}",
                   n_boot=result.n_boot, seed=result.seed, n=result.n)
    chart.table = pd.DataFrame([
        {"effect": "total", "estimate": result.total},
        {"effect": "direct", "estimate": result.direct},
        {"effect": "indirect", "estimate": result.indirect, "se": result.indirect_se,
         "ci_low": result.ci_low, "ci_high": result.ci_high, "n_boot": result.n_boot},
    ]).assign(x=result.x, m=result.m, y=result.y, n=result.n)
    return chart


# --------------------------------------------------------------------------
# Emotions
# --------------------------------------------------------------------------

def emotion_profile(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("emotions", _("Consumption emotions: how customers feel"),
                  _("Mean intensity of positive and negative emotions (higher negative = worse)."))
    if analysis.emotions is None:
        chart.empty = _skipped(analysis, "emotions")
        return chart
    table = analysis.emotions.reset_index()
    names = [labels.dimension(d) for d in table["dimension"]]
    colours = [BAD if d == "negative" else GOOD for d in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=names, y=table["mean"], marker_color=colours,
        error_y={"type": "data", "array": table["sd"], "color": "#999"},
        text=[f"{m:.2f}" for m in table["mean"]], textposition="inside",
        customdata=table["n"], hovertemplate="%{x}: %{y:.2f} (SD bar), n=%{customdata}<extra></extra>"))
    _layout(figure, height=300, yaxis_title=_("Mean intensity (bar: ±1 SD)"))
    chart.figure = _figure_json(figure)
    chart.table = table.assign(label=names)
    return chart


def emotion_satisfaction(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("emotions_satisfaction", _("How emotions move with satisfaction"),
                  _("Correlation of each emotion with satisfaction: positive emotions should rise "
                    "with satisfaction, negative ones fall."))
    if analysis.emotions is None or "r_satisfaction" not in analysis.emotions:
        chart.empty = _skipped(analysis, "emotions")
        return chart
    table = analysis.emotions.reset_index()
    names = [labels.dimension(d) for d in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=names, y=table["r_satisfaction"],
        marker_color=[GOOD if r >= 0 else BAD for r in table["r_satisfaction"]],
        text=[f"r = {r:.2f}{_stars(p)}" for r, p in zip(table["r_satisfaction"], table["p_satisfaction"])],
        textposition="outside"))
    _layout(figure, height=300, yaxis_title=_("Correlation with satisfaction (r)"), yaxis={"range": [-1, 1]})
    chart.figure = _figure_json(figure)
    chart.table = table[["dimension", "n", "r_satisfaction", "p_satisfaction"]].assign(label=names)
    return chart


# --------------------------------------------------------------------------
# Customer satisfaction index (PLS)
# --------------------------------------------------------------------------

def csi_index(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("csi_index", _("Customer satisfaction index (0-100)"),
                  _("ECSI construct scores on a 0-100 scale (PLS path model, Fornell et al. 1996)."))
    if analysis.csi is None:
        chart.empty = _skipped(analysis, "csi")
        return chart
    table = analysis.csi.index.reset_index().rename(columns={"index": "index_score"})
    if "construct" not in table:
        table = table.rename(columns={table.columns[0]: "construct"})
    names = [labels.dimension(c) for c in table["construct"]]
    has_ci = table["ci_low"].notna().any()
    bar = {"x": names, "y": table["index_score"], "marker_color": GOOD,
           "text": [f"{v:.1f}" for v in table["index_score"]], "textposition": "inside"}
    if has_ci:
        bar["error_y"] = {"type": "data", "symmetric": False,
                          "array": table["ci_high"] - table["index_score"],
                          "arrayminus": table["index_score"] - table["ci_low"], "color": "#333"}
    figure = go.Figure(go.Bar(**bar))
    _layout(figure, height=300, yaxis={"range": [0, 100]}, yaxis_title=_("Index (0-100)"))
    chart.figure = _figure_json(figure)
    chart.note = (_("Bootstrap 95%% intervals from %(n)s resamples.", n=analysis.csi.n_boot) if has_ci
                  else _("No bootstrap on the dashboard: intervals are in the statistics export."))
    chart.table = table.assign(label=names)
    return chart


def csi_model(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("csi_model", _("Customer satisfaction index: structural model"),
                  _("PLS path coefficients between the index constructs; R² of each explained construct."))
    if analysis.csi is None:
        chart.empty = _skipped(analysis, "csi")
        return chart
    paths = analysis.csi.paths
    edges = pd.DataFrame({"source": paths["source"], "target": paths["target"],
                          "estimate": paths["estimate"], "p": paths["p"]})
    r2 = analysis.csi.r2["r2"].to_dict()
    chart.figure = _figure_json(_path_figure(edges, r2, CSI_LAYOUT, labels))
    if paths["p"].isna().all():
        chart.note = _("Significance needs the bootstrap, which the dashboard skips for speed; "
                       "all arrows are drawn grey. See the statistics export.")
    else:
        chart.note = _("* p < .05 from %(n)s bootstrap resamples.", n=analysis.csi.n_boot)
    chart.table = paths.copy()
    return chart


# --------------------------------------------------------------------------
# Trends and segments
# --------------------------------------------------------------------------

def trend(analysis: SurveyAnalysis, labels: Labels, score: str) -> Chart:
    names = _score_names()
    chart = Chart(f"trend_{score}", _("Trend: %(score)s per period", score=names.get(score, score)),
                  _("Mean per period with 95 percent confidence interval; dashed line: expectations met."))
    if analysis.trends is None:
        chart.empty = _skipped(analysis, "trends")
        return chart
    table = analysis.trends[analysis.trends["score"] == score]
    if table.empty:
        chart.empty = _("This survey does not measure this, or the filter leaves no responses.")
        return chart
    periods = [str(p) for p in table["period"]]
    figure = go.Figure(go.Scatter(
        x=periods, y=table["mean"], mode="lines+markers", line={"color": GOOD},
        error_y={"type": "data", "symmetric": False, "array": table["ci_high"] - table["mean"],
                 "arrayminus": table["mean"] - table["ci_low"], "color": "#999"},
        customdata=table["n"], hovertemplate="%{x}: %{y:.3f}, n=%{customdata}<extra></extra>"))
    reference = 1.0 if "ratio" in score else 0.0
    figure.add_hline(y=reference, line_dash="dash", line_color=BAD)
    _layout(figure, height=300, yaxis_title=names.get(score, score), xaxis={"type": "category"})
    chart.figure = _figure_json(figure)
    chart.table = table.assign(period=periods)
    return chart


def segment_comparisons(analysis: SurveyAnalysis, labels: Labels) -> list[Chart]:
    """One chart per (segment variable, score): group means and the ANOVA/Welch/K-W tests."""
    charts: list[Chart] = []
    scores = analysis.respondent_scores
    if scores is None:
        return charts
    names = _score_names()
    for segment in labels.segments:
        for score in COMPARED_SCORES:
            chart = Chart(f"segment_{segment}_{score}",
                          _("%(score)s by %(segment)s", score=names.get(score, score),
                            segment=labels.segment(segment)),
                          _("Group means; the test says whether groups really differ."), group=segment)
            if segment not in scores or score not in scores:
                chart.empty = _("This survey does not measure this, or the filter leaves no responses.")
                charts.append(chart)
                continue
            try:
                result = compare_segments(scores, segment, score)
            except ValueError as error:  # InsufficientData included: too few groups or cases
                chart.empty = _("Not enough data for this chart: %(reason)s", reason=str(error))
                charts.append(chart)
                continue
            groups = result.groups
            group_names = [labels.segment_value(segment, g) for g in groups["group"]]
            reference = 1.0 if "ratio" in score else 0.0
            figure = go.Figure(go.Bar(
                x=group_names, y=groups["mean"],
                marker_color=[BAD if m < reference else GOOD for m in groups["mean"]],
                text=[f"{m:.3f}" for m in groups["mean"]], textposition="outside",
                customdata=np.column_stack([groups["n"], groups["sd"]]),
                hovertemplate="%{x}: %{y:.3f}, n=%{customdata[0]}, SD %{customdata[1]:.3f}<extra></extra>"))
            figure.add_hline(y=reference, line_dash="dash", line_color="#333")
            low = float(min(groups["mean"].min(), reference))
            high = float(max(groups["mean"].max(), reference))
            pad = max(0.05, (high - low) * 0.3)
            _layout(figure, height=300, yaxis_title=names.get(score, score),
                    yaxis={"range": [low - pad, high + pad]})
            welch = result.tests.set_index("test").loc["Welch ANOVA"]
            chart.note = _("Welch ANOVA F = %(f).2f, p = %(p).3g, η² = %(eta).3f: %(verdict)s",
                           f=welch["statistic"], p=welch["p"], eta=welch["effect_size"],
                           verdict=_("groups differ") if welch["p"] < SIGNIFICANCE_LEVEL
                           else _("no significant difference"))
            chart.figure = _figure_json(figure)
            chart.table = groups.assign(label=group_names, segment=segment, score=score)
            charts.append(chart)
    return charts


# --------------------------------------------------------------------------
# Headline tiles
# --------------------------------------------------------------------------

@dataclass
class Tile:
    id: str
    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"  # good | bad | neutral
    raw: float | None = None

    def to_payload(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "value": self.value, "detail": self.detail,
                "tone": self.tone, "raw": self.raw}


def headline_tiles(analysis: SurveyAnalysis, completion_rate: float | None) -> list[Tile]:
    """Responses, satisfaction ratio, overall gap, share below expectation, reliability.

    ``completion_rate``: complete / started responses of the selection, ``None`` when
    it cannot be told (a date filter selects by submission, which partial responses lack).
    """
    tiles: list[Tile] = []
    detail = _("%(used)s analysed after screening", used=analysis.n_used)
    if completion_rate is not None:
        detail += "; " + _("completion rate %(rate)s", rate=f"{completion_rate:.0%}")
    tiles.append(Tile("responses", _("Responses"), f"{analysis.n_total:,}", detail, raw=analysis.n_total))
    ratio = analysis.satisfaction.get("servqual")
    if ratio is not None:
        row = ratio.survey.iloc[0]
        classes = {"delighted": _("delighted"), "met": _("met"), "disappointed": _("disappointed"),
                   "undefined": _("undefined")}
        tiles.append(Tile("ratio", _("Satisfaction ratio P/E"), f"{row['ratio_of_means']:.3f}",
                          _("customers overall: %(cls)s", cls=classes.get(row["class"], row["class"])),
                          tone="bad" if row["ratio_of_means"] < 1 else "good",
                          raw=float(row["ratio_of_means"])))
    if analysis.servqual is not None:
        overall = analysis.servqual.overall.iloc[0]
        tiles.append(Tile("gap", _("Overall SERVQUAL gap P − E"), f"{overall['mean_gap']:+.2f}",
                          _("95%% CI %(low)s to %(high)s", low=f"{overall['ci_low']:+.2f}",
                            high=f"{overall['ci_high']:+.2f}"),
                          tone="bad" if overall["ci_high"] < 0 else "good" if overall["ci_low"] > 0 else "neutral",
                          raw=float(overall["mean_gap"])))
        tiles.append(Tile("below", _("Customers below expectation"), f"{overall['share_negative']:.0%}",
                          _("overall gap under 0"), tone="bad" if overall["share_negative"] > 0.5 else "neutral",
                          raw=float(overall["share_negative"])))
    if analysis.servqual_reliability is not None:
        summary = analysis.servqual_reliability.summary
        perception = summary[summary["score"] == "P"]["alpha"].dropna()
        if len(perception):
            low, high = float(perception.min()), float(perception.max())
            tiles.append(Tile("alpha", _("Reliability (Cronbach's α)"), f"{low:.2f}–{high:.2f}",
                              _("SERVQUAL perception scales; 0.70 or more is acceptable"),
                              tone="good" if low >= 0.7 else "bad", raw=low))
    return tiles


# --------------------------------------------------------------------------
# All charts of the dashboard, in page order
# --------------------------------------------------------------------------

SECTIONS: list[tuple[str, Callable[[], str]]] = [
    ("servqual", lambda: _("Service quality (SERVQUAL)")),
    ("ratio", lambda: _("Satisfaction ratio")),
    ("kano", lambda: _("KANO features")),
    ("ipa", lambda: _("Importance and performance")),
    ("relationship", lambda: _("Relationship model")),
    ("emotions", lambda: _("Consumption emotions")),
    ("csi", lambda: _("Customer satisfaction index")),
    ("trends", lambda: _("Trends")),
    ("segments", lambda: _("Segments")),
]


def dashboard_charts(analysis: SurveyAnalysis, labels: Labels) -> dict[str, list[Chart]]:
    """Every chart, grouped by page section (keys of :data:`SECTIONS`)."""
    return {
        "servqual": [servqual_gap_by_dimension(analysis, labels), servqual_items_dumbbell(analysis, labels),
                     servqual_scores(analysis, labels)],
        "ratio": [ratio_distribution(analysis, labels), ratio_by_dimension(analysis, labels)],
        "kano": [kano_map(analysis, labels)],
        "ipa": [ipa_grid(analysis, labels, "stated"), ipa_grid(analysis, labels, "derived")],
        "relationship": [relationship_paths(analysis, labels), mediation(analysis, labels)],
        "emotions": [emotion_profile(analysis, labels), emotion_satisfaction(analysis, labels)],
        "csi": [csi_index(analysis, labels), csi_model(analysis, labels)],
        "trends": [trend(analysis, labels, score) for score in COMPARED_SCORES],
        "segments": segment_comparisons(analysis, labels),
    }


__all__ = ["Chart", "Labels", "Tile", "SECTIONS", "COMPARED_SCORES", "chart_csv", "dashboard_charts",
           "headline_tiles", "kano_rows", "labels_for", "SCORE_LABELS"]
