"""Taking a survey's data out: raw responses, codebook and statistics tables.

Formats (``EXPORT_FORMATS``):

* ``csv`` - one row a response, columns by variable name; UTF-8 with a byte
  order mark so Excel opens Chinese text correctly. Streamed chunk by chunk,
  each chunk written by pyarrow's CSV writer (C++).
* ``xlsx`` - sheet ``data`` (the same table), ``labels`` (the codebook) and
  ``value_labels``; written by rustpy-xlsxwriter (Rust's rust_xlsxwriter,
  MIT) in constant-memory mode, which takes the rows one page of responses
  at a time and spools the sheet to disk.
* ``sav`` / ``dta`` - SPSS and Stata files with variable labels, value labels
  and missing-value codes (pyreadstat).
* ``codebook-csv`` / ``codebook-xlsx`` - one row a variable: item code,
  dimension, text zh/en, scale and its labels.
* ``stats-xlsx`` - every table of :func:`analysis.report.analyse_survey`, a
  sheet each, numbers stored as numbers (openpyxl; the tables are small).

Every writer takes an optional ``progress`` callable, called with the
fraction done (0..1) after each chunk and with 1.0 at the end (the job
queue's progress bar).

Memory. CSV and XLSX read the responses through
:func:`~surveyapp.services.responses.iter_response_frames` (keyset pages of
``EXPORT_CHUNK_SIZE`` responses, language and comment in the same query),
so their memory does not grow with the survey. pyreadstat writes a whole
data frame at once and has no append mode, so SAV and DTA hold the filtered
frame in memory (about 8 bytes x responses x columns, twice while it is
assembled): they refuse more than ``STATISTICS_MAX_ROWS`` (200,000)
responses with an :class:`ExportError` that says to narrow the selection or
export CSV; the statistics workbook needs the whole frame because the
analysis does.

Measured with ``python -m bench exports`` (demo survey, 144 columns, SQLite;
peak memory is the subprocess's ``VmHWM``, the app alone about 300 MB) while
other jobs kept the 2 cores at a load average of 11-17, so wall-clock rates
are a fraction of what the cores give; the CPU-second rate is the process's
own work. At 100,000 responses: read 15,800 rows/s (94,000 per CPU second) /
435 MB, CSV 10,100 rows/s (47,700 per CPU second) / 481 MB, XLSX 2,270 rows/s
(7,660 per CPU second, most of it rust_xlsxwriter's) / 511 MB. At 300,000:
read 435 MB, CSV 480 MB, XLSX 531 MB - flat in rows. Integral answer columns
go to Arrow as integers (same text, the writer formats them about twice as
fast as floats). The issue's targets (CSV 100k rows/s, XLSX 5k rows/s)
assume the two cores free; ``make bench`` records them.

Missing values. Three kinds of missing answer stay apart in every format
(docs/data-model.md §5): a skipped question is an empty cell (CSV/XLSX),
system-missing (SPSS) and ``.`` (Stata); "don't know / not applicable" is
the code ``-98`` (CSV/XLSX, labelled in the value labels; SPSS user-missing,
labelled) and ``.b`` in Stata; "not asked" (display logic hid the question,
or the survey version a response answered did not have it) is ``-99``
(likewise) and ``.a`` in Stata. The stored NaN payloads become these codes in
:func:`iter_raw_frames`, one vectorised pass per chunk.

Formula injection and control characters. Every text cell of CSV and XLSX
goes through :func:`~surveyapp.services.spreadsheet_safety.neutralise_cell`;
numbers are written as numbers (a negative number is not a formula). XLSX
cells also lose the C0 control characters XML 1.0 cannot hold (all but tab,
line feed and carriage return) before that check (:func:`xlsx_text`); CSV
keeps text as typed, quoted.
"""
from __future__ import annotations

import csv
import io
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyreadstat
import rustpy_xlsxwriter as rust_xlsx
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as ILLEGAL_XML_CHARACTERS

from analysis.instruments import NOT_APPLICABLE_CODE, NOT_ASKED_CODE, Codebook
from analysis.common import MIN_N
from analysis.io import TEXT_COLUMNS, write_tables_xlsx, xlsx_cell
from analysis.report import mark_few_responses

from flask import current_app
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from ..extensions import db
from ..models import Survey
from .responses import (ANSWER_DTYPE, META_COLUMNS, NOT_APPLICABLE_BITS, NOT_ASKED_BITS,
                        ResponseFilter, count_responses, iter_response_frames, response_columns,
                        response_page)
