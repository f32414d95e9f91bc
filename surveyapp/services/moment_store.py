"""The dashboard's sufficient statistics in the database, kept exact as responses change.

Each survey version has cells (``all``, ``day:YYYY-MM-DD``,
``seg:<variable>=<value>``) in :class:`~surveyapp.models.SurveyMoments`;
a cell's ``data`` is the vector of :class:`analysis.moment_cells.MomentLayout`
(counts, then sums and cross-products of each block). A dashboard whose
filter is a union of cells adds their vectors and computes its figures from
the sum (services/dashboard_moments.py).

**Updated in the completing transaction.** A ``before_flush`` listener
looks at every :class:`~surveyapp.models.Response` the flush writes and
turns its change into cell deltas: a response that *was* counted (its
committed status is complete) is subtracted with its committed answers,
version and submission day (the columns have active history, so the old
values are at hand); one that *is* complete after the flush is added. A
partial response counts only in the ``partial`` counter of ``all`` and its
segment cells (the completion rate). The deltas are applied on the same
connection, so they commit or roll back with the response itself: a retried
request that rolls back leaves no trace, a resumed response moves from the
partial to the complete counters once, an edited one is subtracted then
added, a deleted one subtracted.

**Concurrency.** Each cell row is created if missing (``INSERT ... ON
CONFLICT DO NOTHING``) and then read ``FOR UPDATE``: on PostgreSQL two app
servers completing responses at once queue on the row lock, and the second
adds to what the first committed (never a lost update). Cells are locked in
sorted order, so two transactions never wait on each other in a cycle. On
SQLite the insert takes the database write lock first, which serialises the
writers the same way.

**Bulk.** Rows inserted without the ORM (demo data, imports) are counted with
:func:`count_inserted`, and :func:`rebuild` recomputes a survey's cells from
its rows (``flask moments rebuild``); both go through :func:`cell_vectors`,
the function the listener calls on one response, chunk by chunk, adding the
chunks' vectors.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import delete, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, attributes
from threadpoolctl import threadpool_limits

from analysis.moment_cells import MomentLayout, derive

from ..extensions import db
from ..models import Response, ResponseStatus, Survey, SurveyMoments, SurveyVersion, utcnow
from .responses import ResponseFilter, codebook_of, iter_response_frames
from .version_cache import per_version

ALL = "all"
#: Response columns whose change changes a response's cells.
TRACKED = ("status", "answers", "submitted_at", "version_id", "survey_id")
Deltas = dict[tuple[int, int, str], np.ndarray]


def init_app(app) -> None:
    """Count every response change of every session (idempotent)."""
    if not event.contains(Session, "before_flush", _count_changes):
        event.listen(Session, "before_flush", _count_changes)
    for name in TRACKED:
        # Active history: the committed value is loaded before it is overwritten,
        # so the old contribution can be subtracted exactly.
        column = getattr(Response, name)
        if not event.contains(column, "set", _noop_set):
            event.listen(column, "set", _noop_set, active_history=True)


def _noop_set(target, value, oldvalue, initiator):
    return value


def layout_of(version: SurveyVersion) -> MomentLayout:
    return per_version("moment_layout", version, lambda: MomentLayout.of(codebook_of(version)))


def segment_cell(variable: str, value: float) -> str:
    return f"seg:{variable}={float(value):g}"


# --------------------------------------------------------------------------
# Rows -> cell vectors (one code path for one response and a million)
# --------------------------------------------------------------------------

def cell_vectors(version: SurveyVersion, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The cell vectors of the responses in ``frame`` (one version's rows, any status).

    ``frame`` has the response frame's ``status`` and ``submitted_at`` columns
    and the version's variables.
    """
    layout, codebook = layout_of(version), codebook_of(version)
    complete = frame[frame["status"].to_numpy() == ResponseStatus.COMPLETE.value].reset_index(drop=True)
    partial = frame[frame["status"].to_numpy() != ResponseStatus.COMPLETE.value].reset_index(drop=True)
    derived = derive(complete, codebook, layout)  # indexed by row of ``complete``
    kept = derived.index.to_numpy()
    values = derived.loc[:, list(layout.columns)].to_numpy(dtype=float)
    out: dict[str, np.ndarray] = {}

    def add(cell: str, rows: np.ndarray | None, partial_n: int) -> None:
        # rows: positions in ``complete`` (None = all of them)
        if rows is None:
            part, n_complete = values, len(complete)
        else:
            part, n_complete = values[np.isin(kept, rows)], len(rows)
        if n_complete == 0 and partial_n == 0:
            return
        out[cell] = layout.vector(part, n_complete, partial_n)

    add(ALL, None, len(partial))
    if len(complete):
        days = pd.to_datetime(complete["submitted_at"], utc=True).dt.strftime("%Y-%m-%d").to_numpy()
        for day in np.unique(days):
            add(f"day:{day}", np.flatnonzero(days == day), 0)
    for variable in layout.segments:
        values_c = complete[variable].to_numpy(dtype=float) if variable in complete else np.zeros(0)
        values_p = partial[variable].to_numpy(dtype=float) if variable in partial else np.zeros(0)
        for value in np.unique(np.concatenate([values_c, values_p])):
            if np.isnan(value):
                continue
            add(segment_cell(variable, value), np.flatnonzero(values_c == value),
                int((values_p == value).sum()))
    return out


