"""The analysis of a stored survey: the one loader feeding :func:`analysis.report.analyse_survey`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from flask import current_app

from analysis.report import ReportOptions, SurveyAnalysis, analyse_survey

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


def analysis_frame(survey: Survey, filters: ResponseFilter | None = None,
                   chunk_size: int = 50_000) -> pd.DataFrame:
    """The rows of :func:`responses_frame` (in response id order), read in chunks into one matrix.

    :func:`responses_frame` fetches every row at once: the driver's row
    tuples, the joined answer buffer and the matrix are in memory together,
    about 3.5 times the frame (3.9 GB peak for a million responses). Here
    the answers of each chunk (:func:`iter_response_frames`, keyset pages)
    are copied into a float64 matrix allocated once for the count of
    matching rows, so the peak is the frame plus one chunk.
    """
    filters = filters or ResponseFilter()
    chunks = iter_response_frames(survey, filters, chunk_size=chunk_size)
    first = next(chunks, None)
    if first is None:
        return responses_frame(survey, filters)
    answers = [c for c in first.columns if c not in META_COLUMNS]
    # An upper bound before segment filters; rows committed meanwhile grow the matrix.
    matrix = np.empty((max(count_responses(survey, filters), len(first)), len(answers)))
    meta, filled = [], 0
    for chunk in _chain(first, chunks):
        end = filled + len(chunk)
        if end > len(matrix):
            matrix = np.concatenate([matrix, np.empty((max(end - len(matrix), chunk_size), len(answers)))])
        matrix[filled:end] = chunk[answers].to_numpy(dtype="float64")
        meta.append(chunk[[c for c in first.columns if c in META_COLUMNS]])
        filled = end
    frame = pd.DataFrame(matrix[:filled], columns=answers, copy=False)
    meta_frame = pd.concat(meta, ignore_index=True)
    for position, name in enumerate(meta_frame.columns):
        frame.insert(position, name, meta_frame[name].to_numpy())
    return frame


def _chain(first, rest):
    yield first
    yield from rest
