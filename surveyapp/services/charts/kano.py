"""KANO charts: the better/worse map of the features and the category table."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import GUIDE, NEUTRAL, Chart, Labels, corner_notes, guide, hover, point_labels
from .layout import wrap_label

KANO_COLOURS = {"A": "#27ae60", "O": "#1f5fa8", "M": "#c0392b", "I": "#95a5a6",
                "R": "#8e44ad", "Q": "#2c3e50"}
CORNER_TEXT = "#666"
CORNER_FONT = 11
KANO_HEIGHT = 440
#: Both axes' range: shares run 0..1, with room for the corner names.
KANO_RANGE = (-0.1, 1.1)
#: The smallest plot area (pixels: width, height) the map is drawn in: a 390 px wide phone.
#: The browser test checks the real plot area is at least this large.
KANO_MIN_PLOT = (230, 260)


def _kano_names() -> dict[str, str]:
    return {"A": _("Attractive"), "O": _("One-dimensional"), "M": _("Must-be"),
            "I": _("Indifferent"), "R": _("Reverse"), "Q": _("Questionable")}


def _feature_table(analysis: SurveyAnalysis) -> pd.DataFrame:
    """The analysis's KANO table with the feature code as a column."""
    table = analysis.kano.reset_index() if "feature" not in analysis.kano else analysis.kano.copy()
    if "feature" not in table:
        table = table.rename(columns={table.columns[0]: "feature"})
    # The number that labels a feature's point on the map and its row in the table.
    return table.reset_index(drop=True).assign(number=lambda t: t.index + 1)


def kano_map(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("kano_map", _("KANO: which features delight, which are must-haves"),
                  _("Better (satisfaction if present) against |worse| (dissatisfaction if absent); "
                    "point size: self-stated importance. The numbers are those of the table below."))
    if analysis.kano is None:
        return chart.skip(analysis, "kano")
    table = _feature_table(analysis)
    has_importance = analysis.kano_continuous is not None and "importance_mean" in analysis.kano_continuous
    if has_importance:
        table["importance"] = analysis.kano_continuous["importance_mean"].reindex(table["feature"]).to_numpy()
        # No feature with a stated importance: every point gets the same size.
        has_importance = bool(table["importance"].notna().any())
    if has_importance:
        # Point size grows with stated importance; a feature without one gets the mean size.
        table["size"] = 8 + 3 * table["importance"].fillna(table["importance"].mean())
    else:
        table["size"] = 14.0
    table["worse_abs"] = table["worse"].abs()
    names = _kano_names()
    texts = [labels.feature(code) for code in table["feature"]]
    hovers = [wrap_label(f"{number}. {text}", 40) for number, text in zip(table["number"], texts)]
    traces = []
    for category, group in table.groupby("category", sort=True):
        traces.append(go.Scatter(
            x=group["worse_abs"], y=group["better"], mode="markers", name=names.get(category, category),
            marker={"color": KANO_COLOURS.get(category, NEUTRAL), "size": group["size"], "opacity": 0.85,
                    "line": {"color": "#fff", "width": 1}},
            customdata=np.column_stack([group["feature"], group["fong_significant"].astype(str),
                                        [hovers[i] for i in group.index],
                                        [names.get(category, category)] * len(group)]),
            hovertemplate=hover("%{customdata[2]}<br>%{customdata[3]}: better %{y:.2f}, |worse| %{x:.2f}")))
    figure = go.Figure(traces)
    guide(figure, y=0.5, colour=GUIDE, dash="dot")
    guide(figure, x=0.5, colour=GUIDE, dash="dot")
    # Corner names (fractions of the plot area) in the margin beyond 0 and 1, clear of the points.
    corners = [(0.09, 0.996, _("Attractive")), (0.91, 0.996, _("One-dimensional")),
               (0.91, 0.004, _("Must-be")), (0.09, 0.004, _("Indifferent"))]
    annotations = [*corner_notes([(x, y, text, CORNER_TEXT) for x, y, text in corners], "paper", CORNER_FONT),
                   *point_labels(table["worse_abs"], table["better"], [str(n) for n in table["number"]],
                                 table["size"], [KANO_COLOURS.get(c, NEUTRAL) for c in table["category"]],
                                 KANO_RANGE, KANO_RANGE, KANO_MIN_PLOT, corners, CORNER_FONT)]
    columns = ["feature", "number", "n", "category", "category_name", "fong_significant", "better", "worse",
               "share_A", "share_O", "share_M", "share_I", "share_R", "share_Q"]
    table = table[[c for c in columns if c in table] + (["importance"] if has_importance else [])].assign(
        label=texts)
    return chart.rests_on(analysis.kano).draw(
        figure, table, height=KANO_HEIGHT, showlegend=True, annotations=annotations,
        xaxis_title=_("|Worse|: dissatisfaction if absent"), yaxis_title=_("Better: satisfaction if present"),
        xaxis={"range": list(KANO_RANGE), "fixedrange": True}, yaxis={"range": list(KANO_RANGE), "fixedrange": True})


def kano_rows(analysis: SurveyAnalysis, labels: Labels) -> list[dict[str, Any]]:
    """The KANO category table for the page: one dict a feature."""
    if analysis.kano is None:
        return []
    names = _kano_names()
    return [{"feature": row["feature"], "number": int(row["number"]), "label": labels.feature(row["feature"]),
             "n": int(row["n"]),
             "category": row["category"], "category_label": names.get(row["category"], row["category"]),
             "second": names.get(row["second"], row["second"]) if isinstance(row["second"], str) else "",
             "fong_significant": bool(row["fong_significant"]),
             "better": float(row["better"]), "worse": float(row["worse"])}
            for _index, row in _feature_table(analysis).iterrows()]
