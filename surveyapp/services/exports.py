"""Taking a survey's data out: raw responses, codebook and statistics tables.

Formats (``EXPORT_FORMATS``):

* ``csv`` - one row a response, columns by variable name; UTF-8 with a byte
  order mark so Excel opens Chinese text correctly. Streamed chunk by chunk.
* ``xlsx`` - sheet ``data`` (the same table), ``labels`` (the codebook) and
  ``value_labels``; written with openpyxl's write-only mode, which keeps one
  row in memory and spools the sheet to a temporary file.
* ``sav`` / ``dta`` - SPSS and Stata files with variable labels, value labels
  and missing-value codes (pyreadstat).
* ``codebook-csv`` / ``codebook-xlsx`` - one row a variable: item code,
  dimension, text zh/en, scale and its labels.
* ``stats-xlsx`` - every table of :func:`analysis.report.analyse_survey`, a
  sheet each, numbers stored as numbers.

Memory. CSV and XLSX read the responses through
:func:`~surveyapp.services.responses.iter_response_frames` (keyset pages of
``EXPORT_CHUNK_SIZE`` responses), so their memory does not grow with the
survey. pyreadstat writes a whole data frame at once and has no append mode,
so SAV and DTA hold the filtered frame in memory: about 8 bytes x responses x
variables (a million responses of 135 variables is about 1.1 GB); the
statistics workbook needs the whole frame because the analysis does.
Measured on the demo survey with 100,000 responses (144 columns, SQLite,
``flask export``; the app alone peaks at 240 MB): CSV 15 s / 470 MB peak
RSS (20,000 responses: 410 MB), XLSX 190 s / 530 MB, SAV 17 s / 740 MB,
DTA 17 s / 850 MB.

Missing values. An unanswered question and a "don't know / not applicable"
answer are both stored as NaN (docs/data-model.md §4), so they cannot be told
apart and are exported as empty cells (CSV/XLSX), system-missing (SPSS) and
``.`` (Stata). A question that was not part of the survey version a response
answered (surveys whose item set changed between versions) is a different
kind of missing: it is exported as the user-missing code ``-99`` in SPSS
(declared in the variable's missing values and labelled) and as the extended
missing value ``.a`` in Stata; CSV and XLSX leave it empty, and the
``version`` column says which version a row answered.

Formula injection. Every text cell goes through
:func:`~surveyapp.services.spreadsheet_safety.neutralise_cell`; numbers are
written as numbers (a negative number is not a formula).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyreadstat
from openpyxl import Workbook
from sqlalchemy import select

from analysis.instruments import Codebook
from analysis.io import TEXT_COLUMNS

from ..extensions import db
from ..models import Response, Survey
from .responses import (META_COLUMNS, ResponseFilter, codebook_of, iter_response_frames,
                        response_columns)
from .analysis import report_options, survey_analysis
from .codebooks import (CODEBOOK_COLUMNS, META_DESCRIPTIONS, codebook_rows, survey_codebook,
                        value_label_rows, value_labels, variable_label)
from .filters import describe_filter
from .spreadsheet_safety import neutralise_cell

EXPORT_CHUNK_SIZE = 20_000
# Text columns of the raw data beside the response frame's metadata.
RAW_META_COLUMNS = (*META_COLUMNS, *TEXT_COLUMNS)
# SPSS user-missing code / Stata extended missing value for "not asked in this version".
NOT_ASKED_CODE = -99.0
NOT_ASKED_STATA = "a"
NOT_ASKED_LABEL = {"zh": "本版本未提问", "en": "not asked in this version"}
# Excel's sheet limit is 1,048,576 rows; one is the header.
XLSX_MAX_DATA_ROWS = 1_048_575

YES_NO = {"zh": {0: "否", 1: "是"}, "en": {0: "no", 1: "yes"}}

class ExportError(ValueError):
    """An export that cannot be made (too many rows for the format, unknown format ...)."""


# --------------------------------------------------------------------------
# Raw data in chunks
# --------------------------------------------------------------------------

def raw_columns(survey: Survey) -> list[str]:
    """Columns of the raw data files: the response frame's metadata, language, comment, variables."""
    columns = response_columns(survey)
    return [*RAW_META_COLUMNS, *columns[len(META_COLUMNS):]]


