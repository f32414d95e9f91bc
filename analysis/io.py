"""Reading responses collected outside surveyapp into the response frame.

The response frame (docs/data-model.md, section 3) has one row per response,
a unique integer ``response_id``, optional metadata columns and one
``float64`` column per codebook variable (``SQ01_E``, ``K03_D`` ...). This
module turns CSV exports of other tools (LimeSurvey, Qualtrics, a
spreadsheet) into that frame and rejects malformed files with the line and
column of the first problem, so a researcher can fix the file rather than
guess.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .instruments import NOT_ASKED_CODE

__all__ = [
    "ResponseFileError",
    "read_responses_csv",
    "csv_records",
    "parse_number",
    "check_columns",
    "write_tables_xlsx",
    "compact_answer_frame",
    "METADATA_COLUMNS",
    "TEXT_COLUMNS",
    "MISSING_TOKENS",
    "TOOL_FORMATS",
]

#: Metadata columns of the response frame (docs/data-model.md, section 3). The
#: one definition: surveyapp's response loader and exports use this tuple.
METADATA_COLUMNS = ("response_id", "version", "status", "started_at",
                    "submitted_at", "duration_seconds", "contact_ok")
#: Text columns of surveyapp's raw-data export (after the metadata); read as text.
TEXT_COLUMNS = ("language", "comment")

# Codebook variable names: item code ^[A-Z][A-Z0-9_]{1,19}$ plus an optional
# facet suffix; kept loose on length so ITEM_FACET names also pass.
_VARIABLE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
#: Cell texts read as a missing answer (compared lower-case, stripped).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "."})
_TRUE_TOKENS = frozenset({"1", "true", "yes", "y", "t"})
_FALSE_TOKENS = frozenset({"0", "false", "no", "n", "f"})


@dataclass(frozen=True)
class ToolFormat:
    """How another survey tool writes its CSV export.

    ``metadata`` maps the tool's own columns to response-frame columns;
    ``ignored`` are its columns with nothing to analyse (IP address, panel
    fields); ``extra_header_rows`` are rows between the header and the
    first response; ``rename`` turns an answer column's header into a
    variable name where the tool's convention allows (LimeSurvey's
    ``SQ01[E]`` is ``SQ01_E``); ``finished`` is the column whose 1/0 or
    true/false says complete/partial, and ``submitted`` the column whose
    emptiness says partial.
    """

    name: str
    signature: frozenset[str]
    metadata: Mapping[str, str]
    ignored: frozenset[str] = frozenset()
    extra_header_rows: int = 0
    rename: Callable[[str], str] | None = None
    finished: str | None = None
    submitted: str | None = None


def _limesurvey_code(header: str) -> str:
    """``SQ01[E]`` (question code, subquestion code) -> ``SQ01_E``."""
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)\[([A-Za-z0-9]+)\]", header)
    return f"{match[1]}_{match[2]}" if match else header


#: Qualtrics "Data & Analysis" CSV export (numeric values): three header rows
#: (field name, question text, ``{"ImportId": ...}``) and these respondent
#: columns (Qualtrics support, "Understanding Your Dataset").
QUALTRICS = ToolFormat(
    name="qualtrics",
    signature=frozenset({"ResponseId", "StartDate", "EndDate", "Finished"}),
    metadata={"StartDate": "started_at", "EndDate": "submitted_at",
              "Duration (in seconds)": "duration_seconds", "UserLanguage": "language"},
    ignored=frozenset({"Status", "IPAddress", "Progress", "RecordedDate", "ResponseId",
                       "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                       "ExternalReference", "ExternalDataReference", "LocationLatitude",
                       "LocationLongitude", "DistributionChannel", "Q_RecaptchaScore",
                       "Q_RelevantIDDuplicate", "Q_RelevantIDDuplicateScore",
                       "Q_RelevantIDFraudScore", "Q_RelevantIDLastStartDate"}),
    extra_header_rows=2, finished="Finished")

#: LimeSurvey "Export responses" CSV with "Question code" headings and answer
#: codes: response metadata columns, then ``QUESTION[SUBQUESTION]`` columns.
LIMESURVEY = ToolFormat(
    name="limesurvey",
    signature=frozenset({"id", "submitdate", "lastpage", "startlanguage"}),
    metadata={"id": "response_id", "submitdate": "submitted_at", "startdate": "started_at",
              "startlanguage": "language", "interviewtime": "duration_seconds"},
    ignored=frozenset({"lastpage", "seed", "datestamp", "ipaddr", "refurl", "token"}),
    rename=_limesurvey_code, submitted="submitdate")

TOOL_FORMATS = (QUALTRICS, LIMESURVEY)


class ResponseFileError(ValueError):
    """A response file that cannot be read, with where the problem is.

    Attributes
    ----------
    line : int or None
        1-based physical line of the file (the header is line 1).
    column : str or None
        Name of the offending column as written in the file.
    reason : str
        What is wrong.
    """

    def __init__(self, reason: str, line: int | None = None, column: str | None = None):
        self.reason, self.line, self.column = reason, line, column
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


def check_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` missing from ``frame``.

    Used by every analysis function before touching the data, so a wrong
    mapping fails with the names involved rather than a bare ``KeyError``.

    Examples
    --------
    >>> check_columns(pd.DataFrame(columns=["SQ01_E"]), ["SQ01_E", "SQ01_P"], "SERVQUAL")
    Traceback (most recent call last):
    ...
    ValueError: SERVQUAL: column(s) not in the data: SQ01_P
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: column(s) not in the data: {', '.join(map(str, missing))}")


def _read_text(path_or_buffer, encoding: str) -> str:
    try:
        if isinstance(path_or_buffer, (str, os.PathLike)):
            with open(path_or_buffer, "rb") as fh:
                content = fh.read()
        elif isinstance(path_or_buffer, (bytes, bytearray)):
            content = bytes(path_or_buffer)
        elif hasattr(path_or_buffer, "read"):
            content = path_or_buffer.read()
        else:
            raise ResponseFileError(f"cannot read responses from a {type(path_or_buffer).__name__}")
        if isinstance(content, (bytes, bytearray)):
            content = bytes(content).decode(encoding)
    except UnicodeDecodeError as exc:
        raise ResponseFileError(f"the file is not {encoding} text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ResponseFileError(f"cannot open the file: {exc}") from None
    return content


def parse_number(token: str, line: int | None = None, column: str | None = None) -> float:
    """A cell's number: NaN for a missing token, a decimal comma accepted.

    Raises :class:`ResponseFileError` (with ``line`` and ``column``) for text
    that is not a finite number.

    Examples
    --------
    >>> parse_number("4,5"), parse_number(" 7 "), parse_number("N/A")
    (4.5, 7.0, nan)
    """
    text = token.strip()
    if text.lower() in MISSING_TOKENS:
        return math.nan
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        raise ResponseFileError(f"{token!r} is not a number", line, column) from None
    if not math.isfinite(value):
        raise ResponseFileError(f"{token!r} is not a finite number", line, column)
    return value


def csv_records(text: str, *, delimiter: str = ",",
                line: str = "end") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    r"""The header (cells stripped) and an iterator of ``(line, cells)`` records.

    ``line`` says which physical line numbers a record (a quoted cell can
    span lines): ``"end"`` its last line (what Python's csv module counts),
    ``"start"`` its first (what a spreadsheet user looks for). Malformed
    quoting raises :class:`ResponseFileError` with the line.

    Examples
    --------
    >>> header, records = csv_records('a,b\n1,"x\ny"\n2,z\n', line="start")
    >>> header, list(records)
    (['a', 'b'], [(2, ['1', 'x\ny']), (4, ['2', 'z'])])
    """
    if line not in ("start", "end"):
        raise ValueError(f"line must be 'start' or 'end', got {line!r}")
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as exc:
        raise ResponseFileError(f"malformed header: {exc}", 1) from None
    except StopIteration:
        raise ResponseFileError("the file is empty", 1) from None

    def records() -> Iterator[tuple[int, list[str]]]:
        previous_end = reader.line_num
        try:
            for cells in reader:
                yield (previous_end + 1 if line == "start" else reader.line_num), cells
                previous_end = reader.line_num
        except csv.Error as exc:
            raise ResponseFileError(f"malformed CSV: {exc}", reader.line_num) from None

    return header, records()


def read_responses_csv(path_or_buffer, mapping: Mapping[str, str] | None = None, *,
                       encoding: str = "utf-8-sig", delimiter: str | None = None,
                       strict: bool = False, source: str = "auto") -> pd.DataFrame:
    r"""Read a CSV of responses collected elsewhere into the response frame.

    Parameters
    ----------
    path_or_buffer : path, bytes or file-like
        A CSV file whose first line is the header: surveyapp's own raw-data
        export as it is, a Qualtrics export (three header rows), a
        LimeSurvey export with question-code headings (``SQ01[E]`` reads as
        ``SQ01_E``), or any file with columns named by variable.
    mapping : dict, optional
        ``{header in the file: column in the frame}``. When given, only the
        mapped columns (and a recognised tool's metadata) are read, and
        every mapped header must exist.
    encoding : str
        Text encoding; the default accepts a UTF-8 byte-order mark.
    delimiter : str, optional
        Field separator; sniffed from the header among ``, ; tab`` if omitted.
    strict : bool, default False
        The importer's rules: commas only (a header separated by ``;`` or
        tabs is an error), and errors name the line a record starts on.
    source : {"auto", "surveyapp", "qualtrics", "limesurvey", "plain"}
        The exporting tool; "auto" recognises Qualtrics and LimeSurvey by
        their metadata columns (:data:`TOOL_FORMATS`).

    Returns
    -------
    pandas.DataFrame
        ``response_id`` (int64; numbered 1..n in file order when the file has
        none), the metadata columns present (timestamps as UTC,
        ``duration_seconds`` float, ``contact_ok`` bool, ``version`` int,
        ``status`` "complete"/"partial"), ``language`` and ``comment`` as text
        when present, and one ``float64`` column per variable. Empty cells and
        ``NA``/``N/A``/``.`` are missing (``NaN``); a decimal comma is accepted.
        In surveyapp's own export (``source="surveyapp"``, or every metadata
        and text column present) the "not asked" code -99 is missing too,
        and "not applicable" stays its code -98 (``NOT_APPLICABLE_CODE``),
        which the analyses read as missing (docs/data-model.md §5).
        ``attrs["source"]`` names the recognised tool.

    Raises
    ------
    ResponseFileError
        With ``line`` (1-based, header = 1) and ``column`` of the first
        problem: empty file, duplicate or invalid column names, a row with
        the wrong number of fields, a value that is not a number, a bad
        timestamp, or a duplicate / non-integer ``response_id``.

    Examples
    --------
    >>> import io
    >>> from analysis.io import read_responses_csv
    >>> text = "id,Q1 [E],Q1 [P]\n7,5,6\n8,4,\n"
    >>> frame = read_responses_csv(io.StringIO(text),
    ...     mapping={"id": "response_id", "Q1 [E]": "SQ01_E", "Q1 [P]": "SQ01_P"})
    >>> frame.to_dict("list")
    {'response_id': [7, 8], 'SQ01_E': [5.0, 4.0], 'SQ01_P': [6.0, nan]}
    """
    text = _read_text(path_or_buffer, encoding)
    delimiter = _choose_delimiter(text, delimiter, strict)
    header, records = csv_records(text, delimiter=delimiter, line="start" if strict else "end")
    _check_header(header)
    tool = _recognise_tool(header, source)
    if tool is not None:
        records = _skip_extra_header_rows(records, tool)
    selected = _select_columns(header, mapping, tool)
    cells, lines = _collect_cells(records, selected, len(header))
    source_of = {target: src for _, src, target in selected}
    columns = {target: _convert_column(target, values, lines, source_of[target])
               for target, values in cells.items()}
    frame = _response_frame(columns, lines, source_of, tool)
    if source == "surveyapp" or (tool is None and source == "auto"
                                 and set(METADATA_COLUMNS + TEXT_COLUMNS) <= set(header)):
        _not_asked_as_missing(frame)
        source = "surveyapp"
    frame.attrs["source"] = tool.name if tool is not None else source if source != "auto" else "plain"
    return frame


def _not_asked_as_missing(frame: pd.DataFrame) -> None:
    """surveyapp's "not asked" code (display logic, or another survey version) -> NaN, in place."""
    meta = set(METADATA_COLUMNS + TEXT_COLUMNS)
    answers = [name for name in frame.columns if name not in meta]
    if answers:
        frame[answers] = frame[answers].mask(frame[answers] == NOT_ASKED_CODE)


