"""Importing responses collected elsewhere (CSV or XLSX), all or nothing.

The file's header names the columns: codebook variable names (``SQ01_E``,
``K03_D`` ...) and optionally

* ``response_id`` or ``external_id`` - the respondent's id in the other
  system; unique within the file and across earlier imports into the survey.
  It is kept as the response's ``client_key`` with the prefix ``import:``,
  whose (survey, client_key) uniqueness the database already enforces;
* ``version`` - the survey version number answered (default: the current one);
* ``status`` (``complete``/``partial``, default complete), ``started_at``,
  ``submitted_at`` (ISO 8601; no time zone means UTC), ``duration_seconds``,
  ``language`` and ``comment``;
* ``contact_ok`` - accepted so an export can be imported again, and ignored:
  contact details never travel in data files.

So a file exported by surveyapp imports as it is. Every cell is checked
before anything is stored, and every problem is reported as ``line N,
column X: reason`` (line 1 is the header; in a workbook, the sheet row).
Answers are validated by :func:`~surveyapp.services.responses.encode_answers`,
the same check the survey form uses, and constant-sum allocations by
:func:`~surveyapp.services.responses.allocation_problems`, the form's own rule
(reported at the allocation's first column). The export's missing-value codes
are accepted (docs/data-model.md §5): ``-98`` "not applicable" where the scale
offers it, ``-99`` "not asked" as no answer (display logic marks it again). Any problem rejects the whole file; a
good file is stored in one transaction with ``source="import"``.

CSV files must be UTF-8 (a byte-order mark is fine) and comma-separated.
Files larger than ``MAX_IMPORT_BYTES`` (default: ``MAX_CONTENT_LENGTH``) are
refused, and so is a workbook that would unpack to more than
``XLSX_MAX_EXPANSION`` times that.
"""
from __future__ import annotations

import difflib
import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

import pandas as pd
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import insert, select

from analysis.instruments import NOT_ASKED_CODE, Codebook
# The number reader and the missing-value tokens of the analysis package's CSV
# reader, so a file reads the same in the app and in analysis.io.
from analysis.io import MISSING_TOKENS as _MISSING_TOKENS
from analysis.io import ResponseFileError, csv_records
from analysis.io import parse_number as _parse_number

from ..extensions import db
from ..models import Response, ResponseStatus, Survey, SurveyVersion, utcnow
from . import moment_store
from .responses import AnswerError, allocation_problems, codebook_of, encode_answers
from .text_safety import clean_text

IMPORT_SOURCE = "import"
CLIENT_KEY_PREFIX = "import:"
ID_COLUMNS = ("response_id", "external_id")
# client_key is String(64); the prefix takes the rest.
MAX_ID_LENGTH = 64 - len(CLIENT_KEY_PREFIX)
OPTIONAL_COLUMNS = ("version", "status", "started_at", "submitted_at", "duration_seconds",
                    "contact_ok", "language", "comment")
# A zipped workbook's XML is typically 5-10 times its file size; far more means a zip bomb.
XLSX_MAX_EXPANSION = 20
MAX_LISTED_PROBLEMS = 200
INSERT_BATCH = 5_000


@dataclass(frozen=True)
class ImportProblem:
    """One reason a file was rejected, where it is."""

    reason: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ImportRejected(ValueError):
    """The file was not imported; ``problems`` lists why (at most ``MAX_LISTED_PROBLEMS``)."""

    def __init__(self, problems: list[ImportProblem], total: int | None = None):
        self.problems = problems[:MAX_LISTED_PROBLEMS]
        self.total = total if total is not None else len(problems)
        more = f" (first {len(self.problems)} listed)" if self.total > len(self.problems) else ""
        super().__init__(f"{self.total} problem(s){more}; nothing was imported:\n"
                         + "\n".join(str(p) for p in self.problems))


@dataclass
class ImportResult:
    imported: int
    by_version: dict[int, int] = field(default_factory=dict)


@dataclass
class _Table:
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (line, cells)


def max_import_bytes() -> int:
    return int(current_app.config.get("MAX_IMPORT_BYTES") or current_app.config["MAX_CONTENT_LENGTH"])


def import_responses(survey: Survey, filename: str, data: bytes) -> ImportResult:
    """Check every row of the file ``data`` (named ``filename``) and store them all, or none.

    Raises :class:`ImportRejected` listing the problems; the database is then unchanged.
    """
    limit = max_import_bytes()
    if len(data) > limit:
        raise ImportRejected([ImportProblem(
            f"the file has {len(data):,} bytes; the limit is {limit:,} bytes - split it into "
            "several files")])
    if not data.strip():
        raise ImportRejected([ImportProblem("the file is empty", 1)])
    table = _read_table(filename, data, limit)
    rows = _Rows(survey, table.header).parse(table.rows)
    return _store(survey, rows)


