"""Reading responses collected outside surveyapp into the response frame.

The response frame (docs/data-model.md, section 3) has one row per response,
a unique integer ``response_id``, optional metadata columns and one
``float64`` column per codebook variable (``SQ01_E``, ``K03_D`` ...). This
module turns CSV exports of other tools (LimeSurvey, Qualtrics, a
spreadsheet) into that frame and rejects malformed files with the line and
column of the first problem, so a researcher can fix the file rather than
guess.

It also adapts one real third-party study, the Korean self-service kiosk
SERVQUAL/KANO survey (hanakim120/kiosk-servqual-research, MIT), so the test
suite can run the whole SERVQUAL analysis on answers nobody here made up.
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
    "read_kiosk_servqual",
    "check_columns",
    "METADATA_COLUMNS",
    "KIOSK_PAIRS",
    "KIOSK_DIMENSIONS",
    "KIOSK_IMPORTANCE",
    "KIOSK_SATISFACTION",
    "KIOSK_OVERALL",
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


# --- the Korean kiosk study -------------------------------------------------

#: Dimension of each kiosk item, from the authors' confirmatory factor model
#: (hanakim120/kiosk-servqual-research, analysis/cfa_v1.R: F1..F8 on x1..x24).
KIOSK_DIMENSIONS: dict[str, list[str]] = {
    "usefulness": ["KS01", "KS02", "KS03"],        # 유용성
    "fun": ["KS04", "KS05", "KS06"],               # 유희성
    "control": ["KS07", "KS08", "KS09"],           # 통제성
    "economy": ["KS10", "KS11", "KS12"],           # 절약성
    "personalization": ["KS13", "KS14", "KS15"],   # 개인화
    "convenience": ["KS16", "KS17", "KS18"],       # 편리성
    "security": ["KS19", "KS20", "KS21"],          # 보안성
    "tangibles": ["KS22", "KS23", "KS24"],         # 유형성
}
#: item -> (expectation column, perception column) of :func:`read_kiosk_servqual`.
KIOSK_PAIRS: dict[str, tuple[str, str]] = {f"KS{i:02d}": (f"KS{i:02d}_E", f"KS{i:02d}_P") for i in range(1, 25)}
#: item -> stated importance column (7-point, "... 중요하다고 생각하십니까?").
KIOSK_IMPORTANCE: dict[str, str] = {f"KS{i:02d}": f"KS{i:02d}_IMP" for i in range(1, 25)}
#: item -> satisfaction-with-attribute column (7-point, "... 만족하십니까?").
KIOSK_SATISFACTION: dict[str, str] = {f"KS{i:02d}": f"KS{i:02d}_SAT" for i in range(1, 25)}
#: overall items (5-point): 1 satisfied, 2 excellent overall, 3 keep using, 4 recommend.
KIOSK_OVERALL: list[str] = ["KSOV1", "KSOV2", "KSOV3", "KSOV4"]

_KIOSK_GENDER = {"남": 1.0, "여": 2.0}
_KIOSK_AGE = {"10대": 1.0, "20대": 2.0, "30대": 3.0, "40대": 4.0, "50대  이상": 5.0}
_KIOSK_FREQUENCY = {"사용한 적 없음": 1.0, "6개월에 2~3회 이상": 2.0,
                    "한달에 2~3회 이상": 3.0, "일주일에 2~3회 이상": 4.0}
_KIOSK_ITEM = re.compile(r"^\s*(\d+)-([12])\.")


def read_kiosk_servqual(path) -> pd.DataFrame:
    """Adapt the Korean kiosk SERVQUAL study to the response frame.

    The file (211 respondents) holds 24 expectation/perception pairs on a
    7-point scale whose headers end in ``(기대 설문)`` (expectation) and
    ``(인지 설문)`` (perception), 24 importance/satisfaction pairs, four
    overall items on a 5-point scale, profile questions and KANO pairs. The
    header's own item number names the column (the file asks item 9 before
    item 8; the numbers, not the positions, pair E with P).

    Returns
    -------
    pandas.DataFrame
        ``response_id`` (1..211 in file order), ``KS01_E``, ``KS01_P`` ...
        ``KS24_P``, ``KS01_IMP`` ... ``KS24_IMP``, ``KS01_SAT`` ... ``KS24_SAT``,
        ``KSOV1`` ... ``KSOV4`` and coded profile columns ``gender``
        (1 male, 2 female), ``age_group`` (1 teens ... 5 fifty and over),
        ``use_frequency`` (1 never ... 4 weekly). Use with
        :data:`KIOSK_PAIRS` and :data:`KIOSK_DIMENSIONS`.

    Raises
    ------
    ResponseFileError
        When the file does not have the expected structure (E/P headers
        not alternating, unpaired item numbers, values off the 1-7 scale).

    References
    ----------
    GitHub hanakim120/kiosk-servqual-research, ``analysis/kiosk.csv``
    (MIT licence), converted from CP949 to UTF-8.
    """
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ResponseFileError(f"cannot read the kiosk file: {exc}") from None
    columns = list(raw.columns)
    out: dict[str, pd.Series] = {"response_id": pd.Series(np.arange(1, len(raw) + 1), dtype="int64")}

    def numeric(col: str, low: float, high: float) -> pd.Series:
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.notna() & ((values < low) | (values > high)) | (values.isna() & raw[col].notna())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ResponseFileError(f"{raw[col].iloc[row]!r} is not on the {low:g}-{high:g} scale",
                                    row + 2, col)
        return values.astype("float64")

    ep = [(i, c) for i, c in enumerate(columns) if c.rstrip().endswith(("(기대 설문)", "(인지 설문)"))]
    if len(ep) != 48:
        raise ResponseFileError(f"expected 48 expectation/perception columns, found {len(ep)}", 1)
    for k in range(0, 48, 2):
        (_, e_col), (_, p_col) = ep[k], ep[k + 1]
        me, mp = _KIOSK_ITEM.match(e_col), _KIOSK_ITEM.match(p_col)
        if not (e_col.rstrip().endswith("(기대 설문)") and p_col.rstrip().endswith("(인지 설문)")
                and me and mp and me.group(1) == mp.group(1)):
            raise ResponseFileError("expectation and perception columns do not alternate by item", 1, e_col)
        code = f"KS{int(me.group(1)):02d}"
        out[f"{code}_E"] = numeric(e_col, 1, 7)
        out[f"{code}_P"] = numeric(p_col, 1, 7)

    for col in columns:
        m = _KIOSK_ITEM.match(col)
        if not m:
            continue
        code = f"KS{int(m.group(1)):02d}"
        if col.rstrip().endswith("중요하다고 생각하십니까?"):
            out[f"{code}_IMP"] = numeric(col, 1, 7)
        elif col.rstrip().endswith("만족하십니까?"):
            out[f"{code}_SAT"] = numeric(col, 1, 7)
    overall = [c for c in columns if re.match(r"^[1-4]\. 키오스크", c)]
    if len(overall) != 4:
        raise ResponseFileError(f"expected 4 overall items, found {len(overall)}", 1)
    for n, col in enumerate(overall, start=1):
        out[f"KSOV{n}"] = numeric(col, 1, 5)

    for name, col_index, codes in (("gender", 0, _KIOSK_GENDER), ("age_group", 1, _KIOSK_AGE),
                                   ("use_frequency", 2, _KIOSK_FREQUENCY)):
        col = columns[col_index]
        coded = raw[col].map(codes)
        unknown = raw[col].notna() & coded.isna()
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ResponseFileError(f"unknown answer {raw[col].iloc[row]!r}", row + 2, col)
        out[name] = coded.astype("float64")

    expected = {f"KS{i:02d}_{s}" for i in range(1, 25) for s in ("E", "P", "IMP", "SAT")}
    absent = sorted(expected - set(out))
    if absent:
        raise ResponseFileError(f"kiosk columns not found: {', '.join(absent)}", 1)
    frame = pd.DataFrame(out)
    order = (["response_id"] + [c for i in range(1, 25) for c in (f"KS{i:02d}_E", f"KS{i:02d}_P")]
             + [f"KS{i:02d}_IMP" for i in range(1, 25)] + [f"KS{i:02d}_SAT" for i in range(1, 25)]
             + KIOSK_OVERALL + ["gender", "age_group", "use_frequency"])
    return frame[order]
