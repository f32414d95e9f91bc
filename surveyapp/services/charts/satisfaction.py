"""Satisfaction ratio charts (seed 004: perception / expectation)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import BAD, GOOD, NEUTRAL, Chart, Labels, guide, hover, side_colour

RATIO_BIN_WIDTH = 0.05


def ratio_distribution(analysis: SurveyAnalysis, labels: Labels, instrument: str = "servqual") -> Chart:
    chart = Chart("ratio_distribution", _("How satisfied are customers? Distribution of P/E"),
                  _("Each customer's satisfaction ratio perception / expectation: "
                    "below 1 disappointed (red), 1 met, above 1 delighted (blue)."))
    result = analysis.satisfaction.get(instrument)
    if result is None or result.respondents is None:  # None: the respondents are not loaded yet
        return chart.skip(analysis, f"satisfaction_{instrument}", "respondents")
    ratios = result.respondents["ratio"].dropna().to_numpy()
    if ratios.size == 0:
        return chart.say(_("No customer has a defined ratio in this selection."))
    counts, edges = _ratio_histogram(ratios)
    colours = [BAD if right <= 1 else (GOOD if left >= 1 else NEUTRAL)
               for left, right in zip(edges[:-1], edges[1:])]
    figure = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=RATIO_BIN_WIDTH * 0.95,
                              marker_color=colours, customdata=np.column_stack([edges[:-1], edges[1:]]),
                              hovertemplate=hover("%{customdata[0]:.2f}–%{customdata[1]:.2f}: %{y}")))
    guide(figure, x=1)
    survey = result.survey.iloc[0]
    chart.note = _("%(disappointed)s disappointed, %(met)s met, %(delighted)s delighted (n = %(n)s).",
                   disappointed=f"{survey['share_disappointed']:.0%}", met=f"{survey['share_met']:.0%}",
                   delighted=f"{survey['share_delighted']:.0%}", n=int(survey["n"]))
    table = pd.DataFrame({"bin_from": edges[:-1], "bin_to": edges[1:], "customers": counts})
    return chart.rests_on(result).draw(figure, table,
                      height=300, xaxis_title=_("Satisfaction ratio P/E"), yaxis_title=_("Customers"),
                      bargap=0.02)


def _ratio_histogram(ratios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of the analysis's per-respondent ratios.

    Display binning only, so the page gets a few dozen bars instead of every
    respondent's value; edges are multiples of :data:`RATIO_BIN_WIDTH`, so 1 is one.
    """
    low = math.floor(ratios.min() / RATIO_BIN_WIDTH) * RATIO_BIN_WIDTH
    high = math.ceil(ratios.max() / RATIO_BIN_WIDTH + 1e-9) * RATIO_BIN_WIDTH
    edges = np.round(np.arange(low, high + RATIO_BIN_WIDTH / 2, RATIO_BIN_WIDTH), 6)
    if edges.size < 2:
        edges = np.array([low, low + RATIO_BIN_WIDTH])
    return np.histogram(ratios, bins=edges)


def ratio_by_dimension(analysis: SurveyAnalysis, labels: Labels, instrument: str = "servqual") -> Chart:
    chart = Chart("ratio_dimensions", _("Satisfaction ratio P/E by dimension"),
                  _("Mean perception / mean expectation; 1 = expectations exactly met."))
    result = analysis.satisfaction.get(instrument)
    if result is None:
        return chart.skip(analysis, f"satisfaction_{instrument}")
    table = result.dimensions.sort_values("ratio_of_means")
    names = [labels.dimension(code) for code in table["dimension"]]
    figure = go.Figure(go.Bar(
        x=table["ratio_of_means"], y=names, orientation="h",
        marker_color=[side_colour(r, 1) for r in table["ratio_of_means"]],
        text=[f"{r:.3f}" for r in table["ratio_of_means"]], textposition="auto",
        customdata=table["n"], hovertemplate=hover("%{y}: %{x:.3f}, n=%{customdata}")))
    guide(figure, x=1)
    # Bars start at 0: a ratio of 0.85 is drawn 85% as long as 1, not as a sliver above 0.7.
    table = table[["dimension", "n", "mean_E", "mean_P", "ratio_of_means", "mean_ratio", "share_disappointed",
                   "share_met", "share_delighted"]].assign(label=names)
    return chart.rests_on(result).draw(
        figure, table, height=80 + 48 * len(table), xaxis_title=_("Ratio P/E"),
        xaxis={"range": [0.0, max(1.05, float(table["ratio_of_means"].max()) + 0.05)]})
