"""The analysis of a stored survey: the one loader feeding :func:`analysis.report.analyse_survey`."""
from __future__ import annotations

from flask import current_app

from analysis.report import ReportOptions, SurveyAnalysis, analyse_survey

from ..models import Survey
from .codebooks import survey_codebook
from .responses import ResponseFilter, responses_frame


def report_options() -> ReportOptions:
    """The analysis options of the statistics workbook and the API.

    Defaults are the literature's (analysis.report.ReportOptions); the
    ``REPORT_OPTIONS`` config mapping overrides fields, e.g. fewer bootstrap
    resamples where a fast answer matters more than tight intervals.
    """
    return ReportOptions(**current_app.config.get("REPORT_OPTIONS", {}))


def survey_analysis(survey: Survey, filters: ResponseFilter | None = None,
                    options: ReportOptions | None = None) -> SurveyAnalysis:
    """Every analysis of ``survey``'s complete responses that pass ``filters``."""
    return analyse_survey(responses_frame(survey, filters), survey_codebook(survey), options)