# --------------------------------------------------------------------------
# Reading CSV and XLSX into (line, cells)
# --------------------------------------------------------------------------

def _read_table(filename: str, data: bytes, limit: int) -> _Table:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data, limit)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise ImportRejected([ImportProblem("upload a .csv (UTF-8) or .xlsx file")])


def _read_csv(data: bytes) -> _Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportRejected([ImportProblem(
            f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset "
            f"{error.start} cannot be read; save it as 'CSV UTF-8' (GBK and other encodings "
            "are not accepted)", line)]) from None
    if not text.strip():
        raise ImportRejected([ImportProblem("the file is empty", 1)])
    try:
        header, records = csv_records(text, delimiter=",", line="start")
    except ResponseFileError as error:
        raise ImportRejected([ImportProblem(error.reason, error.line, error.column)]) from None
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t")):
        raise ImportRejected([ImportProblem(
            "the columns must be separated by commas (this header uses ';' or tabs)", 1)])

    def rows() -> Iterator[tuple[int, list[Any]]]:
        # A quoted cell can span lines: the line given is where the record starts.
        try:
            yield from records
        except ResponseFileError as error:
            raise ImportRejected([ImportProblem(error.reason, error.line, error.column)]) from None

    return _Table(header, rows())


def _read_xlsx(data: bytes, limit: int) -> _Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportRejected([ImportProblem("the file is not an .xlsx workbook")]) from None
    if unpacked > XLSX_MAX_EXPANSION * limit:
        raise ImportRejected([ImportProblem(
            f"the workbook unpacks to {unpacked:,} bytes, more than {XLSX_MAX_EXPANSION} times "
            "the upload limit")])
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types (KeyError, InvalidFileException ...)
        raise ImportRejected([ImportProblem(f"the workbook cannot be read: {error}")]) from None
    sheet = workbook["data"] if "data" in workbook.sheetnames else workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header_cells = next(values, None)
    if header_cells is None:
        raise ImportRejected([ImportProblem("the first sheet is empty", 1)])
    header = ["" if cell is None else str(cell).strip() for cell in header_cells]
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for line, cells in enumerate(values, start=2):
            cells = list(cells)
            # A sheet row simply ends at its last filled cell, and empty cells
            # beyond the header are formatting, not data.
            if len(cells) < len(header):
                cells += [None] * (len(header) - len(cells))
            elif len(cells) > len(header) and all(c is None or str(c).strip() == ""
                                                  for c in cells[len(header):]):
                cells = cells[:len(header)]
            yield line, cells
        workbook.close()

    return _Table(header, rows())


# --------------------------------------------------------------------------
# Checking rows
# --------------------------------------------------------------------------

@dataclass
class _Row:
    line: int
    version: SurveyVersion
    answers: bytes
    external_id: str | None
    status: str
    started_at: datetime | None
    submitted_at: datetime | None
    duration_seconds: float | None
    language: str
    comment: str | None


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip().lower() in _MISSING_TOKENS)


