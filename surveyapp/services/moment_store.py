"""The dashboard's sufficient statistics in the database, kept exact by a queue task.

Each survey version has cells (``all``, ``day:YYYY-MM-DD``,
``seg:<variable>=<value>``) in :class:`~surveyapp.models.SurveyMoments`;
a cell's ``data`` is the vector of :class:`analysis.moment_cells.MomentLayout`
(counts, then sums and cross-products of each block). A dashboard whose
filter is a union of cells adds their vectors and computes its figures from
the sum (services/dashboard_moments.py).

**Off the respondent's path.** The transaction that saves or completes a
response writes the response and nothing else (computing a response's cell
vectors and locking the cells cost 300-550 ms per completion). After its
commit, a listener sends :func:`apply_task` for the survey to the job queue,
coalesced: a burst of completions gives one run per survey (a
``moments-pending`` marker in the shared cache says one is on its way; the
run clears it when it starts, so a response committed during a run sends
the next one).

**The applied set.** :class:`~surveyapp.models.MomentApplied` says, per
response, what the cells hold of it (``complete``, ``partial`` or nothing)
and at which response ``revision`` / ``updated_at``. A response is pending
when it has no such row or its row names another revision or update time.
:func:`apply_pending` takes the survey's pending responses in batches, each
batch in ONE transaction: it locks the responses (``SELECT ... FOR UPDATE
SKIP LOCKED`` on PostgreSQL; on SQLite a first write takes the database's
write lock), subtracts what was applied, adds what is there now, updates the
cells under their row locks (sorted, so two runs never deadlock) and
rewrites the applied rows. So:

* a duplicate or concurrent run finds the responses already applied (it
  waits on, or skips, the locked rows and re-reads the applied set): nothing
  is counted twice;
* a worker killed mid-run rolls the whole batch back: the responses stay
  pending and the next run (the next completion, or the sweep every
  :data:`SWEEP_MINUTES` minutes) takes them; nothing is missed;
* a resumed response moves from the partial to the complete counters once.

Pending responses are looked for among those updated since the latest
applied update minus :data:`WINDOW_SECONDS` (an index range on
``ix_response_survey_updated``); the periodic sweep and bulk inserts look at
the whole survey (``full=True``: an anti-join).

**Erasure and edits of complete responses** are settled in their own
transaction (a ``before_flush`` hook, rare admin actions, never the
respondent's save): a counted complete response whose answers, status,
version, day or duration change, or that is deleted, is subtracted from the
cells with its committed values, and its applied row is reset (or deleted).
That keeps the invariant that lets the applied set hold no copy of the
answers: a response counted ``complete`` has the row values it was counted
with. An erased response thus leaves nothing behind, and is out of the
dashboard's numbers when the erasure commits.

**Bulk.** Rows inserted without the ORM (demo data, imports) are taken by a
full sweep scheduled after their commit; :func:`rebuild` clears a survey's
cells and applied set and sweeps (``flask moments rebuild``). Every path
turns rows into cell vectors with :func:`cell_vectors`.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta

import numpy as np
import pandas as pd
from flask import has_app_context
from huey import crontab
from sqlalchemy import delete, event, func, insert, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, attributes
from threadpoolctl import threadpool_limits

from analysis.moment_cells import MomentLayout, derive

from ..extensions import cache, db
from ..models import MomentApplied, Response, ResponseStatus, Survey, SurveyMoments, SurveyVersion, utcnow
from ..queue import app_context, huey
from .responses import CHANGED_SURVEY_KEYS, codebook_of, note_changed_surveys
from .version_cache import per_version

logger = logging.getLogger(__name__)

ALL = "all"
#: Response columns whose change changes a response's cells.
TRACKED = ("status", "answers", "submitted_at", "version_id", "survey_id", "duration_seconds")
#: Pending responses are looked for among those updated since the latest applied update minus this
#: (a transaction committed later than this after it set ``updated_at`` waits for the sweep).
WINDOW_SECONDS = 600
#: How often the whole of every survey is swept for responses no run took.
SWEEP_MINUTES = 10
#: Responses per transaction of :func:`apply_pending`, and of a full sweep.
BATCH = 2000
SWEEP_BATCH = 50_000
#: ``session.info`` key of the surveys whose responses the transaction changed (run after commit).
NOTED = "moment_surveys"
#: Lifetime of the debounce marker if the run it announced never starts.
MARKER_SECONDS = 30
COMPLETE, PARTIAL, NONE = ResponseStatus.COMPLETE.value, ResponseStatus.PARTIAL.value, "none"
Deltas = dict[tuple[int, int, str], np.ndarray]


def init_app(app) -> None:
    """Settle erasures and edits in their transaction; schedule the task after commits (idempotent)."""
    for name, listener in (("before_flush", _settle_counted), ("after_flush", _note_changed),
                           ("after_commit", _schedule_noted), ("after_rollback", _forget_noted)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    CHANGED_SURVEY_KEYS.add(NOTED)
    for name in TRACKED:
        # Active history: the committed value is loaded before it is overwritten,
        # so a counted response's old contribution can be subtracted exactly.
        column = getattr(Response, name)
        if not event.contains(column, "set", _noop_set):
            event.listen(column, "set", _noop_set, active_history=True)


def _noop_set(target, value, oldvalue, initiator):
    return value


def layout_of(version: SurveyVersion) -> MomentLayout:
    return per_version("moment_layout", version, lambda: MomentLayout.of(codebook_of(version)))


def segment_cell(variable: str, value: float) -> str:
    return f"seg:{variable}={float(value):g}"


def segments_of(version: SurveyVersion, answers: list[bytes]) -> list[str]:
    """``|seg:...|seg:...|`` per response: the segment cells of responses with these answers."""
    names = codebook_of(version).names
    variables = [v for v in layout_of(version).segments if v in names]
    if not answers or not variables:
        return ["|"] * len(answers)
    matrix = np.frombuffer(b"".join(answers), dtype="<f8").reshape(len(answers), len(names))
    columns = []
    for variable in variables:
        values = matrix[:, names.index(variable)]
        # Each distinct value named once (a segment has a handful of values, a batch 50,000 rows).
        named = {value: f"{segment_cell(variable, value)}|" for value in np.unique(values[~np.isnan(values)])}
        columns.append([named.get(value) for value in values.tolist()])
    return ["|" + "".join(part for part in parts if part) for parts in zip(*columns)]


def days_of(submitted: list) -> list[str | None]:
    """The UTC day cells of submission times, as :func:`cell_vectors` buckets them (naive = UTC)."""
    if not submitted:
        return []
    days = pd.to_datetime(pd.Series(submitted, dtype=object), utc=True).dt.strftime("%Y-%m-%d")
    return [None if pd.isna(day) else day for day in days]


# --------------------------------------------------------------------------
# Rows -> cell vectors (one code path for one response and a million)
# --------------------------------------------------------------------------

def cell_vectors(version: SurveyVersion, frame: pd.DataFrame,
                 kept_ids: set | None = None) -> dict[str, np.ndarray]:
    """The cell vectors of the responses in ``frame`` (one version's rows, any status).

    ``frame`` has the response frame's ``status`` and ``submitted_at`` columns
    and the version's variables; ``kept_ids``, when given, receives the
    ``response_id`` of each complete row the per-respondent screening keeps.
    """
    layout, codebook = layout_of(version), codebook_of(version)
    complete = frame[frame["status"].to_numpy() == ResponseStatus.COMPLETE.value].reset_index(drop=True)
    partial = frame[frame["status"].to_numpy() != ResponseStatus.COMPLETE.value].reset_index(drop=True)
    derived = derive(complete, codebook, layout)  # indexed by row of ``complete``
    kept = derived.index.to_numpy()
    if kept_ids is not None and "response_id" in complete:
        kept_ids.update(complete["response_id"].to_numpy()[kept].tolist())
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


def vectors_of(version: SurveyVersion, states: list[dict], kept_ids: set | None = None) -> dict[str, np.ndarray]:
    """:func:`cell_vectors` of response states (``status, answers, submitted_at, response_id``)."""
    # One BLAS thread: the products are many and small, and threaded BLAS on a busy
    # machine spends most of its time spinning (18x the CPU time measured on 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        return cell_vectors(version, _frame_of(version, states), kept_ids)


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
# The transaction of an erasure or an edit of a complete response
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


def _lock_responses(connection, ids: list[int]) -> None:
    """Hold ``ids``' rows until the commit: a task applying them waits, or they wait for it."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(Response.__table__.c.id).where(Response.__table__.c.id.in_(ids))
                           .order_by(Response.__table__.c.id).with_for_update())
    else:
        _take_write_lock(connection)


