"""Relationship model charts: the path diagram of the regressions and the mediation effects."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.relationship import MediationResult
from analysis.report import SurveyAnalysis, mediation_table

from ..spreadsheet_safety import is_missing
from .common import Chart, Labels, interval, side_colour
from .paths import PATH_LAYOUT, path_figure

#: Where each construct sits in the relationship path diagram (x, y in 0..1):
#: drivers left, relationship states in the middle, outcomes right.
RELATIONSHIP_LAYOUT = {
    "friendship": (0.0, 0.95), "trust_staff": (0.0, 0.5),
    "satisfaction_visit": (0.0, 0.05), "trust_firm": (0.34, 0.5),
    "satisfaction_cumulative": (0.34, 0.05), "commitment_affective": (0.67, 0.5),
    "commitment_continuance": (0.67, 0.95), "word_of_mouth": (1.0, 0.75),
    "forgiveness": (1.0, 0.25),
}
RELATIONSHIP_HEIGHT = 560


def relationship_paths(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("relationship_model", _("What drives trust, commitment and loyalty"),
                  _("Standardized regression coefficients (β) of the relationship model; "
                    "* p < .05, ** p < .01, *** p < .001; grey arrows are not significant. "
                    "R² = share of variance explained."))
    if analysis.paths is None:
        return chart.skip(analysis, "regressions", "construct_scores")
    chart.wide = True
    table = analysis.paths
    edges = pd.DataFrame({"source": table["predictor"], "target": table["outcome"],
                          "estimate": table["beta"], "p": table["p"]})
    r2, details = model_r2(table, labels)
    chart.diagram = True
    chart.note = _("Each outcome is regressed on its predictors separately (OLS, HC3 standard errors); "
                   "an outcome with several models shows the R² of each, in this order: %(models)s.",
                   models="; ".join(f"{labels.dimension(outcome)}: " + ", ".join(texts)
                                    for outcome, texts in details.items() if len(texts) > 1) or "—")
    hovers = {outcome: "<br>".join(texts) for outcome, texts in details.items()}
    return chart.rests_on(analysis.paths).draw(
        path_figure(edges, r2, RELATIONSHIP_LAYOUT, labels, RELATIONSHIP_HEIGHT, hovers), table.copy(),
        height=RELATIONSHIP_HEIGHT, **PATH_LAYOUT)


def model_r2(table: pd.DataFrame, labels: Labels) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Every model's R² per outcome (a model: the rows of one ``path``), in table order, and per
    outcome one text a model naming its predictors with its R²."""
    r2: dict[str, list[float]] = {}
    details: dict[str, list[str]] = {}
    for (outcome, _path), model in table.groupby(["outcome", "path"], sort=False):
        value = float(model["r2"].iloc[0])
        r2.setdefault(outcome, []).append(value)
        predictors = " + ".join(labels.dimension(p) for p in model["predictor"])
        details.setdefault(outcome, []).append(f"R² = {value:.2f} ← {predictors}")
    return r2, details


def mediation(analysis: SurveyAnalysis, labels: Labels) -> Chart:
    chart = Chart("mediation", _("Mediation: how much of the effect runs through the middle step"),
                  _("Total, direct and indirect (a×b) effect; bootstrap 95 percent interval of the indirect effect."))
    result: MediationResult | None = analysis.mediation
    if result is None:
        return chart.skip(analysis, "mediation", "construct_scores")
    values = [result.total, result.direct, result.indirect]
    figure = go.Figure(go.Bar(
        x=[_("Total"), _("Direct"), _("Indirect")], y=values, marker_color=[side_colour(v) for v in values],
        # Only the indirect effect has an interval (the bootstrap's).
        error_y=interval(values, [result.total, result.direct, result.ci_low],
                         [result.total, result.direct, result.ci_high]),
        text=[f"{v:.3f}" for v in values], textposition="outside"))
    chart.subtitle = "%s → %s → %s. %s" % (labels.dimension(result.x), labels.dimension(result.m),
                                           labels.dimension(result.y), chart.subtitle)
    chart.note = _("Indirect effect %(indirect).3f [%(low).3f, %(high).3f], %(share)s of the total; "
                   "%(n_boot)s bootstrap resamples (seed %(seed)s), n = %(n)s.",
                   indirect=result.indirect, low=result.ci_low, high=result.ci_high,
                   share="—" if is_missing(result.proportion_mediated) else f"{result.proportion_mediated:.0%}",
                   n_boot=result.n_boot, seed=result.seed, n=result.n)
    # The table the statistics export writes too: one builder for both.
    return chart.rests_on(result).draw(figure, mediation_table(result), height=300,
                                       yaxis_title=_("Standardized effect"))