def _frame_of(version: SurveyVersion, states: list[dict]) -> pd.DataFrame:
    """A response frame of ``states`` (``status, answers, submitted_at, response_id``) of one version."""
    names = codebook_of(version).names
    matrix = np.frombuffer(b"".join(s["answers"] for s in states), dtype="<f8").reshape(len(states), len(names))
    frame = pd.DataFrame(matrix.copy(), columns=names)
    frame.insert(0, "response_id", [s["response_id"] or 0 for s in states])
    frame.insert(1, "status", [s["status"] for s in states])
    frame.insert(2, "submitted_at", pd.to_datetime([s["submitted_at"] for s in states], utc=True))
    return frame


# --------------------------------------------------------------------------
# The flush listener
# --------------------------------------------------------------------------

def _state(response: Response, old: bool) -> dict | None:
    """The response as committed (``old``) or as about to be written; None if it counts nowhere."""
    values = {}
    for name in TRACKED:
        if old:
            history = attributes.get_history(response, name)
            if history.deleted:
                value = history.deleted[0]
            elif history.unchanged:
                value = history.unchanged[0]
            else:
                value = getattr(response, name)
        else:
            value = getattr(response, name)
        values[name] = value
    if values["answers"] is None or values["version_id"] is None:
        return None
    values["response_id"] = response.id
    return values


def _changed(response: Response) -> bool:
    state = inspect(response)
    return any(state.attrs[name].history.has_changes() for name in TRACKED)


def _count_changes(session: Session, flush_context, instances) -> None:
    deltas: Deltas = {}
    plus: list[dict] = []
    minus: list[dict] = []
    for obj in session.new:
        if isinstance(obj, Response):
            new = _state(obj, old=False)
            if new is not None:
                plus.append(new)
    for obj in session.dirty:
        if isinstance(obj, Response) and _changed(obj):
            old, new = _state(obj, old=True), _state(obj, old=False)
            if old is not None:
                minus.append(old)
            if new is not None:
                plus.append(new)
    for obj in session.deleted:
        if isinstance(obj, Response):
            old = _state(obj, old=True)
            if old is not None:
                minus.append(old)
    if not plus and not minus:
        return
    _accumulate(session, deltas, plus, +1)
    _accumulate(session, deltas, minus, -1)
    apply_deltas(session.connection(), deltas)


def _accumulate(session: Session, deltas: Deltas, states: list[dict], sign: int) -> None:
    by_version: dict[int, list[dict]] = defaultdict(list)
    for state in states:
        by_version[state["version_id"]].append(state)
    for version_id, group in by_version.items():
        with session.no_autoflush:
            version = session.get(SurveyVersion, version_id)
        # One BLAS thread: the products are many and small, and threaded BLAS on a busy
        # machine spends most of its time spinning (18x the CPU time measured on 2 cores).
        with threadpool_limits(limits=1, user_api="blas"):
            vectors = cell_vectors(version, _frame_of(version, group))
        for cell, vector in vectors.items():
            key = (version.survey_id, version_id, cell)
            deltas[key] = deltas[key] + sign * vector if key in deltas else sign * vector


# --------------------------------------------------------------------------
# Writing cells
# --------------------------------------------------------------------------

def _insert_missing(connection, rows: list[dict]):
    dialect = connection.dialect.name
    table = SurveyMoments.__table__
    if dialect == "postgresql":
        return postgresql.insert(table).values(rows).on_conflict_do_nothing(
            index_elements=["survey_id", "version_id", "cell"])
    if dialect == "sqlite":
        return sqlite.insert(table).values(rows).on_conflict_do_nothing(
            index_elements=["survey_id", "version_id", "cell"])
    raise NotImplementedError(f"moment cells on {dialect}: add its INSERT ... ON CONFLICT form")


