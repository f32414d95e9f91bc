"""The analysis of a stored survey: the one loader feeding :func:`analysis.report.analyse_survey`."""
from __future__ import annotations

from analysis.report import ReportOptions, SurveyAnalysis, analyse_survey

from ..models import Survey
from .exports import survey_codebook
from .responses import ResponseFilter, responses_frame


def survey_analysis(survey: Survey, filters: ResponseFilter | None = None,
                    options: ReportOptions | None = None) -> SurveyAnalysis:
    """Every analysis of ``survey``'s complete responses that pass ``filters``."""
    return analyse_survey(responses_frame(survey, filters), survey_codebook(survey), options)