def _take_write_lock(connection) -> None:
    """SQLite: a write (touching no row) takes the database's write lock for the transaction, so
    what is read next stays true until the commit (reads alone take no lock)."""
    table = MomentApplied.__table__
    connection.execute(update(table).where(table.c.response_id == -1).values(revision=table.c.revision))


def _settle_counted(session: Session, flush_context, instances) -> None:
    """Subtract the counted complete responses this flush changes or deletes (see module doc)."""
    changed = [obj for obj in session.dirty if isinstance(obj, Response) and obj.id is not None
               and _changed(obj) and _state(obj, old=True) is not None
               and _state(obj, old=True)["status"] == COMPLETE]
    deleted = [obj for obj in session.deleted if isinstance(obj, Response) and obj.id is not None]
    if not changed and not deleted:
        return
    connection = session.connection()
    ids = sorted({obj.id for obj in (*changed, *deleted)})
    _lock_responses(connection, ids)
    table = MomentApplied.__table__
    query = select(table).where(table.c.response_id.in_(ids))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    applied = {row.response_id: row for row in connection.execute(query)}
    deltas: Deltas = {}
    minus: list[dict] = []
    for obj in changed:
        row = applied.get(obj.id)
        if row is not None and row.counted == COMPLETE:
            minus.append(_state(obj, old=True))
            # Nothing of it is counted now; its new revision differs, so the task adds it again.
            connection.execute(update(table).where(table.c.response_id == obj.id)
                               .values(counted=NONE, revision=-1, segments="|"))
    for obj in deleted:
        row = applied.get(obj.id)
        if row is None:
            continue
        if row.counted == COMPLETE:
            old = _state(obj, old=True)
            if old is not None:
                minus.append(old)
        elif row.counted == PARTIAL:
            _add_partial(session, deltas, row, -1)
        connection.execute(delete(table).where(table.c.response_id == obj.id))
    _accumulate(session, deltas, minus, -1)
    apply_deltas(connection, deltas)