def _choose_delimiter(text: str, delimiter: str | None, strict: bool) -> str:
    if not text.strip():
        raise ResponseFileError("the file is empty", 1)
    first_line = text.splitlines()[0]
    if strict:
        if delimiter not in (None, ","):
            raise ValueError("strict reading uses commas only")
        if "," not in first_line and any(sep in first_line for sep in (";", "\t")):
            raise ResponseFileError("the columns must be separated by commas (this header uses "
                                    "';' or tabs)", 1)
        return ","
    if delimiter is None:
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=counts.get)
    return delimiter


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name == "":
            raise ResponseFileError("empty column name in the header", 1)
        if name in seen:
            raise ResponseFileError("duplicate column name", 1, name)
        seen.add(name)


def _recognise_tool(header: list[str], source: str) -> ToolFormat | None:
    known = {tool.name: tool for tool in TOOL_FORMATS}
    if source in known:
        return known[source]
    if source in ("surveyapp", "plain"):
        return None
    if source != "auto":
        raise ValueError(f"source must be auto, surveyapp, plain or one of {', '.join(known)}; "
                         f"got {source!r}")
    return next((tool for tool in TOOL_FORMATS if tool.signature <= set(header)), None)


def _skip_extra_header_rows(records, tool: ToolFormat):
    """Drop Qualtrics' question-text and ImportId rows (checked, not assumed)."""
    for _ in range(tool.extra_header_rows):
        line, cells = next(records, (2, None))
        if cells is None:
            raise ResponseFileError(f"a {tool.name} export has {tool.extra_header_rows + 1} "
                                    "header rows; the file ends before them", line)
    return records