def iter_raw_frames(survey: Survey, filters: ResponseFilter,
                    chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[pd.DataFrame]:
    """Response frames with the language and comment of each response, ``raw_columns`` order."""
    columns = raw_columns(survey)
    for frame in iter_response_frames(survey, filters, chunk_size):
        ids = frame["response_id"].to_numpy()
        # One range query per chunk (an IN list of 20,000 ids would hit SQLite's variable limit).
        text = db.session.execute(
            select(Response.id, Response.language, Response.comment)
            .where(Response.survey_id == survey.id, Response.id >= int(ids.min()),
                   Response.id <= int(ids.max()))).all()
        by_id = {row.id: row for row in text}
        frame["language"] = [by_id[i].language for i in ids]
        frame["comment"] = [by_id[i].comment for i in ids]
        yield frame[columns]


def _not_asked_mask(frame: pd.DataFrame, survey: Survey, variables: list[str]) -> pd.DataFrame:
    """True where a row's survey version has no such question."""
    mask = pd.DataFrame(False, index=frame.index, columns=variables)
    for version in survey.versions:
        asked = set(codebook_of(version).names)
        absent = [name for name in variables if name not in asked]
        if absent:
            mask.loc[frame["version"] == version.number, absent] = True
    return mask


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def csv_chunks(survey: Survey, filters: ResponseFilter,
               chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[bytes]:
    """The raw-data CSV as byte chunks: BOM and header first, then one chunk per page of responses."""
    yield "\ufeff".encode()
    yield _csv_line(raw_columns(survey))
    for frame in iter_raw_frames(survey, filters, chunk_size):
        buffer = io.StringIO()
        _csv_ready(frame).to_csv(buffer, header=False, index=False, float_format="%.15g",
                                 lineterminator="\r\n")
        yield buffer.getvalue().encode()


def _csv_line(values: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if value is None else neutralise_cell(str(value)) for value in values])
    return buffer.getvalue().encode()


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Text safe for spreadsheets, timestamps as ISO 8601 UTC, the consent flag as 1/0."""
    out = frame.copy()
    for column in ("status", *TEXT_COLUMNS):
        out[column] = out[column].map(neutralise_cell)
    for column in ("started_at", "submitted_at"):
        out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out["contact_ok"] = out["contact_ok"].astype(int)
    # Answers are scale points and typed-in sums (exact at 15 digits, written "7" not "7.0");
    # durations are measured, so they keep Python's shortest exact form.
    out["duration_seconds"] = out["duration_seconds"].map(
        lambda seconds: "" if math.isnan(seconds) else repr(float(seconds)))
    # Whole-number answer columns print as integers in C; pandas' float_format is a Python
    # call per cell (seven times slower on a 100,000-response export).
    for column in out.columns[len(RAW_META_COLUMNS):]:
        values = out[column].to_numpy()
        answered = values[~np.isnan(values)]
        if np.array_equal(answered, np.round(answered)) and np.all(np.abs(answered) < 2**53):
            out[column] = out[column].astype("Int64")
    return out


def codebook_csv_chunks(survey: Survey) -> Iterator[bytes]:
    yield "\ufeff".encode()
    yield _csv_line(CODEBOOK_COLUMNS)
    for row in codebook_rows(survey_codebook(survey)):
        yield _csv_line(row[column] for column in CODEBOOK_COLUMNS)


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------

def xlsx_value(value: Any) -> Any:
    """A cell for openpyxl: numbers stay numbers, missing is empty, text is neutralised."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp):
        # Excel has no time zones: the column headers say the times are UTC.
        return (value.tz_convert("UTC").tz_localize(None) if value.tzinfo else value).to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list, tuple)):
        return neutralise_cell(json.dumps(value, ensure_ascii=False, default=str))
    return neutralise_cell(str(value))


def _xlsx_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column of ``frame`` as a list of cells (vectorised for the float answer columns)."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if series.dtype == np.float64:
            values = series.to_numpy()
            cells = values.astype(object)
            cells[np.isnan(values)] = None
            columns.append(cells.tolist())
        else:
            columns.append([xlsx_value(value) for value in series.tolist()])
    return columns


def _append_records(sheet, rows: list[dict[str, Any]], columns: Iterable[str]) -> None:
    columns = list(columns)
    sheet.append(columns)
    for row in rows:
        sheet.append([xlsx_value(row.get(column)) for column in columns])


def _labels_sheets(workbook: Workbook, codebook: Codebook, with_metadata: bool) -> None:
    sheet = workbook.create_sheet("labels")
    rows = codebook_rows(codebook)
    if with_metadata:
        rows = [{"name": name, "text_zh": text["zh"], "text_en": text["en"]}
                for name, text in META_DESCRIPTIONS.items()] + rows
    _append_records(sheet, rows, CODEBOOK_COLUMNS)
    _append_records(workbook.create_sheet("value_labels"), value_label_rows(codebook),
                    ("variable", "value", "label_zh", "label_en"))