from .analysis import report_options, survey_analysis
from .codebooks import (CODEBOOK_COLUMNS, META_DESCRIPTIONS, NOT_APPLICABLE_LABEL, NOT_ASKED_LABEL,
                        codebook_rows, survey_codebook, value_label_rows, value_labels,
                        variable_label)
from .filters import describe_filter
from .spreadsheet_safety import neutralise_cell

# Responses per chunk. The CSV writer works on one chunk while the next is read, so the
# first read and the last write run alone: 10k rows halve that against 20k (CSV of
# 100k: 88-98k -> 105-116k rows/s) and hold 160 MB less (peak 481-492 MB, was 643-666).
EXPORT_CHUNK_SIZE = 10_000
# Text columns of the raw data beside the response frame's metadata.
RAW_META_COLUMNS = (*META_COLUMNS, *TEXT_COLUMNS)
# Stata extended missing values of the two coded kinds of missing (docs/data-model.md §5).
NOT_ASKED_STATA = "a"
NOT_APPLICABLE_STATA = "b"
MISSING_CODES = (NOT_ASKED_CODE, NOT_APPLICABLE_CODE)
# Excel's sheet limit is 1,048,576 rows; one is the header.
XLSX_MAX_DATA_ROWS = 1_048_575
# Excel's day 0 for serial date numbers (the 1900 leap-year bug included).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
# pyreadstat writes a whole frame at once (no append), so SPSS and Stata files
# hold every row in memory: at most this many responses (see the module docstring).
STATISTICS_MAX_ROWS = 200_000
# Called with the fraction of an export done (0..1) as chunks are written.
Progress = Callable[[float], None]

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


def iter_raw_frames(survey: Survey, filters: ResponseFilter, chunk_size: int | None = None,
                    missing_codes: bool = True) -> Iterator[pd.DataFrame]:
    """Response frames with the language and comment of each response, ``raw_columns`` order.

    ``chunk_size`` defaults to :data:`EXPORT_CHUNK_SIZE` (read at call time).
    ``missing_codes``: "not asked" and "not applicable" as -99 / -98 (the files);
    False leaves them NaN (the API's JSON, where they are null).
    """
    for frame in iter_response_frames(survey, filters, chunk_size or EXPORT_CHUNK_SIZE,
                                      text_columns=TEXT_COLUMNS):
        yield _raw_frame(frame, missing_codes)


def raw_page(survey: Survey, filters: ResponseFilter, offset: int, limit: int,
             missing_codes: bool = True) -> pd.DataFrame:
    """One page of :func:`iter_raw_frames`' rows (no segment filter), reading only that page."""
    return _raw_frame(response_page(survey, filters, offset, limit, text_columns=TEXT_COLUMNS),
                      missing_codes)


def _raw_frame(frame: pd.DataFrame, missing_codes: bool) -> pd.DataFrame:
    # Text columns moved beside the metadata without copying the answer columns.
    for offset, name in enumerate(TEXT_COLUMNS):
        frame.insert(len(META_COLUMNS) + offset, name, frame.pop(name))
    return _with_missing_codes(frame) if missing_codes else frame


