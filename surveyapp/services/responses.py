"""Storing responses and loading them back as the analysis frame.

A response's answers are one float64 vector in its survey version's codebook
order (NaN = missing). Writing a response is one transaction; reading a
survey is one query plus ``numpy.frombuffer`` (docs/data-model.md §4).
"""
from __future__ import annotations

import math
from itertools import groupby
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, Optional

import numpy as np
import pandas as pd
from sqlalchemy import exists, select

from analysis.instruments import Codebook

from ..extensions import db
from ..models import Contact, Response, ResponseStatus, Survey, SurveyVersion, utcnow

ANSWER_DTYPE = np.dtype("<f8")
META_COLUMNS = ("response_id", "version", "status", "started_at", "submitted_at",
                "duration_seconds", "contact_ok")


class AnswerError(ValueError):
    """An answer outside its variable's scale, or for a variable the version does not have.

    ``errors`` maps variable name to a message, so a form can show each next to its item.
    """

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def codebook_of(version: SurveyVersion) -> Codebook:
    return Codebook.from_json(version.codebook)


def check_answer(variable, value: float) -> Optional[str]:
    """Why ``value`` is not a valid answer to ``variable`` (None if it is)."""
    scale = variable.scale
    kind = scale["type"]
    if kind == "rating":
        if not float(value).is_integer() or not scale["min"] <= value <= scale["max"]:
            return f"must be a whole number from {scale['min']} to {scale['max']}"
    elif kind == "choice":
        allowed = {option["value"] for option in scale["options"]}
        if value not in allowed:
            return f"must be one of {sorted(allowed)}"
    elif kind == "constant_sum":
        if value < 0 or value > scale["total"]:
            return f"must be between 0 and {scale['total']}"
    else:
        return f"{kind} answers are not stored as numbers"
    return None


def encode_answers(codebook: Codebook, values: Mapping[str, Any],
                   previous: bytes | None = None) -> bytes:
    """Pack ``{variable name: value}`` into the version's vector, validating every value.

    ``previous`` (an earlier vector of the same response) is kept for
    variables not in ``values``, so saving one page never loses another's
    answers. ``None`` or NaN stores "missing".
    """
    names = codebook.names
    index = {name: position for position, name in enumerate(names)}
    vector = (np.frombuffer(previous, dtype=ANSWER_DTYPE).copy() if previous
              else np.full(len(names), np.nan, dtype=ANSWER_DTYPE))
    if vector.shape[0] != len(names):
        raise ValueError(f"stored answer vector has {vector.shape[0]} values, "
                         f"the survey version has {len(names)} variables")
    errors: dict[str, str] = {}
    for name, raw in values.items():
        if name not in index:
            errors[name] = "not a question of this survey"
            continue
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            vector[index[name]] = np.nan
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors[name] = f"{raw!r} is not a number"
            continue
        problem = check_answer(codebook[name], value)
        if problem:
            errors[name] = problem
        else:
            vector[index[name]] = value
    if errors:
        raise AnswerError(errors)
    return vector.tobytes()


def decode_answers(codebook: Codebook, blob: bytes) -> dict[str, float | None]:
    vector = np.frombuffer(blob, dtype=ANSWER_DTYPE)
    return {name: (None if np.isnan(value) else float(value))
            for name, value in zip(codebook.names, vector)}


@dataclass
class ContactDetails:
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


def submit_response(version: SurveyVersion, values: Mapping[str, Any], *,
                    response: Response | None = None, complete: bool = True,
                    invitation_id: int | None = None, client_key: str | None = None,
                    language: str = "zh", comment: str | None = None,
                    contact: ContactDetails | None = None, page: int = 0,
                    source: str = "web", submitted_at: datetime | None = None,
                    started_at: datetime | None = None) -> Response:
    """Write a response and its answers (and contact details) in one transaction.

    Either everything is stored or, on any error, nothing: the session is
    rolled back and the error re-raised. A completed response is then sent
    to the job queue to be checked for a recovery case (services/cases.py). Passing an existing ``response``
    (a partial one being resumed) updates it; its earlier answers are kept
    for variables not in ``values``.
    """
    codebook = codebook_of(version)
    try:
        blob = encode_answers(codebook, values, previous=response.answers if response else None)
        now = utcnow()
        if response is None:
            response = Response(survey_id=version.survey_id, version_id=version.id,
                                invitation_id=invitation_id, client_key=client_key,
                                started_at=started_at or now, source=source)
            db.session.add(response)
        response.answers = blob
        response.language = language
        response.page = page
        response.updated_at = now
        if comment is not None:
            response.comment = comment.strip() or None
        if complete:
            response.status = ResponseStatus.COMPLETE.value
            response.submitted_at = submitted_at or now
            started = _aware(response.started_at)
            response.duration_seconds = (_aware(response.submitted_at) - started).total_seconds()
        if contact is not None and not contact.is_empty():
            response.contact = Contact(name=contact.name, email=contact.email, phone=contact.phone)
        db.session.flush()
        response_id = response.id  # read before the commit expires it (no extra SELECT)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if complete:
        # After the commit, so the queue worker sees the response (services/cases.py).
        from .cases import response_completed
        response_completed(response_id)
    return response


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class ResponseFilter:
    """Which responses an analysis, export or chart uses."""

    complete_only: bool = True
    start: date | datetime | None = None
    end: date | datetime | None = None
    versions: list[int] = field(default_factory=list)
    segments: dict[str, list[float]] = field(default_factory=dict)

    def apply_segments(self, frame: pd.DataFrame) -> pd.DataFrame:
        for column, wanted in self.segments.items():
            if column not in frame.columns:
                raise ValueError(f"unknown segment variable {column!r}")
            frame = frame[frame[column].isin(wanted)]
        return frame