class _Rows:
    """Checks the header once, then each row, collecting every problem."""

    def __init__(self, survey: Survey, header: list[str]):
        self.survey = survey
        self.header = header
        self.problems: list[ImportProblem] = []
        self.versions = {version.number: version for version in survey.versions}
        self.codebooks: dict[int, Codebook] = {n: codebook_of(v) for n, v in self.versions.items()}
        self.languages = tuple(current_app.config["LANGUAGES"])
        self.default_language = current_app.config["BABEL_DEFAULT_LOCALE"]
        self._check_header()

    def _check_header(self) -> None:
        if self.survey.current_version is None:
            raise ImportRejected([ImportProblem(
                "the survey has never been opened, so it has no questions to import into; "
                "open it first")])
        variables = {name for codebook in self.codebooks.values() for name in codebook.names}
        known = variables | set(ID_COLUMNS) | set(OPTIONAL_COLUMNS)
        problems, seen = [], set()
        for name in self.header:
            if name == "":
                problems.append(ImportProblem("a column has no name", 1))
            elif name in seen:
                problems.append(ImportProblem("this column occurs twice", 1, name))
            elif name not in known:
                by_case = {candidate.lower(): candidate for candidate in known}
                close = ([by_case[name.lower()]] if name.lower() in by_case
                         else difflib.get_close_matches(name, sorted(known), n=1))
                hint = f" - did you mean {close[0]}?" if close else ""
                problems.append(ImportProblem(
                    f"unknown column: not a question of this survey nor one of "
                    f"{', '.join(ID_COLUMNS + OPTIONAL_COLUMNS)}{hint}", 1, name))
            seen.add(name)
        if all(id_column in seen for id_column in ID_COLUMNS):
            problems.append(ImportProblem("give the respondent id in response_id or in "
                                          "external_id, not both", 1))
        if not seen & variables:
            problems.append(ImportProblem("no column is a question of this survey; name the "
                                          "columns by variable name (e.g. SQ01_E)", 1))
        if problems:
            raise ImportRejected(problems)
        self.variable_columns = [(i, name) for i, name in enumerate(self.header) if name in variables]
        self.position = {name: i for i, name in enumerate(self.header)}
        self.id_column = next((c for c in ID_COLUMNS if c in self.position), None)

    def problem(self, line: int, column: str | None, reason: str) -> None:
        self.problems.append(ImportProblem(reason, line, column))

    def parse(self, rows: Iterator[tuple[int, list[Any]]]) -> list[_Row]:
        parsed: list[_Row] = []
        first_line_of: dict[str, int] = {}
        for line, cells in rows:
            if all(_blank(cell) or (isinstance(cell, str) and not cell.strip()) for cell in cells):
                continue
            if len(cells) != len(self.header):
                self.problem(line, None, f"{len(cells)} cells, the header has {len(self.header)}")
                continue
            row = self._row(line, cells)
            if row is None:
                continue
            if row.external_id is not None:
                if row.external_id in first_line_of:
                    self.problem(line, self.id_column, f"id {row.external_id!r} occurs twice "
                                 f"(also on line {first_line_of[row.external_id]})")
                    continue
                first_line_of[row.external_id] = line
            parsed.append(row)
        if not parsed and not self.problems:
            self.problems.append(ImportProblem("the file has a header but no responses", 2))
        self._check_earlier_imports(first_line_of)
        if self.problems:
            raise ImportRejected(sorted(self.problems, key=lambda p: p.line or 0))
        return parsed

    def _cell(self, cells: list[Any], column: str) -> Any:
        position = self.position.get(column)
        return None if position is None else cells[position]

    def _row(self, line: int, cells: list[Any]) -> _Row | None:
        count = len(self.problems)
        version = self._version(line, self._cell(cells, "version"))
        external_id = self._external_id(line, cells)
        status = self._status(line, self._cell(cells, "status"))
        started_at = self._moment(line, "started_at", self._cell(cells, "started_at"))
        submitted_at = self._moment(line, "submitted_at", self._cell(cells, "submitted_at"))
        duration = self._duration(line, self._cell(cells, "duration_seconds"))
        language = self._language(line, self._cell(cells, "language"))
        comment_cell = self._cell(cells, "comment")
        comment = None if comment_cell is None else (clean_text(str(comment_cell)).strip() or None)
        answers = self._answers(line, cells, version) if version is not None else None
        if len(self.problems) > count or version is None or answers is None:
            return None
        return _Row(line, version, answers, external_id, status, started_at, submitted_at,
                    duration, language, comment)

    def _version(self, line: int, cell: Any) -> SurveyVersion | None:
        if _blank(cell):
            return self.survey.current_version
        number = self._number(line, "version", cell)
        if number is None:
            return None
        if not float(number).is_integer() or int(number) not in self.versions:
            self.problem(line, "version", f"{cell!r} is not a version of this survey "
                         f"(versions: {', '.join(map(str, sorted(self.versions)))})")
            return None
        return self.versions[int(number)]

    def _external_id(self, line: int, cells: list[Any]) -> str | None:
        if self.id_column is None:
            return None
        cell = self._cell(cells, self.id_column)
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)  # a workbook stores the id 17 as 17.0
        text = "" if cell is None else str(cell).strip()
        if not text:
            self.problem(line, self.id_column, "the respondent id is empty")
            return None
        if len(text) > MAX_ID_LENGTH:
            self.problem(line, self.id_column, f"ids may have at most {MAX_ID_LENGTH} characters")
            return None
        return text

    def _status(self, line: int, cell: Any) -> str:
        text = "" if cell is None else str(cell).strip().lower()
        if text in ("", ResponseStatus.COMPLETE.value):
            return ResponseStatus.COMPLETE.value
        if text == ResponseStatus.PARTIAL.value:
            return text
        self.problem(line, "status", f"{cell!r} is not complete or partial")
        return ResponseStatus.COMPLETE.value

    def _moment(self, line: int, column: str, cell: Any) -> datetime | None:
        if _blank(cell):
            return None
        try:
            stamp = pd.Timestamp(cell.strip() if isinstance(cell, str) else cell)
        except (ValueError, TypeError):
            self.problem(line, column, f"{cell!r} is not a date and time (use ISO 8601, e.g. "
                         "2026-03-01T09:30:00Z)")
            return None
        if stamp is pd.NaT:
            return None
        stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
        return stamp.to_pydatetime()

    def _duration(self, line: int, cell: Any) -> float | None:
        seconds = self._number(line, "duration_seconds", cell)
        if seconds is not None and seconds < 0:
            self.problem(line, "duration_seconds", "must not be negative")
            return None
        return seconds

    def _language(self, line: int, cell: Any) -> str:
        text = "" if cell is None else str(cell).strip()
        if not text:
            return self.default_language
        if text not in self.languages:
            self.problem(line, "language", f"{text!r} is not one of {', '.join(self.languages)}")
        return text

    def _number(self, line: int, column: str, cell: Any) -> float | None:
        """A numeric cell (None when empty); a problem is recorded when it is not a number."""
        if _blank(cell):
            return None
        if isinstance(cell, bool):
            self.problem(line, column, f"{cell!r} is not a number")
            return None
        if isinstance(cell, (int, float)):
            if not math.isfinite(cell):
                self.problem(line, column, f"{cell!r} is not a finite number")
                return None
            return float(cell)
        try:
            value = _parse_number(str(cell), line, column)
        except ResponseFileError as error:
            self.problem(line, column, error.reason)
            return None
        return None if math.isnan(value) else value

    def _answers(self, line: int, cells: list[Any], version: SurveyVersion) -> bytes | None:
        codebook = self.codebooks[version.number]
        values: dict[str, float | None] = {}
        ok = True
        for position, name in self.variable_columns:
            before = len(self.problems)
            value = self._number(line, name, cells[position])
            if len(self.problems) > before:
                ok = False
            elif name not in codebook:
                if value is not None and value != NOT_ASKED_CODE:
                    self.problem(line, name, f"not a question of survey version {version.number}; "
                                 f"leave it empty (or {NOT_ASKED_CODE:g}, not asked)")
                    ok = False
            else:
                values[name] = None if value == NOT_ASKED_CODE else value
        if not ok:
            return None
        for problem in allocation_problems(codebook, values):
            first = next(name for name in problem.names if name in self.position)
            self.problem(line, first, f"the allocation {', '.join(problem.names)} must add up to "
                         f"{problem.total:g} (now {problem.given:g}), as on the survey page")
            ok = False
        if not ok:
            return None
        try:
            return encode_answers(codebook, values)
        except AnswerError as error:
            for name, message in error.errors.items():
                self.problem(line, name, f"{cells[self.position[name]]!r}: {message}")
            return None

    def _check_earlier_imports(self, first_line_of: dict[str, int]) -> None:
        ids = list(first_line_of)
        for start in range(0, len(ids), 500):
            keys = [CLIENT_KEY_PREFIX + i for i in ids[start:start + 500]]
            taken = db.session.execute(select(Response.client_key).where(
                Response.survey_id == self.survey.id, Response.client_key.in_(keys))).scalars()
            for key in taken:
                external_id = key[len(CLIENT_KEY_PREFIX):]
                self.problem(first_line_of[external_id], self.id_column,
                             f"id {external_id!r} was imported into this survey before")