def _add_partial(session: Session, deltas: Deltas, row, sign: int) -> None:
    """The partial counter of ``all`` and of the row's segment cells, plus or minus one."""
    with session.no_autoflush:
        version = session.get(SurveyVersion, row.version_id)
    layout = layout_of(version)
    for cell in [ALL, *[c for c in row.segments.split("|") if c]]:
        vector = np.zeros(layout.size)
        vector[2] = sign  # the ``partial`` counter (analysis.moment_cells.COUNTERS)
        key = (version.survey_id, version.id, cell)
        deltas[key] = deltas[key] + vector if key in deltas else vector


def _accumulate(session: Session, deltas: Deltas, states: list[dict], sign: int,
                kept_ids: set | None = None) -> None:
    by_version: dict[int, list[dict]] = defaultdict(list)
    for state in states:
        by_version[state["version_id"]].append(state)
    for version_id, group in by_version.items():
        with session.no_autoflush:
            version = session.get(SurveyVersion, version_id)
        for cell, vector in vectors_of(version, group, kept_ids).items():
            key = (version.survey_id, version_id, cell)
            deltas[key] = deltas[key] + sign * vector if key in deltas else sign * vector


# --------------------------------------------------------------------------
# After the commit: the task
# --------------------------------------------------------------------------

def _note_changed(session, flush_context) -> None:
    note_changed_surveys(session, NOTED, {obj.survey_id for obj in (*session.new, *session.dirty)
                                          if isinstance(obj, Response) and obj.survey_id is not None})


def _schedule_noted(session) -> None:
    changed = session.info.pop(NOTED, None)
    if changed and has_app_context():
        for survey_id in sorted(changed):
            schedule(survey_id)


def _forget_noted(session) -> None:
    session.info.pop(NOTED, None)