def responses_frame(survey: Survey, filters: ResponseFilter | None = None) -> pd.DataFrame:
    """The wide analysis frame of ``survey``: one row a response, one float column a variable.

    One query reads the vectors of every matching response; each version's
    block becomes a float64 matrix via ``numpy.frombuffer``. Columns are the
    union of the versions' variables in codebook order (latest version's
    order first), metadata columns first (docs/data-model.md §3).
    """
    filters = filters or ResponseFilter()
    query = _response_query(survey, filters).order_by(Response.version_id, Response.id)
    return _frame_from_rows(survey, db.session.execute(query).all(), filters)


def iter_response_frames(survey: Survey, filters: ResponseFilter | None = None,
                         chunk_size: int = 50_000) -> Iterator[pd.DataFrame]:
    """The rows of :func:`responses_frame`, as frames of at most ``chunk_size`` responses.

    Pages through the responses by id (keyset pagination: ``id > last id``,
    never OFFSET, so every page costs the same), so an export of a million
    responses holds one chunk in memory at a time. Every frame has the
    columns of :func:`response_columns`; rows come in id order. Segment
    filters apply per chunk, so a chunk may be shorter than ``chunk_size``;
    empty chunks are skipped.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    filters = filters or ResponseFilter()
    # Reject an unknown segment variable before the first query, even on a survey with no rows.
    filters.apply_segments(_empty_frame(_column_order(survey.versions)))
    query = _response_query(survey, filters).order_by(Response.id).limit(chunk_size)
    last_id = 0
    while True:
        rows = db.session.execute(query.where(Response.id > last_id)).all()
        if not rows:
            return
        last_id = rows[-1].id
        frame = _frame_from_rows(survey, rows, filters)
        if len(frame):
            yield frame
        if len(rows) < chunk_size:
            return


def response_columns(survey: Survey) -> list[str]:
    """The columns of the response frame of ``survey``: metadata, then every version's variables."""
    return [*META_COLUMNS, *_column_order(survey.versions)]


def _response_query(survey: Survey, filters: ResponseFilter):
    """The rows the loader reads, filtered by status, submission date and version (not ordered)."""
    query = (select(Response.id, Response.version_id, Response.status, Response.started_at,
                    Response.submitted_at, Response.duration_seconds, Response.answers,
                    exists().where(Contact.response_id == Response.id).label("contact_ok"))
             .where(Response.survey_id == survey.id))
    if filters.complete_only:
        query = query.where(Response.status == ResponseStatus.COMPLETE.value)
    if filters.start is not None:
        query = query.where(Response.submitted_at >= _as_datetime(filters.start))
    if filters.end is not None:
        query = query.where(Response.submitted_at < _as_datetime(filters.end, end=True))
    if filters.versions:
        wanted = [v.id for v in survey.versions if v.number in set(filters.versions)]
        query = query.where(Response.version_id.in_(wanted))
    return query


def _frame_from_rows(survey: Survey, rows, filters: ResponseFilter) -> pd.DataFrame:
    """The response frame of ``rows`` (from :func:`_response_query`), segments filtered."""
    versions = {v.id: v for v in survey.versions}
    column_order = _column_order(versions.values())
    blocks = []
    for version_id, grouped in groupby(rows, key=lambda row: row.version_id):
        block_rows = list(grouped)
        version = versions[version_id]
        names = codebook_of(version).names
        matrix = np.frombuffer(b"".join(row.answers for row in block_rows),
                               dtype=ANSWER_DTYPE).reshape(len(block_rows), len(names))
        block = pd.DataFrame(matrix, columns=names)
        block.insert(0, "response_id", np.array([row.id for row in block_rows], dtype=np.int64))
        block.insert(1, "version", version.number)
        block.insert(2, "status", [row.status for row in block_rows])
        block.insert(3, "started_at", pd.to_datetime([row.started_at for row in block_rows], utc=True))
        block.insert(4, "submitted_at", pd.to_datetime([row.submitted_at for row in block_rows], utc=True))
        block.insert(5, "duration_seconds",
                     np.array([row.duration_seconds for row in block_rows], dtype=float))
        block.insert(6, "contact_ok", np.array([bool(row.contact_ok) for row in block_rows]))
        blocks.append(block)
    if blocks:
        frame = pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]
    else:
        frame = _empty_frame(column_order)
    frame = frame.reindex(columns=[*META_COLUMNS, *column_order])
    frame = filters.apply_segments(frame)
    return frame.reset_index(drop=True)


def _empty_frame(column_order: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in column_order})
    frame = frame.assign(response_id=pd.Series(dtype="int64"), version=pd.Series(dtype="int64"),
                         status=pd.Series(dtype="object"),
                         started_at=pd.Series(dtype="datetime64[ns, UTC]"),
                         submitted_at=pd.Series(dtype="datetime64[ns, UTC]"),
                         duration_seconds=pd.Series(dtype="float64"),
                         contact_ok=pd.Series(dtype="bool"))
    return frame.reindex(columns=[*META_COLUMNS, *column_order])


def _column_order(versions: Iterable[SurveyVersion]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()
    for version in sorted(versions, key=lambda v: -v.number):
        for name in codebook_of(version).names:
            if name not in seen:
                seen.add(name)
                order.append(name)
    return order


def _as_datetime(value: date | datetime, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    # An end date is inclusive: everything before the next midnight.
    return moment + pd.Timedelta(days=1).to_pytimedelta() if end else moment