def apply_deltas(connection, deltas: Mapping[tuple[int, int, str], np.ndarray]) -> None:
    """Add each delta to its cell row, creating the row if needed, under a row lock (see module doc)."""
    table = SurveyMoments.__table__
    now = utcnow()
    for (survey_id, version_id, cell) in sorted(deltas):
        delta = deltas[(survey_id, version_id, cell)]
        if not np.any(delta):
            continue
        connection.execute(_insert_missing(connection, [{
            "survey_id": survey_id, "version_id": version_id, "cell": cell,
            "data": np.zeros(len(delta)).tobytes(), "revision": 0, "updated_at": now}]))
        row = connection.execute(
            select(table.c.id, table.c.data).where(table.c.survey_id == survey_id,
                                                   table.c.version_id == version_id,
                                                   table.c.cell == cell).with_for_update()).one()
        current = np.frombuffer(row.data, dtype="<f8")
        if len(current) != len(delta):
            raise ValueError(f"moment cell {cell} of version {version_id} has another layout; "
                             "run `flask moments rebuild`")
        connection.execute(update(table).where(table.c.id == row.id).values(
            data=(current + delta).astype("<f8").tobytes(), revision=table.c.revision + 1, updated_at=now))


# --------------------------------------------------------------------------
# Bulk: rebuild, rows inserted without the ORM
# --------------------------------------------------------------------------

def _chunk_deltas(survey: Survey, frames: Iterable[pd.DataFrame]) -> Deltas:
    versions = {v.number: v for v in survey.versions}
    totals: Deltas = {}
    for frame in frames:
        for number in np.unique(frame["version"].to_numpy()):
            version = versions[int(number)]
            part = frame[frame["version"].to_numpy() == number]
            with threadpool_limits(limits=1, user_api="blas"):  # see _accumulate
                vectors = cell_vectors(version, part)
            for cell, vector in vectors.items():
                key = (survey.id, version.id, cell)
                totals[key] = totals[key] + vector if key in totals else vector
    return totals


def rebuild(survey: Survey, chunk_size: int = 50_000) -> int:
    """Recompute every cell of ``survey`` from its rows (one transaction); returns the cells written."""
    db.session.execute(delete(SurveyMoments).where(SurveyMoments.survey_id == survey.id))
    totals = _chunk_deltas(survey, iter_response_frames(
        survey, ResponseFilter(complete_only=False), chunk_size=chunk_size))
    apply_deltas(db.session.connection(), totals)
    db.session.commit()
    return len(totals)


class RowCounter:
    """Counts responses written without the ORM (``insert(Response)`` rows with ``version_id,
    status, answers, submitted_at``): :meth:`add` each batch as it is inserted, then
    :meth:`apply` in the same transaction, before its commit. Rows are turned into cell
    vectors ``chunk_size`` at a time (the vectors are added; the rows are not kept)."""

    def __init__(self, chunk_size: int = 50_000):
        self.chunk_size = chunk_size
        self.totals: Deltas = {}
        self.pending: list[dict] = []

    def add(self, rows: Iterable[Mapping]) -> None:
        for row in rows:
            self.pending.append({"version_id": row["version_id"], "status": row["status"],
                                 "answers": row["answers"], "submitted_at": row.get("submitted_at"),
                                 "response_id": None})
            if len(self.pending) >= self.chunk_size:
                self._vectors()

    def _vectors(self) -> None:
        _accumulate(db.session, self.totals, self.pending, +1)
        self.pending = []

    def apply(self) -> None:
        if self.pending:
            self._vectors()
        apply_deltas(db.session.connection(), self.totals)
        self.totals = {}


# --------------------------------------------------------------------------
# Reading cells
# --------------------------------------------------------------------------

def read_cells(survey_id: int, version_ids: Iterable[int], cells: Iterable[str] | None = None,
               prefix: str | None = None) -> dict[tuple[int, str], tuple[np.ndarray, int]]:
    """``(version_id, cell) -> (vector, revision)`` of the named cells (or every cell starting ``prefix``)."""
    table = SurveyMoments.__table__
    query = select(table.c.version_id, table.c.cell, table.c.data, table.c.revision).where(
        table.c.survey_id == survey_id, table.c.version_id.in_(list(version_ids)))
    if cells is not None:
        query = query.where(table.c.cell.in_(list(cells)))
    if prefix is not None:
        query = query.where(table.c.cell.startswith(prefix))
    return {(row.version_id, row.cell): (np.frombuffer(row.data, dtype="<f8"), row.revision)
            for row in db.session.execute(query)}