def schedule(survey_id: int, full: bool = False) -> None:
    """Apply the survey's pending responses soon: at once under ``QUEUE_IMMEDIATE`` (tests), else
    on the queue, once for all the responses committed until that run starts."""
    if huey.immediate:
        # As a worker would: the committed response stands whatever the run does (a run
        # that fails leaves its responses pending for the next one, and is logged).
        try:
            apply_pending(survey_id, full=full)
        except Exception:  # noqa: BLE001
            logger.exception("moment cells of survey %s not updated", survey_id)
        return
    if full or cache.add(f"moments-pending:{survey_id}", 1, timeout=MARKER_SECONDS):
        # Enqueued at once (a delayed task waits for the scheduler's next tick, about a second):
        # the marker alone coalesces, since it stays until the run starts.
        apply_task(survey_id, full)


@huey.task()
def apply_task(survey_id: int, full: bool = False) -> None:
    with app_context():
        # Cleared before reading: a response committed from now on schedules the next run.
        cache.delete(f"moments-pending:{survey_id}")
        apply_pending(survey_id, full=full)


@huey.periodic_task(crontab(minute=f"*/{SWEEP_MINUTES}"))
def sweep_task() -> None:
    """Every survey, whole: responses whose run was lost (a message lost with a queue, a
    commit later than :data:`WINDOW_SECONDS` after its update)."""
    with app_context():
        for survey_id in db.session.execute(select(Survey.id).order_by(Survey.id)).scalars().all():
            apply_pending(survey_id, full=True)


def apply_pending(survey_id: int, full: bool = False, batch: int | None = None) -> int:
    """Apply the survey's pending responses to its cells (see module doc); returns how many.

    Runs on a session of its own (it is called right after another commit, and in
    the worker), one transaction per ``batch`` responses (default :data:`BATCH`, and
    :data:`SWEEP_BATCH` for a full sweep: each batch rewrites every cell it touches),
    walking the responses by id so that each batch reads only its own part of the survey.
    """
    batch = batch or (SWEEP_BATCH if full else BATCH)
    applied, after = 0, 0
    while True:
        with Session(db.engine) as session:
            done, last, more = _apply_batch(session, survey_id, full, batch, after)
            session.commit()
        applied += done
        if not more:
            return applied
        after = last


def _pending_ids(connection, survey_id: int, full: bool, batch: int, after: int = 0) -> list[int]:
    response, table = Response.__table__, MomentApplied.__table__
    query = (select(response.c.id)
             .select_from(response.outerjoin(table, table.c.response_id == response.c.id))
             .where(response.c.survey_id == survey_id, response.c.id > after,
                    or_(table.c.response_id.is_(None), table.c.revision != response.c.revision,
                        table.c.response_updated_at.is_distinct_from(response.c.updated_at)))
             .order_by(response.c.id).limit(batch))
    if not full:
        latest = connection.execute(select(func.max(table.c.response_updated_at))
                                    .where(table.c.survey_id == survey_id)).scalar()
        if latest is not None:
            # Not past now: a response stamped in the future (a clock ahead, an import) must not
            # move the window beyond the responses being saved now.
            now = utcnow() if latest.tzinfo is not None else utcnow().replace(tzinfo=None)
            since = min(latest, now) - timedelta(seconds=WINDOW_SECONDS)
            # The window's ids first, by ``ix_response_survey_updated`` (in one statement the
            # planner walks the survey by id instead: a million rows at a million responses).
            recent = list(connection.execute(select(response.c.id).where(
                response.c.survey_id == survey_id, response.c.updated_at >= since)).scalars())
            if not recent:
                return []
            query = query.where(response.c.id.in_(recent))
    if connection.dialect.name == "postgresql":
        # Rows a respondent's transaction holds are skipped: its commit schedules the next run.
        query = query.with_for_update(of=response, skip_locked=True)
    return list(connection.execute(query).scalars())