def read_ahead_raw_frames(survey: Survey, filters: ResponseFilter,
                          chunk_size: int | None = None) -> Iterator[pd.DataFrame]:
    """:func:`iter_raw_frames`, the next chunk read on a thread of its own meanwhile.

    Reading a chunk (the database driver, then numpy) and writing the one before
    (pyarrow's C++ CSV writer) both spend most of their time outside the GIL, so
    on two cores an export takes about the longer of the two instead of their sum.
    The reader has its own app context, session and connection, and at most one
    chunk waits for the writer, so memory stays at two chunks. A database reached
    through one shared connection (in-memory SQLite) is read in this thread instead.
    Stopping early (a closed generator) stops the reader.
    """
    if isinstance(db.engine.pool, (StaticPool, SingletonThreadPool)):
        yield from iter_raw_frames(survey, filters, chunk_size)
        return
    app = current_app._get_current_object()
    survey_id = survey.id
    handover: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        with app.app_context():
            try:
                own = db.session.get(Survey, survey_id)
                for frame in iter_raw_frames(own, filters, chunk_size):
                    if not hand_over(("frame", frame)):
                        return
                hand_over(("end", None))
            except BaseException as error:  # re-raised in the writer's thread
                hand_over(("error", error))
            finally:
                db.session.remove()

    reader = threading.Thread(target=read, name=f"export-read-ahead-{survey_id}", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = handover.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        reader.join()


def _with_missing_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with "not asked" and "not applicable" cells as their codes -99 / -98.

    The stored NaN payloads (services.responses) are read from the answer
    columns' bits; a skipped question stays NaN.
    """
    meta = len(RAW_META_COLUMNS)
    if frame.shape[1] == meta:
        return frame
    values = frame.iloc[:, meta:].to_numpy(dtype=ANSWER_DTYPE, copy=True)
    bits = values.view(np.uint64)
    not_asked, not_applicable = bits == NOT_ASKED_BITS, bits == NOT_APPLICABLE_BITS
    if not (not_asked.any() or not_applicable.any()):
        return frame
    np.copyto(values, NOT_ASKED_CODE, where=not_asked)
    np.copyto(values, NOT_APPLICABLE_CODE, where=not_applicable)
    # One float block again, the metadata inserted before it (cheaper than a concat).
    coded = pd.DataFrame(values, columns=frame.columns[meta:], index=frame.index, copy=False)
    for position, name in enumerate(frame.columns[:meta]):
        coded.insert(position, name, frame[name])
    return coded


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def csv_chunks(survey: Survey, filters: ResponseFilter, chunk_size: int | None = None,
               progress: Progress | None = None) -> Iterator[bytes]:
    """The raw-data CSV as byte chunks: BOM and header first, then one chunk per page of responses.

    Each page is converted to Arrow columns and written by pyarrow's CSV
    writer (C++): numbers in their shortest exact form ("7", "0.1"), missing
    as an empty cell, text quoted.
    """
    _check_missing_codes(survey_codebook(survey))
    yield "\ufeff".encode()
    yield _csv_line(raw_columns(survey))
    options = pa_csv.WriteOptions(include_header=False, eol="\r\n")

    def written(table: pa.Table) -> bytes:
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, write_options=options)
        return sink.getvalue().to_pybytes()

    # Three stages over the chunks: the reader's thread reads the next one, this thread
    # converts one to Arrow, and pyarrow's writer (C++, outside the GIL) writes the one
    # before on a thread of its own. At most one chunk waits at each stage.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-writer") as writer:
        pending = None
        for frame in _with_progress(read_ahead_raw_frames(survey, filters, chunk_size), survey,
                                    filters, progress):
            table = _arrow_table(frame)
            del frame
            if pending is not None:
                yield pending.result()
            pending = writer.submit(written, table)
            del table
        if pending is not None:
            yield pending.result()


def _csv_line(values: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if value is None else neutralise_cell(str(value)) for value in values])
    return buffer.getvalue().encode()


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A raw-data frame as Arrow columns for the CSV writer.

    Text safe for spreadsheets, timestamps as ISO 8601 UTC text, the consent
    flag as 1/0, NaN as null (an empty cell), numbers by :func:`_csv_number_columns`
    (all float columns of the chunk in one pass over one matrix).
    """
    names = list(frame.columns)
    special = {"status", "started_at", "submitted_at", "contact_ok", *TEXT_COLUMNS}
    meta = len(RAW_META_COLUMNS)
    answers = frame.iloc[:, meta:]
    if all(dtype == np.float64 for dtype in answers.dtypes):
        # The answers are one float block after the metadata: read as one matrix without
        # the copy a selection by a list of names makes; metadata floats one by one.
        float_names = [name for name in names[:meta]
                       if name not in special and frame.dtypes[name] == np.float64]
        numbers = {name: _csv_numbers(frame[name].to_numpy()) for name in float_names}
        numbers.update(zip(names[meta:], _csv_number_columns(answers.to_numpy(dtype=np.float64))))
    else:
        float_names = [name for name in names
                       if name not in special and frame.dtypes[name] == np.float64]
        numbers = dict(zip(float_names, _csv_number_columns(
            frame[float_names].to_numpy(dtype=np.float64) if float_names
            else np.empty((len(frame), 0)))))
    arrays = []
    for name in names:
        if name in numbers:
            arrays.append(numbers[name])
            continue
        series = frame[name]
        if name in ("status", *TEXT_COLUMNS):
            arrays.append(pa.array(each_distinct(series.tolist(), neutralise_cell),
                                   type=pa.string(), from_pandas=True))
        elif name in ("started_at", "submitted_at"):
            arrays.append(pa.array(_iso_utc(series), type=pa.string()))
        elif name == "contact_ok":
            arrays.append(pa.array(series.to_numpy().astype(np.int8)))
        else:
            arrays.append(pa.array(series.to_numpy(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=[str(name) for name in names])


# Arrow writes a whole float below this as the integer ("7", "-3", "9999999999"); from
# 1e10 on it switches to exponents ("1e+10"), and it writes -0.0 as "-0".
_WRITTEN_AS_INTEGER = 1e10


def _csv_numbers(values: np.ndarray) -> pa.Array:
    """One float column for the CSV writer (see :func:`_csv_number_columns`)."""
    return _csv_number_columns(np.asarray(values, dtype=np.float64).reshape(-1, 1))[0]


def _csv_number_columns(block: np.ndarray) -> list[pa.Array]:
    """The columns of a float matrix for the CSV writer: as integers where every value is whole.

    Answers on rating and choice scales are whole numbers stored as floats;
    Arrow formats integers several times faster than floats and writes the
    same text for them (see :data:`_WRITTEN_AS_INTEGER`), so such a column
    is handed over as int64 with NaN as null. Any other column stays float.
    The tests are made on the whole matrix at once (a per-column pass cost
    a quarter of a large export's time).
    """
    # One column-major copy, so each column below is one contiguous slice; every test reads it.
    floats = np.asfortranarray(block, dtype=np.float64)
    missing = np.isnan(floats)
    with np.errstate(invalid="ignore", over="ignore"):
        # NaN, infinities and huge values cast to garbage, which the tests below reject
        # (and a masked slot is never read).
        integers = floats.astype(np.int64)
        whole = (integers == floats) & (np.abs(floats) < _WRITTEN_AS_INTEGER)
    whole &= ~(np.signbit(floats) & (integers == 0))  # -0.0, which Arrow writes as "-0"
    integer_column = np.all(whole | missing, axis=0)
    return [pa.array(integers[:, j], mask=missing[:, j]) if integer_column[j]
            else pa.array(floats[:, j], from_pandas=True) for j in range(block.shape[1])]


def each_distinct(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``[convert(value) for value in values]``, calling ``convert`` once per distinct value.

    Status and language repeat a handful of values over every row.
    """
    converted = {value: convert(value) for value in set(values)}
    return [converted[value] for value in values]


def _iso_utc(series: pd.Series) -> list[str | None]:
    """``2026-11-30T02:57:00.123456Z`` for each time, None for a missing one."""
    text = np.datetime_as_string(series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(),
                                 unit="us")
    return [None if value == "NaT" else value + "Z" for value in text.tolist()]


def _with_progress(frames: Iterator[pd.DataFrame], survey: Survey, filters: ResponseFilter,
                   progress: Progress | None) -> Iterator[pd.DataFrame]:
    """``frames`` unchanged; ``progress`` hears the fraction of the responses read after each.

    The total is counted before segment filters, so a segment-filtered export
    moves in smaller steps; it always ends at 1.0.
    """
    if progress is None:
        yield from frames
        return
    total = max(count_responses(survey, filters), 1)
    done = 0
    progress(0.0)
    for frame in frames:
        yield frame
        done += len(frame)
        progress(min(done / total, 1.0))
    progress(1.0)


def codebook_csv_chunks(survey: Survey) -> Iterator[bytes]:
    yield "\ufeff".encode()
    yield _csv_line(CODEBOOK_COLUMNS)
    for row in codebook_rows(survey_codebook(survey)):
        yield _csv_line(row[column] for column in CODEBOOK_COLUMNS)


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------

def xlsx_text(text: str) -> str:
    """Text for a workbook cell: XML-illegal control characters dropped, formulas neutralised.

    XLSX is XML 1.0, which cannot hold C0 control characters other than tab,
    line feed and carriage return; Excel and openpyxl reject a file with them.
    """
    return neutralise_cell(ILLEGAL_XML_CHARACTERS.sub("", text))


def xlsx_value(value: Any) -> Any:
    """A workbook cell: numbers stay numbers, missing is empty, text is made safe (:func:`xlsx_text`)."""
    return xlsx_cell(value, xlsx_text)


def _xlsx_columns(frame: pd.DataFrame, serial_times: bool = True) -> list[list[Any]]:
    """Each column of ``frame`` as a list of cells (vectorised for numbers and times).

    ``serial_times``: times as Excel serial days (for a column with a date
    format), else as naive UTC datetimes.
    """
    columns = []
    for name in frame.columns:
        series = frame[name]
        if serial_times and isinstance(series.dtype, pd.DatetimeTZDtype):
            # Excel serial days since 1899-12-30 (Excel has no time zones: the headers say UTC).
            naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
            days = (naive - EXCEL_EPOCH) / pd.Timedelta(days=1)
            columns.append(_workbook_numbers(days.to_numpy(dtype=float)))
        elif series.dtype == np.float64:
            columns.append(_workbook_numbers(series.to_numpy()))
        elif series.dtype == np.int64:
            columns.append(series.tolist())
        else:
            columns.append(each_distinct(series.tolist(), xlsx_value))
    return columns


def _workbook_numbers(values: np.ndarray) -> list[float]:
    """Numbers for the workbook writer, which leaves a NaN cell empty (its ``na_rep`` default);
    infinities (no Excel number) become NaN, so empty, too."""
    if not np.isinf(values).any():
        return values.tolist()
    return np.where(np.isinf(values), np.nan, values).tolist()


def _records(rows: list[dict[str, Any]], columns: Iterable[str]) -> list[dict[str, Any]]:
    """Rows as workbook records with every column, cells made safe."""
    columns = list(columns)
    return [{column: xlsx_value(row.get(column)) for column in columns} for row in rows]


def _labels_sheets(codebook: Codebook, with_metadata: bool) -> list[tuple[str, Any]]:
    """The ``labels`` (or ``codebook``) and ``value_labels`` sheets as ``(name, records)``."""
    rows = codebook_rows(codebook)
    if with_metadata:
        rows = [{"name": name, "text_zh": text["zh"], "text_en": text["en"]}
                for name, text in META_DESCRIPTIONS.items()] + rows
    value_columns = ("variable", "value", "label_zh", "label_en")
    values = value_label_rows(codebook)
    return [("labels" if with_metadata else "codebook",
             _records(rows, CODEBOOK_COLUMNS) or pd.DataFrame(columns=list(CODEBOOK_COLUMNS))),
            ("value_labels",
             _records(values, value_columns) or pd.DataFrame(columns=list(value_columns)))]


def write_xlsx(survey: Survey, filters: ResponseFilter, path: str | Path,
               chunk_size: int | None = None, progress: Progress | None = None) -> int:
    """Raw data (sheet ``data``) plus ``labels`` and ``value_labels``; returns the row count.

    Written by rustpy-xlsxwriter (Rust's rust_xlsxwriter) in constant-memory
    mode: rows are handed over one page of responses at a time and the sheet
    is spooled to disk. Times are Excel serial numbers with a date format
    (the writer would cut a datetime to whole seconds).
    """
    _check_missing_codes(survey_codebook(survey))
    columns = raw_columns(survey)
    written = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal written
        for frame in _with_progress(iter_raw_frames(survey, filters, chunk_size), survey, filters,
                                    progress):
            written += len(frame)
            if written > XLSX_MAX_DATA_ROWS:
                raise ExportError(f"more than {XLSX_MAX_DATA_ROWS:,} responses do not fit in one "
                                  "Excel sheet; export CSV, SPSS or Stata instead")
            for row in zip(*_xlsx_columns(frame)):
                yield dict(zip(columns, row))

    rows = _peeked(records())
    data = rows if rows is not None else pd.DataFrame(columns=columns)  # header only
    codebook = survey_codebook(survey)
    time_format = rust_xlsx.Format().set_num_format(XLSX_TIME_FORMAT)
    rust_xlsx.write_worksheets(
        [("data", data), *_labels_sheets(codebook, with_metadata=True)], os.fspath(path),
        column_formats={"data": {"started_at": time_format, "submitted_at": time_format}})
    return written


def _peeked(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]] | None:
    """``records`` unchanged, or None when it is empty (the writer takes the header from a row)."""
    first = next(records, None)
    if first is None:
        return None

    def chained() -> Iterator[dict[str, Any]]:
        yield first
        yield from records

    return chained()


def write_codebook_xlsx(survey: Survey, path: str | Path) -> None:
    rust_xlsx.write_worksheets(_labels_sheets(survey_codebook(survey), with_metadata=False),
                               os.fspath(path))


def write_stats_xlsx(survey: Survey, filters: ResponseFilter, path: str | Path,
                     options=None) -> None:
    """Every table of :func:`analysis.report.analyse_survey`, one sheet each, numbers as numbers.

    A first sheet ``about`` names the survey, the filter, the counts and the
    sections that could not be computed (with the reason). Every table whose
    rows carry their own ``n`` gets ``min_n`` and ``few_responses`` columns
    (:func:`analysis.report.mark_few_responses`): a figure below its stated
    minimum n is shown, marked; ``about`` says so and lists the minimums.
    """

    analysis = survey_analysis(survey, filters, options or report_options())
    about = [("survey", survey.slug), ("title_zh", survey.title_zh), ("title_en", survey.title_en),
             ("filter", describe_filter(filters)), ("n_total", analysis.n_total),
             ("n_used", analysis.n_used)]
    about += [(f"not computed: {section}", reason) for section, reason in analysis.skipped.items()]
    about.append(("few responses", "few_responses = TRUE marks a row whose n is below the stated "
                                   "minimum (min_n) for that kind of figure: shown, but it can "
                                   "swing widely from one sample to the next"))
    about += [(f"min_n: {kind}", minimum) for kind, minimum in MIN_N.items()]
    write_tables_xlsx(mark_few_responses(analysis.tables()), path, about=about, text=xlsx_text)


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


def _statistics_frame(survey: Survey, filters: ResponseFilter, kind: str,
                      progress: Progress | None = None) -> pd.DataFrame:
    """The whole filtered raw data in one frame (pyreadstat cannot append), typed for SPSS/Stata.

    Refuses more than :data:`STATISTICS_MAX_ROWS` responses as soon as the
    reading passes the limit, so memory stays bounded.
    """
    frames, rows = [], 0
    # Reading is most of the work; the last tenth is pyreadstat writing the file.
    reading = (lambda fraction: progress(0.9 * fraction)) if progress else None
    for frame in _with_progress(iter_raw_frames(survey, filters), survey, filters, reading):
        rows += len(frame)
        if rows > STATISTICS_MAX_ROWS:
            raise ExportError(
                f"{kind} files are written in one piece, so at most {STATISTICS_MAX_ROWS:,} "
                "responses fit in one export; narrow the selection (dates, versions, segments) "
                "or export CSV")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else _empty_raw_frame(survey)
    del frames
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


def write_sav(survey: Survey, filters: ResponseFilter, path: str | Path, lang: str = "zh",
              progress: Progress | None = None) -> int:
    """SPSS ``.sav``: variable and value labels in ``lang``; "not asked" (-99) and
    "not applicable" (-98) are labelled user-missing values."""
    codebook = survey_codebook(survey)
    _check_missing_codes(codebook)
    frame = _statistics_frame(survey, filters, "SPSS", progress)
    # SPSS value labels hold at most 120 bytes.
    labelled = {variable.name: {float(code): _clip(label, 120)
                                for code, label in value_labels(variable, lang).items()}
                for variable in codebook}
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
        missing_ranges={variable.name: [NOT_ASKED_CODE, NOT_APPLICABLE_CODE]
                        if variable.scale.get("not_applicable") else [NOT_ASKED_CODE]
                        for variable in codebook},
        variable_measure=measure)
    if progress:
        progress(1.0)
    return len(frame)


def write_dta(survey: Survey, filters: ResponseFilter, path: str | Path, lang: str = "zh",
              progress: Progress | None = None) -> int:
    """Stata ``.dta`` (version 15): labels in ``lang``; "not asked" is the extended missing
    value ``.a``, "not applicable" ``.b``, both labelled."""
    codebook = survey_codebook(survey)
    frame = _statistics_frame(survey, filters, "Stata", progress)
    letters = {NOT_ASKED_CODE: NOT_ASKED_STATA, NOT_APPLICABLE_CODE: NOT_APPLICABLE_STATA}
    missing_user_values = {}
    for name in codebook.names:
        coded = frame[name].isin(MISSING_CODES)
        if coded.any():
            # pyreadstat writes the letter of an extended missing value given in an object column.
            column = frame[name].astype(object)
            column[coded] = frame[name][coded].map(letters)
            frame[name] = column
            missing_user_values[name] = sorted(set(column[coded]))
    labelled = {}
    for variable in codebook:
        labels = value_labels(variable, lang, missing=False)
        used = missing_user_values.get(variable.name, [])
        if NOT_ASKED_STATA in used:
            labels[NOT_ASKED_STATA] = NOT_ASKED_LABEL[lang]
        if NOT_APPLICABLE_STATA in used:
            labels[NOT_APPLICABLE_STATA] = NOT_APPLICABLE_LABEL[lang]
        if labels:
            labelled[variable.name] = labels
    labelled["contact_ok"] = dict(YES_NO[lang])
    pyreadstat.write_dta(
        frame, os.fspath(path), file_label=_clip(survey.title(lang), 80, 80),
        column_labels=_statistics_labels(codebook, lang, 320, 80),
        variable_value_labels=labelled, missing_user_values=missing_user_values or None)
    if progress:
        progress(1.0)
    return len(frame)


def _check_missing_codes(codebook: Codebook) -> None:
    """A scale that includes -99 or -98 cannot use them as missing-value codes."""
    for variable in codebook:
        allowed = variable.valid_values()
        for code in MISSING_CODES:
            inside = (code in allowed if isinstance(allowed, set)
                      else allowed is not None and allowed[0] <= code <= allowed[1])
            if inside:
                raise ExportError(f"{variable.name}: its scale includes {code:g}, the export's "
                                  "code for a missing answer (-99 not asked, -98 not applicable)")


# --------------------------------------------------------------------------
# One entry point for the web, the API and the CLI
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportFormat:
    key: str
    suffix: str
    mimetype: str
    # Streamed formats yield bytes; the others write a file (pyreadstat and the
    # workbook writers need a path). Both take an optional ``progress`` keyword.
    chunks: Callable[..., Iterator[bytes]] | None = None
    write: Callable[..., Any] | None = None

    def filename(self, survey: Survey) -> str:
        return f"{survey.slug}-{self.suffix}"


def _finished(progress: Progress | None) -> None:
    """For the small exports written in one step."""
    if progress:
        progress(1.0)


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS: dict[str, ExportFormat] = {fmt.key: fmt for fmt in (
    ExportFormat("csv", "responses.csv", "text/csv",
                 chunks=lambda survey, filters, lang, progress=None:
                 csv_chunks(survey, filters, progress=progress)),
    ExportFormat("xlsx", "responses.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path, progress=None:
                 write_xlsx(survey, filters, path, progress=progress)),
    ExportFormat("sav", "responses.sav", "application/x-spss-sav",
                 write=lambda survey, filters, lang, path, progress=None:
                 write_sav(survey, filters, path, lang, progress=progress)),
    ExportFormat("dta", "responses.dta", "application/x-stata-dta",
                 write=lambda survey, filters, lang, path, progress=None:
                 write_dta(survey, filters, path, lang, progress=progress)),
    ExportFormat("codebook-csv", "codebook.csv", "text/csv",
                 chunks=lambda survey, filters, lang, progress=None:
                 _then_finished(codebook_csv_chunks(survey), progress)),
    ExportFormat("codebook-xlsx", "codebook.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path, progress=None:
                 (write_codebook_xlsx(survey, path), _finished(progress))),
    ExportFormat("stats-xlsx", "statistics.xlsx", XLSX_MIMETYPE,
                 write=lambda survey, filters, lang, path, progress=None:
                 (write_stats_xlsx(survey, filters, path), _finished(progress))),
)}


def _then_finished(chunks: Iterator[bytes], progress: Progress | None) -> Iterator[bytes]:
    yield from chunks
    _finished(progress)


def export_format(key: str) -> ExportFormat:
    if key not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {key!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[key]


def export_to_file(survey: Survey, key: str, filters: ResponseFilter, path: str | Path,
                   lang: str = "zh", progress: Progress | None = None) -> None:
    """Write the export ``key`` of ``survey`` to ``path`` (the CLI's and the job queue's path).

    ``progress`` (optional) is called with the fraction done, 0..1, as chunks
    are written, and with 1.0 at the end.
    """
    fmt = export_format(key)
    if fmt.chunks is not None:
        with open(path, "wb") as out:
            for chunk in fmt.chunks(survey, filters, lang, progress=progress):
                out.write(chunk)
    else:
        fmt.write(survey, filters, lang, Path(path), progress=progress)