# --------------------------------------------------------------------------
# Storing
# --------------------------------------------------------------------------

def _store(survey: Survey, rows: list[_Row]) -> ImportResult:
    now = utcnow()
    result = ImportResult(imported=len(rows))
    records = []
    for row in rows:
        complete = row.status == ResponseStatus.COMPLETE.value
        submitted = row.submitted_at or (now if complete else None)
        started = row.started_at or submitted or now
        duration = row.duration_seconds
        if duration is None and row.started_at and row.submitted_at:
            duration = (row.submitted_at - row.started_at).total_seconds()
        records.append({
            "survey_id": survey.id, "version_id": row.version.id, "source": IMPORT_SOURCE,
            "status": row.status, "language": row.language, "answers": row.answers,
            "comment": row.comment, "started_at": started, "updated_at": now,
            "submitted_at": submitted, "duration_seconds": duration, "page": 0,
            "client_key": CLIENT_KEY_PREFIX + row.external_id if row.external_id else None,
        })
        result.by_version[row.version.number] = result.by_version.get(row.version.number, 0) + 1
    try:
        for start in range(0, len(records), INSERT_BATCH):
            db.session.execute(insert(Response), records[start:start + INSERT_BATCH])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    # Rows inserted without the ORM: the moment cells take them in one sweep of the survey.
    moment_store.schedule(survey.id, full=True)
    return result
