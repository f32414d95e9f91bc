"""Customer satisfaction index charts (PLS path model): the index scores and the structural model."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import GOOD, Chart, Labels, category_ticks, hover, interval
from .paths import PATH_LAYOUT, path_figure

CSI_LAYOUT = {"image": (0.0, 0.9), "expectation": (0.0, 0.5), "quality": (0.3, 0.1),
              "value": (0.45, 0.5), "satisfaction": (0.7, 0.5), "complaints": (0.85, 0.1),
              "loyalty": (1.0, 0.9)}
CSI_HEIGHT = 460


def csi_index(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("csi_index", _("Customer satisfaction index (0-100)"),
                  _("ECSI construct scores on a 0-100 scale (PLS path model, Fornell et al. 1996)."))
    if analysis.csi is None:
        return chart.skip(analysis, "csi")
    table = analysis.csi.index.reset_index().rename(columns={"index": "index_score"})
    if "construct" not in table:
        table = table.rename(columns={table.columns[0]: "construct"})
    names = [labels.dimension(c) for c in table["construct"]]
    has_ci = table["ci_low"].notna().any()
    bar = {"x": category_ticks(names), "y": table["index_score"], "marker_color": GOOD,
           "text": [f"{v:.1f}" for v in table["index_score"]], "textposition": "inside",
           "customdata": names, "hovertemplate": hover("%{customdata}: %{y:.1f}")}
    if has_ci:
        bar["error_y"] = interval(table["index_score"], table["ci_low"], table["ci_high"])
    chart.note = (_("Bootstrap 95%% intervals from %(n)s resamples.", n=analysis.csi.n_boot) if has_ci
                  else _("No bootstrap on the dashboard: intervals are in the statistics export."))
    return chart.rests_on(analysis.csi).draw(go.Figure(go.Bar(**bar)), table.assign(label=names), height=300,
                      yaxis={"range": [0, 100]}, yaxis_title=_("Index (0-100)"), xaxis={"tickangle": 0})


def csi_model(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("csi_model", _("Customer satisfaction index: structural model"),
                  _("PLS path coefficients between the index constructs; R² of each explained construct."))
    if analysis.csi is None:
        return chart.skip(analysis, "csi")
    paths = analysis.csi.paths
    edges = pd.DataFrame({"source": paths["source"], "target": paths["target"],
                          "estimate": paths["estimate"], "p": paths["p"]})
    if paths["p"].isna().all():
        chart.note = _("Significance needs the bootstrap, which the dashboard skips for speed; "
                       "all arrows are drawn grey. See the statistics export.")
    else:
        chart.note = _("* p < .05 from %(n)s bootstrap resamples.", n=analysis.csi.n_boot)
    chart.wide = chart.diagram = True
    return chart.rests_on(analysis.csi).draw(
        path_figure(edges, analysis.csi.r2["r2"].to_dict(), CSI_LAYOUT, labels, CSI_HEIGHT), paths.copy(),
        height=CSI_HEIGHT, **PATH_LAYOUT)
