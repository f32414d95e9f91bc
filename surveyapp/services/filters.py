"""Which responses a view, an export, the API or a CLI command reads: one vocabulary, one parser.

Query parameters (also the names of the dashboard's and the export panel's
form fields, and what ``flask export --segment/--from/--to/--version`` turn
into): ``from`` / ``to`` (days, UTC, inclusive), ``version`` (repeatable),
``segment.VARIABLE`` (codes, comma-separated or repeated), ``partial=1``.
"""
from __future__ import annotations

import math
from datetime import date, datetime

from ..models import Survey
from .codebooks import survey_codebook
from .responses import ResponseFilter

#: Prefix of the segment parameters: ``segment.PR_BRANCH=1,2``.
SEGMENT_PREFIX = "segment."


def describe_filter(filters: ResponseFilter) -> str:
    parts = ["complete responses" if filters.complete_only else "complete and partial responses"]
    if filters.start is not None:
        parts.append(f"from {filters.start:%Y-%m-%d}")
    if filters.end is not None:
        parts.append(f"to {filters.end:%Y-%m-%d}")
    if filters.versions:
        parts.append("version " + ",".join(str(v) for v in filters.versions))
    for column, values in filters.segments.items():
        parts.append(f"{column} in " + ",".join(f"{v:g}" for v in values))
    return "; ".join(parts)


class FilterError(ValueError):
    """A filter parameter (``from``, ``to``, ``version``, ``segment.*``) that cannot be read."""


class UnknownVersionError(FilterError):
    """A well-formed version number the survey does not have."""


def parse_filters(survey: Survey, args, *, complete_only: bool = True) -> ResponseFilter:
    """The :class:`ResponseFilter` of query parameters, as the API and the export links write them.

    ``from`` / ``to``: days ``YYYY-MM-DD`` (UTC, both inclusive); ``version``:
    a version number (repeatable); ``segment.VARIABLE``: codes, comma-separated
    or repeated; ``partial=1`` also takes unfinished responses. ``args`` is a
    werkzeug ``MultiDict`` (``request.args``). Raises :class:`FilterError`.
    """
    def day(name: str):
        text = (args.get(name) or "").strip()
        if not text:
            return None
        try:
            return datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise FilterError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None

    # A start after the end is an empty range, not an error.
    start, end = day("from"), day("to")
    if end == date.max:
        end = None  # "up to the next midnight" would not exist; nothing is later anyway
    numbers = {version.number for version in survey.versions}
    versions = []
    for text in args.getlist("version"):
        if not text.strip():
            continue
        if not text.strip().isdigit():
            raise FilterError(f"version: {text!r} is not a version number")
        if int(text) not in numbers:
            raise UnknownVersionError(f"version: {text!r} is not a version of this survey "
                              f"(versions: {', '.join(map(str, sorted(numbers))) or 'none'})")
        versions.append(int(text))
    names = set(survey_codebook(survey).names)
    segments: dict[str, list[float]] = {}
    for key in args:
        if not key.startswith("segment."):
            continue
        column = key[len("segment."):]
        if column not in names:
            raise FilterError(f"{key}: {column!r} is not a variable of this survey")
        codes = [part.strip() for value in args.getlist(key) for part in value.split(",")
                 if part.strip()]
        try:
            parsed = [float(code) for code in codes]
        except ValueError:
            raise FilterError(f"{key}: codes must be numbers, got {', '.join(codes)!r}") from None
        if not parsed or not all(math.isfinite(code) for code in parsed):
            raise FilterError(f"{key}: give one or more numeric codes")
        segments[column] = parsed
    partial = (args.get("partial") or "").strip().lower()
    if partial not in ("", "0", "1", "true", "false"):
        raise FilterError(f"partial: {partial!r} is not 1 or 0")
    return ResponseFilter(complete_only=complete_only and partial not in ("1", "true"),
                          start=start, end=end, versions=versions, segments=segments)
