"""The analysis of a stored survey: the one loader feeding :func:`analysis.report.analyse_survey`
(and :func:`analysis.report.survey_csi_bootstrap`, the CSI intervals the analysis job leaves to a job
of their own)."""
from __future__ import annotations

import pandas as pd
from flask import current_app

from analysis.io import compact_answer_frame
from analysis.csi import CSIBootstrap
from analysis.report import ReportOptions, SurveyAnalysis, analyse_survey, survey_csi_bootstrap

from ..models import Survey
from .codebooks import survey_codebook
from .responses import (META_COLUMNS, ResponseFilter, count_responses, iter_response_frames,
                        responses_frame)


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
    return analyse_survey(analysis_frame(survey, filters), survey_codebook(survey), options)


def survey_csi_intervals(survey: Survey, filters: ResponseFilter | None = None,
                         options: ReportOptions | None = None) -> CSIBootstrap | None:
    """The bootstrap intervals of the CSI model :func:`survey_analysis` fits on the same responses
    (``options.csi_boot`` resamples); None when the survey measures no CSI model."""
    return survey_csi_bootstrap(analysis_frame(survey, filters), survey_codebook(survey), options)


def analysis_frame(survey: Survey, filters: ResponseFilter | None = None,
                   chunk_size: int = 50_000) -> pd.DataFrame:
    """The rows of :func:`responses_frame` (in response id order), read in chunks into one
    compact frame (:func:`analysis.io.compact_answer_frame`).

    :func:`responses_frame` fetches every row at once: the driver's row
    tuples, the joined answer buffer and the matrix are in memory together,
    about 3.5 times the frame (3.9 GB peak for a million responses). Here
    the answers of each chunk (:func:`iter_response_frames`, keyset pages)
    are copied into one block allocated for the count of matching rows, so
    the peak is the frame plus one chunk; answers are held as ``float32``
    (exact for answer codes; a column with any other value stays
    ``float64``), half the memory of the million-response frame, and the
    statistics read them back as ``float64``.
    """
    filters = filters or ResponseFilter()
    chunks = iter_response_frames(survey, filters, chunk_size=chunk_size)
    first = next(chunks, None)
    if first is None:
        return responses_frame(survey, filters)
    answers = [c for c in first.columns if c not in META_COLUMNS]
    # An upper bound before segment filters; rows committed meanwhile grow the block.
    return compact_answer_frame(_chain(first, chunks), answers,
                                capacity=max(count_responses(survey, filters), len(first)))


def _chain(first, rest):
    yield first
    yield from rest