def _apply_batch(session: Session, survey_id: int, full: bool, batch: int,
                 after: int = 0) -> tuple[int, int, bool]:
    """One transaction: the next ``batch`` pending responses with an id above ``after``;
    returns how many, the last id and whether there may be more."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        _take_write_lock(connection)
    ids = _pending_ids(connection, survey_id, full, batch, after)
    if not ids:
        return 0, after, False
    response, table = Response.__table__, MomentApplied.__table__
    rows = connection.execute(select(response.c.id, response.c.version_id, response.c.status,
                                     response.c.answers, response.c.submitted_at, response.c.duration_seconds,
                                     response.c.revision, response.c.updated_at)
                              .where(response.c.id.in_(ids))).all()
    applied = {row.response_id: row for row in connection.execute(select(table).where(table.c.response_id.in_(ids)))}
    deltas: Deltas = {}
    plus: list[dict] = []
    records: list[dict] = []
    versions: dict[int, SurveyVersion] = {}
    for row in rows:
        old = applied.get(row.id)
        if old is not None and old.counted == PARTIAL:
            _add_partial(session, deltas, old, -1)
        if row.version_id not in versions:
            versions[row.version_id] = session.get(SurveyVersion, row.version_id)
        counted = row.status if row.answers is not None else NONE
        if counted in (COMPLETE, PARTIAL) and not (old is not None and old.counted == COMPLETE):
            plus.append({"response_id": row.id, "version_id": row.version_id, "status": row.status,
                         "answers": row.answers, "submitted_at": row.submitted_at})
        elif old is not None and old.counted == COMPLETE:
            # Still counted with the same values: only a column the cells ignore changed
            # (a change to one they use went through _settle_counted and reset the row).
            counted = COMPLETE
        complete = counted == COMPLETE
        records.append({"response_id": row.id, "survey_id": survey_id, "version_id": row.version_id,
                        "counted": counted, "revision": row.revision, "response_updated_at": row.updated_at,
                        "day": row.submitted_at if complete else None,
                        "duration_seconds": row.duration_seconds if complete else None,
                        "kept": old.kept if complete and old is not None and old.counted == COMPLETE else None,
                        "segments": row.answers if counted != NONE else None})
    # Days and segment cells of the whole batch at once (per row, pandas costs a millisecond each).
    for record, day in zip(records, days_of([r["day"] for r in records])):
        record["day"] = day
    for version_id, version in versions.items():
        mine = [r for r in records if r["version_id"] == version_id and r["segments"] is not None]
        for record, cells in zip(mine, segments_of(version, [r["segments"] for r in mine])):
            record["segments"] = cells
    for record in records:
        if record["segments"] is None:
            record["segments"] = "|"
    kept_ids: set[int] = set()
    _accumulate(session, deltas, plus, +1, kept_ids)
    for record in records:
        if record["counted"] == COMPLETE and record["kept"] is None:
            record["kept"] = record["response_id"] in kept_ids
    apply_deltas(connection, deltas)
    connection.execute(delete(table).where(table.c.response_id.in_([r["response_id"] for r in records])))
    if records:
        connection.execute(insert(table), records)
    return len(records), ids[-1], len(ids) == batch


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
    # create_app refuses other databases (surveyapp.check_database_url); this names the gap if one is added.
    raise ValueError(f"moment cells on {dialect}: surveyapp runs on SQLite or PostgreSQL")


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
# Rebuild
# --------------------------------------------------------------------------

def rebuild(survey: Survey) -> int:
    """Recompute every cell of ``survey`` from its rows; returns the cells written.

    Clears the cells and the applied set in one transaction, then sweeps the
    whole survey (batches of :data:`BATCH`, each its own transaction).
    """
    db.session.execute(delete(SurveyMoments).where(SurveyMoments.survey_id == survey.id))
    db.session.execute(delete(MomentApplied).where(MomentApplied.survey_id == survey.id))
    db.session.commit()
    apply_pending(survey.id, full=True)
    return db.session.execute(select(func.count()).select_from(SurveyMoments)
                              .where(SurveyMoments.survey_id == survey.id)).scalar_one()


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


def cells_stamp(survey_id: int) -> str:
    """Changes whenever any cell of the survey does (every update bumps its ``revision``)."""
    table = SurveyMoments.__table__
    count, revisions = db.session.execute(select(func.count(), func.sum(table.c.revision))
                                          .where(table.c.survey_id == survey_id)).one()
    return f"{count}:{revisions or 0}"