def _is_variable(name: str) -> bool:
    return name in METADATA_COLUMNS or name in TEXT_COLUMNS or bool(_VARIABLE_NAME.match(name))


def _select_columns(header: list[str], mapping: Mapping[str, str] | None,
                    tool: ToolFormat | None) -> list[tuple[int, str, str]]:
    """``(position, header, frame column)`` of the columns to read."""
    names = set(header)
    if mapping is not None:
        absent = [src for src in mapping if src not in names]
        if absent:
            raise ResponseFileError(f"mapped column(s) not in the header: {', '.join(absent)}",
                                    1, absent[0])
    chosen: dict[str, str] = {}
    if tool is not None:
        chosen.update({src: target for src, target in tool.metadata.items() if src in names})
        for extra in (tool.finished, tool.submitted):
            if extra in names:
                chosen.setdefault(extra, tool.metadata.get(extra, "_" + extra))
    if mapping is not None:
        chosen = {src: target for src, target in chosen.items()
                  if target not in mapping.values()}
        chosen.update(mapping)
    else:
        for name in header:
            if name in chosen or (tool is not None and name in tool.ignored):
                continue
            chosen[name] = tool.rename(name) if tool is not None and tool.rename else name
    targets = list(chosen.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise ResponseFileError(f"mapping sends several columns to {dup}", 1)
    selected = [(i, h, chosen[h]) for i, h in enumerate(header) if h in chosen]
    for _, src, target in selected:
        if not target.startswith("_") and not _is_variable(target):
            raise ResponseFileError(
                f"{target!r} is neither a metadata column nor a variable name (A-Z, 0-9, _; "
                "starting with a letter): rename it to a variable name with --map FILE.json "
                "({\"header\": \"SQ01_E\", ...})", 1, src)
    return selected


def _collect_cells(records, selected, width: int) -> tuple[dict[str, list[str]], list[int]]:
    """The selected cells of every non-empty record, column by column, and their lines."""
    cells: dict[str, list[str]] = {target: [] for _, _, target in selected}
    lines: list[int] = []
    for line, row in records:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise ResponseFileError(f"{len(row)} fields, the header has {width}", line)
        lines.append(line)
        for position, _, target in selected:
            cells[target].append(row[position])
    if not lines:
        raise ResponseFileError("the file has a header but no responses", 2)
    return cells, lines


def _convert_column(target: str, values: list[str], lines: list[int], column: str):
    """One column's cells as the frame's type for ``target``."""
    if target in ("started_at", "submitted_at"):
        return _timestamps(values, lines, column)
    if target in ("status",) + TEXT_COLUMNS:
        return pd.Series([v.strip() or None for v in values], dtype="object")
    if target.startswith("_"):  # a tool's completion marker, read as text
        return pd.Series([v.strip() for v in values], dtype="object")
    if target == "contact_ok":
        return _flags(values, lines, column)
    numbers = np.array([parse_number(t, line, column) for t, line in zip(values, lines)],
                       dtype="float64")
    if target in ("response_id", "version"):
        for value, line in zip(numbers, lines):
            if not np.isfinite(value) or value != np.floor(value) or value < 0:
                raise ResponseFileError(f"{target} must be a non-negative integer", line, column)
        numbers = numbers.astype("int64")
    return numbers


def _timestamps(values: list[str], lines: list[int], column: str) -> pd.Series:
    parsed = []
    for token, line in zip(values, lines):
        if token.strip().lower() in MISSING_TOKENS:
            parsed.append(pd.NaT)
            continue
        try:
            parsed.append(pd.Timestamp(token.strip()))
        except (ValueError, TypeError):
            raise ResponseFileError(f"{token!r} is not a date/time", line, column) from None
    return pd.to_datetime(pd.Series(parsed, dtype="object"), utc=True)


def _flags(values: list[str], lines: list[int], column: str) -> pd.Series:
    flags = []
    for token, line in zip(values, lines):
        t = token.strip().lower()
        if t in _TRUE_TOKENS:
            flags.append(True)
        elif t in _FALSE_TOKENS or t in MISSING_TOKENS:
            flags.append(False)  # no recorded consent is treated as no consent
        else:
            raise ResponseFileError(f"{token!r} is not yes/no", line, column)
    return pd.Series(flags, dtype=bool)


def _response_frame(columns: dict[str, object], lines: list[int], source_of: dict[str, str],
                    tool: ToolFormat | None) -> pd.DataFrame:
    """Ids checked or numbered, a tool's completion marker as ``status``, columns ordered."""
    frame = pd.DataFrame(columns)
    if tool is not None:
        _tool_status(frame, tool)
    if "response_id" in frame:
        dup = frame["response_id"].duplicated()
        if dup.any():
            pos = int(np.flatnonzero(dup.to_numpy())[0])
            raise ResponseFileError(f"response_id {frame['response_id'].iloc[pos]} occurs twice",
                                    lines[pos], source_of["response_id"])
    else:
        frame.insert(0, "response_id", np.arange(1, len(frame) + 1, dtype="int64"))
    meta = [*METADATA_COLUMNS, *TEXT_COLUMNS]
    ordered = [c for c in meta if c in frame] + [c for c in frame.columns if c not in meta]
    return frame[ordered]


def _tool_status(frame: pd.DataFrame, tool: ToolFormat) -> None:
    """``status`` from Qualtrics' Finished (1/0, True/False) or LimeSurvey's submitdate."""
    marker = f"_{tool.finished}" if tool.finished else None
    if marker and marker in frame:
        finished = frame.pop(marker).str.lower().isin(_TRUE_TOKENS)
        frame["status"] = np.where(finished, "complete", "partial")
    elif tool.submitted and "submitted_at" in frame:
        frame["status"] = np.where(frame["submitted_at"].notna(), "complete", "partial")


# --- writing tables ----------------------------------------------------------

_SHEET_FORBIDDEN = "[]:*?/\\"


def sheet_name(name: str, used: set[str]) -> str:
    """A valid Excel sheet name, unique (case-insensitively) among ``used``, which it joins.

    Excel allows 31 characters and none of ``[]:*?/\\``; names cut to the
    same 31 characters get ``_2``, ``_3`` ... instead of colliding.

    Examples
    --------
    >>> used = set()
    >>> sheet_name("segment_posthoc_PR_BRANCH_ratio_a", used), sheet_name("segment_posthoc_PR_BRANCH_ratio_b", used)
    ('segment_posthoc_PR_BRANCH_ratio', 'segment_posthoc_PR_BRANCH_rat_2')
    """
    cleaned = "".join("_" if ch in _SHEET_FORBIDDEN else ch for ch in name)[:31] or "sheet"
    candidate, number = cleaned, 2
    while candidate.lower() in used:
        suffix = f"_{number}"
        candidate, number = cleaned[:31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


def xlsx_cell(value, text: Callable[[str], str] | None = None):
    """A workbook cell: numbers stay numbers, missing is empty, times lose their zone (UTC;
    Excel has none), lists and dicts become JSON text, text goes through ``text``.

    Examples
    --------
    >>> xlsx_cell(float("nan")), xlsx_cell(3), xlsx_cell({"a": 1}), xlsx_cell("=1+1", str.upper)
    (None, 3, '{"a": 1}', '=1+1')
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return (value.tz_convert("UTC").tz_localize(None) if value.tzinfo else value).to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    value = str(value)
    return text(value) if text is not None else value


def write_tables_xlsx(tables: Mapping[str, pd.DataFrame], path, *,
                      about: Iterable[tuple[str, object]] = (),
                      text: Callable[[str], str] | None = None) -> None:
    """Every table a sheet of one workbook, numbers stored as numbers.

    Parameters
    ----------
    tables : dict
        ``{name: DataFrame}`` (e.g. :meth:`analysis.report.SurveyAnalysis.tables`);
        sheet names are made valid and unique by :func:`sheet_name`.
    path : path or file-like
    about : (key, value) pairs
        Written first to a sheet ``about`` (survey, filter, counts, sections
        not computed), when given.
    text : callable, optional
        Applied to every text cell, e.g. a guard against formula injection.

    Examples
    --------
    >>> import io
    >>> from openpyxl import load_workbook
    >>> buffer = io.BytesIO()
    >>> write_tables_xlsx({"a" * 40: pd.DataFrame({"x": [1.5]}), "a" * 35: pd.DataFrame({"y": [2]})}, buffer)
    >>> load_workbook(buffer).sheetnames
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa_2']
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    about = list(about)
    if about:
        sheet = workbook.create_sheet(sheet_name("about", used))
        for key, value in about:
            sheet.append([xlsx_cell(key, text), xlsx_cell(value, text)])
    for name, table in tables.items():
        sheet = workbook.create_sheet(sheet_name(name, used))
        sheet.append([xlsx_cell(str(column), text) for column in table.columns])
        for row in table.itertuples(index=False, name=None):
            sheet.append([xlsx_cell(value, text) for value in row])
    workbook.save(path)


def compact_answer_frame(chunks: Iterable[pd.DataFrame], answers: Sequence[str],
                         capacity: int = 0) -> pd.DataFrame:
    """One response frame from frames of consecutive rows, the answers held as ``float32``.

    The analysis of a large survey holds every answer of every respondent
    while it runs: 142 answer columns of a million responses are 1.1 GB as
    ``float64``. Answers are small integer codes (a rating, a KANO answer,
    importance points), which ``float32`` holds exactly (every integer up to
    2**24), so this frame stores each answer column as ``float32`` — half the
    memory — and keeps ``float64`` for a column holding any value that
    ``float32`` would round (a free number, a fraction). The values are the
    same numbers: the statistics read the columns through
    :class:`analysis.report.AnalysedRows` (or ``to_numpy(dtype="float64")``),
    which gives them ``float64`` again, so every sum and cross-product is
    computed in ``float64`` as before.

    Each answer column is one contiguous run of memory (pandas' column-major
    block), filled chunk by chunk: the peak is the frame plus one chunk.

    Parameters
    ----------
    chunks : iterable of DataFrame
        Consecutive rows; each has the ``answers`` columns and the same other
        (metadata) columns, which are put in front of the answers.
    answers : sequence of str
        The answer columns, in frame order.
    capacity : int, optional
        Expected row count (the block grows when more rows come).

    Examples
    --------
    >>> first = pd.DataFrame({"response_id": [1, 2], "A": [1.0, np.nan], "B": [7.0, 2.5]})
    >>> frame = compact_answer_frame([first, first.assign(response_id=[3, 4], B=0.1)], ["A", "B"])
    >>> frame.dtypes.astype(str).to_dict()
    {'response_id': 'int64', 'A': 'float32', 'B': 'float64'}
    >>> frame["B"].tolist()
    [7.0, 2.5, 0.1, 0.1]
    """
    answers = list(answers)
    block = np.empty((len(answers), max(int(capacity), 0)), dtype=np.float32)
    wide: dict[int, np.ndarray] = {}  # column position -> float64 values (not exact as float32)
    meta: list[pd.DataFrame] = []
    filled = 0
    for chunk in chunks:
        values = chunk[answers].to_numpy(dtype="float64")
        end = filled + len(values)
        if end > block.shape[1]:
            grown = np.empty((len(answers), max(end, 2 * block.shape[1])), dtype=np.float32)
            grown[:, :filled] = block[:, :filled]
            block = grown
            wide = {j: np.concatenate([w[:filled], np.empty(grown.shape[1] - filled)]) for j, w in wide.items()}
        narrow = values.astype(np.float32)
        with np.errstate(invalid="ignore"):
            inexact = ((narrow != values) & ~np.isnan(values)).any(axis=0)
        for j in np.flatnonzero(inexact):
            if j not in wide:
                wide[j] = np.empty(block.shape[1])
                wide[j][:filled] = block[j, :filled]
        for j, column in wide.items():
            column[filled:end] = values[:, j]
        block[:, filled:end] = narrow.T
        meta.append(chunk[[c for c in chunk.columns if c not in set(answers)]])
        filled = end
    # Fewer rows than expected (a filter the count did not know): a copy when it
    # frees more than it costs, else a view of the filled part.
    block = block[:, :filled].copy() if filled < block.shape[1] // 2 else block[:, :filled]
    # block.T is (rows x columns), the F-ordered 2-D array pandas keeps as one block: no copy.
    frame = pd.DataFrame(block.T, columns=answers, copy=False)
    for j, column in wide.items():
        frame[answers[j]] = column[:filled]
    meta_frame = pd.concat(meta, ignore_index=True) if meta else pd.DataFrame()
    for position, name in enumerate(meta_frame.columns):
        frame.insert(position, name, meta_frame[name].to_numpy())
    return frame
