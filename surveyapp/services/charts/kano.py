"""KANO charts: the better/worse map of the features and the category table."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import GUIDE, NEUTRAL, Chart, Labels, corner_notes, guide, hover, short

KANO_COLOURS = {"A": "#27ae60", "O": "#1f5fa8", "M": "#c0392b", "I": "#95a5a6",
                "R": "#8e44ad", "Q": "#2c3e50"}
CORNER_TEXT = "#777"


def _kano_names() -> dict[str, str]:
    return {"A": _("Attractive"), "O": _("One-dimensional"), "M": _("Must-be"),
            "I": _("Indifferent"), "R": _("Reverse"), "Q": _("Questionable")}


def _feature_table(analysis: SurveyAnalysis) -> pd.DataFrame:
    """The analysis's KANO table with the feature code as a column."""
    table = analysis.kano.reset_index() if "feature" not in analysis.kano else analysis.kano.copy()
    if "feature" not in table:
        table = table.rename(columns={table.columns[0]: "feature"})
    return table


def kano_map(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("kano_map", _("KANO: which features delight, which are must-haves"),
                  _("Better (satisfaction if present) against |worse| (dissatisfaction if absent); "
                    "point size: self-stated importance."))
    if analysis.kano is None:
        return chart.skip(analysis, "kano")
    table = _feature_table(analysis)
    has_importance = analysis.kano_continuous is not None and "importance_mean" in analysis.kano_continuous
    if has_importance:
        table["importance"] = analysis.kano_continuous["importance_mean"].reindex(table["feature"]).to_numpy()
    table["worse_abs"] = table["worse"].abs()
    names = _kano_names()
    traces = []
    for category, group in table.groupby("category", sort=True):
        # Point size grows with stated importance; a feature without one gets the mean size.
        sizes = 8 + 3 * group["importance"].fillna(group["importance"].mean()) if has_importance else 14
        traces.append(go.Scatter(
            x=group["worse_abs"], y=group["better"], mode="markers+text", name=names.get(category, category),
            text=[short(labels.feature(code), 18) for code in group["feature"]], textposition="top center",
            marker={"color": KANO_COLOURS.get(category, NEUTRAL), "size": sizes, "opacity": 0.85,
                    "line": {"color": "#fff", "width": 1}},
            customdata=np.column_stack([group["feature"], group["fong_significant"].astype(str)]),
            hovertemplate=hover("%{customdata[0]}: better %{y:.2f}, |worse| %{x:.2f}")))
    figure = go.Figure(traces)
    guide(figure, y=0.5, colour=GUIDE, dash="dot")
    guide(figure, x=0.5, colour=GUIDE, dash="dot")
    corner_notes(figure, [(0.02, 0.98, _("Attractive"), CORNER_TEXT), (0.98, 0.98, _("One-dimensional"), CORNER_TEXT),
                          (0.98, 0.02, _("Must-be"), CORNER_TEXT), (0.02, 0.02, _("Indifferent"), CORNER_TEXT)],
                 ref="x", size=11)
    columns = ["feature", "n", "category", "category_name", "fong_significant", "better", "worse",
               "share_A", "share_O", "share_M", "share_I", "share_R", "share_Q"]
    table = table[[c for c in columns if c in table] + (["importance"] if has_importance else [])].assign(
        label=[labels.feature(code) for code in table["feature"]])
    return chart.draw(figure, table, height=420, showlegend=True,
                      xaxis_title=_("|Worse|: dissatisfaction if absent"),
                      yaxis_title=_("Better: satisfaction if present"),
                      xaxis={"range": [0, 1]}, yaxis={"range": [0, 1]})


def kano_rows(analysis: SurveyAnalysis, labels: Labels) -> list[dict[str, Any]]:
    """The KANO category table for the page: one dict a feature."""
    if analysis.kano is None:
        return []
    names = _kano_names()
    return [{"feature": row["feature"], "label": labels.feature(row["feature"]), "n": int(row["n"]),
             "category": row["category"], "category_label": names.get(row["category"], row["category"]),
             "second": names.get(row["second"], row["second"]) if isinstance(row["second"], str) else "",
             "fong_significant": bool(row["fong_significant"]),
             "better": float(row["better"]), "worse": float(row["worse"])}
            for _index, row in _feature_table(analysis).iterrows()]