def write_xlsx(survey: Survey, filters: ResponseFilter, path: str | Path,
               chunk_size: int = EXPORT_CHUNK_SIZE) -> int:
    """Raw data (sheet ``data``) plus ``labels`` and ``value_labels``; returns the row count."""
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet("data")
    data.append(raw_columns(survey))
    written = 0
    for frame in iter_raw_frames(survey, filters, chunk_size):
        written += len(frame)
        if written > XLSX_MAX_DATA_ROWS:
            data.close()  # ends the sheet's spool file now, not at garbage collection
            raise ExportError(f"more than {XLSX_MAX_DATA_ROWS:,} responses do not fit in one "
                              "Excel sheet; export CSV, SPSS or Stata instead")
        for row in zip(*_xlsx_columns(frame)):
            data.append(row)
    _labels_sheets(workbook, survey_codebook(survey), with_metadata=True)
    workbook.save(path)
    return written


def write_codebook_xlsx(survey: Survey, path: str | Path) -> None:
    workbook = Workbook(write_only=True)
    codebook = survey_codebook(survey)
    _append_records(workbook.create_sheet("codebook"), codebook_rows(codebook), CODEBOOK_COLUMNS)
    _append_records(workbook.create_sheet("value_labels"), value_label_rows(codebook),
                    ("variable", "value", "label_zh", "label_en"))
    workbook.save(path)


def write_stats_xlsx(survey: Survey, filters: ResponseFilter, path: str | Path,
                     options=None) -> None:
    """Every table of :func:`analysis.report.analyse_survey`, one sheet each, numbers as numbers.

    A first sheet ``about`` names the survey, the filter, the counts and the
    sections that could not be computed (with the reason).
    """

    analysis = survey_analysis(survey, filters, options or report_options())
    workbook = Workbook(write_only=True)
    about = workbook.create_sheet("about")
    for key, value in (("survey", survey.slug), ("title_zh", survey.title_zh),
                       ("title_en", survey.title_en), ("filter", describe_filter(filters)),
                       ("n_total", analysis.n_total), ("n_used", analysis.n_used)):
        about.append([key, xlsx_value(value)])
    for section, reason in analysis.skipped.items():
        about.append([xlsx_value(f"not computed: {section}"), xlsx_value(reason)])
    used: set[str] = {"about"}
    for name, table in analysis.tables().items():
        sheet = workbook.create_sheet(_sheet_name(name, used))
        sheet.append([xlsx_value(str(column)) for column in table.columns])
        for row in zip(*_xlsx_columns(table)):
            sheet.append(row)
    workbook.save(path)


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, none of ``[]:*?/\\``)."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "sheet"
    candidate, number = cleaned, 2
    while candidate.lower() in used:
        suffix = f"_{number}"
        candidate, number = cleaned[:31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


# --------------------------------------------------------------------------
# SPSS and Stata
# --------------------------------------------------------------------------

def _clip(text: str, max_bytes: int, max_chars: int | None = None) -> str:
    """``text`` cut to a format's label limit, counted in UTF-8 bytes (and characters)."""
    if max_chars is not None:
        text = text[:max_chars]
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode(errors="ignore")


def _statistics_frame(survey: Survey, filters: ResponseFilter) -> pd.DataFrame:
    """The whole filtered raw data in one frame (pyreadstat cannot append), typed for SPSS/Stata."""
    frames = list(iter_raw_frames(survey, filters))
    frame = pd.concat(frames, ignore_index=True) if frames else _empty_raw_frame(survey)
    for column in ("started_at", "submitted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    frame["contact_ok"] = frame["contact_ok"].astype("int8")
    frame["version"] = frame["version"].astype("int64")
    for column in ("status", *TEXT_COLUMNS):
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def _empty_raw_frame(survey: Survey) -> pd.DataFrame:
    columns = raw_columns(survey)
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in columns})
    frame["response_id"] = frame["response_id"].astype("int64")
    for column in ("started_at", "submitted_at"):
        frame[column] = pd.Series(dtype="datetime64[ns, UTC]")
    for column in ("status", *TEXT_COLUMNS):
        frame[column] = pd.Series(dtype="object")
    frame["contact_ok"] = pd.Series(dtype="bool")
    return frame


def _statistics_labels(codebook: Codebook, lang: str, max_bytes: int,
                       max_chars: int | None) -> dict[str, str]:
    labels = {name: _clip(text[lang], max_bytes, max_chars) for name, text in META_DESCRIPTIONS.items()}
    for variable in codebook:
        labels[variable.name] = _clip(variable_label(variable, lang), max_bytes, max_chars)
    return labels


