"""Dashboard charts: plotly figures drawn from :class:`analysis.report.SurveyAnalysis` results.

Every chart takes numbers that the analysis computed and only arranges them
(sorting, colouring, labelling); no statistic is computed here. Each builder
returns a :class:`Chart`: the plotly figure as plain JSON for the page, the
table the figure was drawn from (the chart's CSV download), and, when the
analysis could not compute the section, the reason instead of a figure, so
the page says "too few responses" rather than drawing noise.

One module per chart family (:mod:`.servqual`, :mod:`.satisfaction`,
:mod:`.kano`, :mod:`.ipa`, :mod:`.relationship`, :mod:`.emotions`,
:mod:`.csi`, :mod:`.trends`, :mod:`.segments`, :mod:`.tiles`); what they
share (types, colours, the figure helper :meth:`Chart.draw`) is in
:mod:`.common`. A new chart goes into its family's module and into
:func:`dashboard_charts`.

Builders call ``flask_babel.gettext``: call them under
``flask_babel.force_locale(lang)`` to get one language's titles.

Colours are the same everywhere: below expectation (negative gap, ratio < 1)
red, above it blue, "not significant" paler; expectation grey.
"""
from __future__ import annotations

from typing import Any, Callable

from flask_babel import gettext as _

from analysis.report import SCORE_LABELS, SurveyAnalysis

from .common import BAD, COMPARED_SCORES, GOOD, Chart, Labels, chart_csv, labels_for
from .common import stars as _stars  # noqa: F401  (tests check the significance marks)
from .csi import csi_index, csi_model
from .emotions import emotion_profile, emotion_satisfaction
from .ipa import ipa_grid
from .kano import kano_map, kano_rows
from .relationship import mediation, relationship_paths
from .satisfaction import ratio_by_dimension, ratio_distribution
from .segments import segment_comparisons
from .servqual import servqual_gap_by_dimension, servqual_items_dumbbell, servqual_scores
from .tiles import Tile, headline_tiles
from .trends import trend

#: The dashboard's sections in page order: id and (translated) title.
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


def dashboard_page(analysis: SurveyAnalysis, labels: Labels, completion_rate: float | None) -> dict[str, Any]:
    """The dashboard of one language drawn from ``analysis``: tiles, sections of chart payloads,
    each chart's CSV, the KANO table and the segment menu (call under ``force_locale``)."""
    sections = dashboard_charts(analysis, labels)
    return {
        "tiles": [tile.to_payload() for tile in headline_tiles(analysis, completion_rate)],
        "sections": [{"id": section_id, "title": title(),
                      "charts": [chart.to_payload() for chart in sections[section_id]]}
                     for section_id, title in SECTIONS],
        "csv": {chart.id: chart_csv(chart.table) for charts in sections.values() for chart in charts
                if chart.table is not None and len(chart.table)},
        "kano": kano_rows(analysis, labels),
        "segments": [{"column": column, "label": labels.segment(column)} for column in labels.segments],
        "skipped": dict(analysis.skipped),
    }


__all__ = ["Chart", "Labels", "Tile", "SECTIONS", "COMPARED_SCORES", "BAD", "GOOD", "chart_csv",
           "dashboard_charts", "dashboard_page", "headline_tiles", "kano_rows", "labels_for", "SCORE_LABELS"]
