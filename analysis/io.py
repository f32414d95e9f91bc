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
import io as _io
import math
import os
import re
from collections.abc import Iterable, Mapping
import numpy as np
import pandas as pd

__all__ = [
    "ResponseFileError",
    "read_responses_csv",
    "check_columns",
    "METADATA_COLUMNS",
]

#: Metadata columns of the response frame (docs/data-model.md, section 3).
METADATA_COLUMNS = ("response_id", "version", "status", "started_at",
                    "submitted_at", "duration_seconds", "contact_ok")

# Codebook variable names: item code ^[A-Z][A-Z0-9_]{1,19}$ plus an optional
# facet suffix; kept loose on length so ITEM_FACET names also pass.
_VARIABLE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
_MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "."})
_TRUE_TOKENS = frozenset({"1", "true", "yes", "y", "t"})
_FALSE_TOKENS = frozenset({"0", "false", "no", "n", "f"})


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


def _parse_number(token: str, line: int, column: str) -> float:
    text = token.strip()
    if text.lower() in _MISSING_TOKENS:
        return math.nan
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        raise ResponseFileError(f"{token!r} is not a number", line, column) from None
    if not math.isfinite(value):
        raise ResponseFileError(f"{token!r} is not a finite number", line, column)
    return value


def read_responses_csv(path_or_buffer, mapping: Mapping[str, str] | None = None, *,
                       encoding: str = "utf-8-sig", delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV of responses collected elsewhere into the response frame.

    Parameters
    ----------
    path_or_buffer : path, bytes or file-like
        A CSV file whose first line is the header. Exports of LimeSurvey or
        Qualtrics work when their columns are named by item code
        (``SQ01_E``) or when ``mapping`` renames them.
    mapping : dict, optional
        ``{header in the file: column in the frame}``. When given, only the
        mapped columns are read (an export's extra columns such as IP
        address are ignored), and every mapped header must exist. Metadata
        columns (``response_id``, ``submitted_at`` ...) can be mapped too.
    encoding : str
        Text encoding; the default accepts a UTF-8 byte-order mark, which
        spreadsheet programs add.
    delimiter : str, optional
        Field separator; sniffed from the header among ``, ; tab`` if omitted.

    Returns
    -------
    pandas.DataFrame
        ``response_id`` (int64; numbered 1..n in file order when the file has
        none), the metadata columns present (timestamps as UTC, ``duration_seconds``
        float, ``contact_ok`` bool, ``version`` int), and one ``float64``
        column per variable. Empty cells and ``NA``/``N/A``/``.`` are missing
        (``NaN``); a decimal comma (``4,5``) is accepted.

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
    >>> text = "id,Q1 [E],Q1 [P]\\n7,5,6\\n8,4,\\n"
    >>> frame = read_responses_csv(io.StringIO(text),
    ...     mapping={"id": "response_id", "Q1 [E]": "SQ01_E", "Q1 [P]": "SQ01_P"})
    >>> frame.to_dict("list")
    {'response_id': [7, 8], 'SQ01_E': [5.0, 4.0], 'SQ01_P': [6.0, nan]}
    """
    text = _read_text(path_or_buffer, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ResponseFileError("the file is empty", 1)
    first_line = text.splitlines()[0]
    if delimiter is None:
        counts = {d: first_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=counts.get)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ResponseFileError(f"malformed header: {exc}", 1) from None
    header = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for h in header:
        if h == "":
            raise ResponseFileError("empty column name in the header", 1)
        if h in seen:
            raise ResponseFileError("duplicate column name", 1, h)
        seen[h] = 1

    if mapping is not None:
        absent = [src for src in mapping if src not in seen]
        if absent:
            raise ResponseFileError(f"mapped column(s) not in the header: {', '.join(absent)}", 1, absent[0])
        targets = list(mapping.values())
        dup = {t for t in targets if targets.count(t) > 1}
        if dup:
            raise ResponseFileError(f"mapping sends several columns to {sorted(dup)}", 1)
        selected = [(i, h, mapping[h]) for i, h in enumerate(header) if h in mapping]
    else:
        selected = [(i, h, h) for i, h in enumerate(header)]
    for _, source, target in selected:
        if target not in METADATA_COLUMNS and not _VARIABLE_NAME.match(target):
            raise ResponseFileError(
                f"{target!r} is neither a metadata column nor a variable name (A-Z, 0-9, _; "
                "starting with a letter); pass mapping= to rename export columns", 1, source)

    raw: dict[str, list] = {target: [] for _, _, target in selected}
    lines: list[int] = []
    width = len(header)
    line_no = 1
    try:
        for row in reader:
            line_no = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise ResponseFileError(f"{len(row)} fields, the header has {width}", line_no)
            lines.append(line_no)
            for i, source, target in selected:
                raw[target].append(row[i])
    except csv.Error as exc:
        raise ResponseFileError(f"malformed CSV: {exc}", reader.line_num) from None
    if not lines:
        raise ResponseFileError("the file has a header but no responses", 2)

    source_of = {target: source for _, source, target in selected}
    out: dict[str, object] = {}
    for target, values in raw.items():
        column = source_of[target]
        if target in ("started_at", "submitted_at"):
            parsed = []
            for token, line in zip(values, lines):
                if token.strip().lower() in _MISSING_TOKENS:
                    parsed.append(pd.NaT)
                    continue
                try:
                    parsed.append(pd.Timestamp(token.strip()))
                except (ValueError, TypeError):
                    raise ResponseFileError(f"{token!r} is not a date/time", line, column) from None
            stamps = pd.Series(parsed, dtype="object")
            out[target] = pd.to_datetime(stamps, utc=True)
        elif target == "status":
            out[target] = pd.Series([v.strip() or None for v in values], dtype="object")
        elif target == "contact_ok":
            flags = []
            for token, line in zip(values, lines):
                t = token.strip().lower()
                if t in _TRUE_TOKENS:
                    flags.append(True)
                elif t in _FALSE_TOKENS or t in _MISSING_TOKENS:
                    # no recorded consent is treated as no consent
                    flags.append(False)
                else:
                    raise ResponseFileError(f"{token!r} is not yes/no", line, column)
            out[target] = pd.Series(flags, dtype=bool)
        else:
            numbers = np.array([_parse_number(t, line, column) for t, line in zip(values, lines)],
                               dtype="float64")
            if target in ("response_id", "version"):
                for value, line in zip(numbers, lines):
                    if not np.isfinite(value) or value != np.floor(value) or value < 0:
                        raise ResponseFileError(f"{target} must be a non-negative integer", line, column)
                numbers = numbers.astype("int64")
            out[target] = numbers

    frame = pd.DataFrame(out)
    if "response_id" in frame:
        dup = frame["response_id"].duplicated()
        if dup.any():
            pos = int(np.flatnonzero(dup.to_numpy())[0])
            raise ResponseFileError(f"response_id {frame['response_id'].iloc[pos]} occurs twice",
                                    lines[pos], source_of["response_id"])
    else:
        frame.insert(0, "response_id", np.arange(1, len(frame) + 1, dtype="int64"))
    ordered = ["response_id"] + [c for c in METADATA_COLUMNS[1:] if c in frame] + \
              [c for c in frame.columns if c not in METADATA_COLUMNS]
    return frame[ordered]