def write_sav(survey: Survey, filters: ResponseFilter, path: str | Path, lang: str = "zh") -> int:
    """SPSS ``.sav``: variable and value labels in ``lang``; "not asked" is user-missing ``-99``."""
    codebook = survey_codebook(survey)
    _check_not_asked_code(codebook)
    frame = _statistics_frame(survey, filters)
    variables = codebook.names
    frame[variables] = frame[variables].mask(_not_asked_mask(frame, survey, variables), NOT_ASKED_CODE)
    not_asked = _clip(NOT_ASKED_LABEL[lang], 120)
    # SPSS value labels hold at most 120 bytes.
    labelled = {variable.name: {float(code): _clip(label, 120)
                                for code, label in value_labels(variable, lang).items()}
                for variable in codebook}
    for name in variables:
        labelled[name][NOT_ASKED_CODE] = not_asked
    labelled["contact_ok"] = dict(YES_NO[lang])
    measure = {"response_id": "nominal", "version": "nominal", "status": "nominal",
               "contact_ok": "nominal", "language": "nominal", "duration_seconds": "scale"}
    for variable in codebook:
        measure[variable.name] = {"choice": "nominal", "rating": "ordinal"}.get(
            variable.scale["type"], "scale")
    pyreadstat.write_sav(
        frame, os.fspath(path), file_label=_clip(survey.title(lang), 64),
        column_labels=_statistics_labels(codebook, lang, 255, None),
        variable_value_labels=labelled,
        missing_ranges={name: [NOT_ASKED_CODE] for name in variables},
        variable_measure=measure)
    return len(frame)


def write_dta(survey: Survey, filters: ResponseFilter, path: str | Path, lang: str = "zh") -> int:
    """Stata ``.dta`` (version 15): labels in ``lang``; "not asked" is extended missing ``.a``."""
    codebook = survey_codebook(survey)
    frame = _statistics_frame(survey, filters)
    variables = codebook.names
    mask = _not_asked_mask(frame, survey, variables)
    missing_user_values = {}
    for name in variables:
        if mask[name].any():
            # pyreadstat writes the letter of an extended missing value given in an object column.
            column = frame[name].astype(object)
            column[mask[name]] = NOT_ASKED_STATA
            frame[name] = column
            missing_user_values[name] = [NOT_ASKED_STATA]
    labelled = {variable.name: value_labels(variable, lang) for variable in codebook
                if value_labels(variable, lang)}
    labelled["contact_ok"] = dict(YES_NO[lang])
    pyreadstat.write_dta(
        frame, os.fspath(path), file_label=_clip(survey.title(lang), 80, 80),
        column_labels=_statistics_labels(codebook, lang, 320, 80),
        variable_value_labels=labelled, missing_user_values=missing_user_values or None)
    return len(frame)


def _check_not_asked_code(codebook: Codebook) -> None:
    for variable in codebook:
        allowed = variable.valid_values()
        inside = (NOT_ASKED_CODE in allowed if isinstance(allowed, set)
                  else allowed is not None and allowed[0] <= NOT_ASKED_CODE <= allowed[1])
        if inside:
            raise ExportError(f"{variable.name}: its scale includes {NOT_ASKED_CODE:g}, the "
                              "SPSS code for 'not asked in this version'")


# --------------------------------------------------------------------------
# One entry point for the web, the API and the CLI
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportFormat:
    key: str
    suffix: str
    mimetype: str
    # Streamed formats yield bytes; the others write a file (pyreadstat and openpyxl need a path).
    chunks: Callable[[Survey, ResponseFilter, str], Iterator[bytes]] | None = None
    write: Callable[[Survey, ResponseFilter, str, Path], Any] | None = None

    def filename(self, survey: Survey) -> str:
        return f"{survey.slug}-{self.suffix}"


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS: dict[str, ExportFormat] = {fmt.key: fmt for fmt in (
    ExportFormat("csv", "responses.csv", "text/csv",
                 chunks=lambda survey, filters, lang: csv_chunks(survey, filters)),
    ExportFormat("xlsx", "responses.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path: write_xlsx(survey, filters, path)),
    ExportFormat("sav", "responses.sav", "application/x-spss-sav",
                 write=lambda survey, filters, lang, path: write_sav(survey, filters, path, lang)),
    ExportFormat("dta", "responses.dta", "application/x-stata-dta",
                 write=lambda survey, filters, lang, path: write_dta(survey, filters, path, lang)),
    ExportFormat("codebook-csv", "codebook.csv", "text/csv",
                 chunks=lambda survey, filters, lang: codebook_csv_chunks(survey)),
    ExportFormat("codebook-xlsx", "codebook.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path: write_codebook_xlsx(survey, path)),
    ExportFormat("stats-xlsx", "statistics.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path: write_stats_xlsx(survey, filters, path)),
)}


def export_format(key: str) -> ExportFormat:
    if key not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {key!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[key]


def export_to_file(survey: Survey, key: str, filters: ResponseFilter, path: str | Path,
                   lang: str = "zh") -> None:
    """Write the export ``key`` of ``survey`` to ``path`` (the CLI's path)."""
    fmt = export_format(key)
    if fmt.chunks is not None:
        with open(path, "wb") as out:
            for chunk in fmt.chunks(survey, filters, lang):
                out.write(chunk)
    else:
        fmt.write(survey, filters, lang, Path(path))
