"""Heavy work as jobs: started by a person, run by the queue worker, shown with progress.

A job is a row of ``job`` (:class:`surveyapp.models.Job`) plus a queue
message carrying its id. Its life:

1. :func:`start_job` stores the row (``queued``) and enqueues the message.
2. The worker's :func:`execute_job` *claims* it (``queued`` -> ``running`` in
   one conditional UPDATE, so a message delivered twice runs once), beats a
   heartbeat every ``JOB_HEARTBEAT_SECONDS`` while the runner works and
   reports progress, then stores the result (``done``) or the reason
   (``failed``).
3. A worker killed midway leaves a ``running`` row whose heartbeat stops;
   :func:`requeue_stalled` (at worker start and every minute) puts it back on
   the queue, up to ``JOB_MAX_ATTEMPTS`` runs. A ``queued`` row whose message
   was lost (a worker dequeued it and died before claiming) is re-sent too.

Result files live under ``JOB_RESULTS_DIR/<job id>/``, a directory every app
server and worker must share (one machine: ``instance/jobs``; several: a
shared volume). Finished jobs and their files are removed after
``JOB_KEEP_DAYS``.
"""
from __future__ import annotations

import json
import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from flask import current_app, has_request_context, request
from huey import crontab
from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import Job, JobStatus, Role, Survey, User, utcnow
from ..queue import app_context, huey

logger = logging.getLogger(__name__)

#: ``progress(fraction, message=None)``: how far a runner is (0..1).
Progress = Callable[..., None]


@dataclass
class JobOutcome:
    """What a runner made: a file to download and/or a small JSON document."""

    path: Path | None = None
    name: str | None = None
    mimetype: str | None = None
    result: dict[str, Any] | None = None


class JobFailed(Exception):
    """An expected failure to show the person (a rejected file, a bad filter); never retried."""

    def __init__(self, message: str, result: dict[str, Any] | None = None):
        super().__init__(message)
        self.result = result


class JobError(ValueError):
    """A job that cannot be started (unknown kind)."""


_RUNNERS: dict[str, Callable[[Job, Path, Progress], JobOutcome]] = {}


def job_runner(kind: str):
    """Register the function that does the work of jobs of ``kind``.

    It is called as ``runner(job, directory, progress)`` inside an app context
    and returns a :class:`JobOutcome`; files it writes go into ``directory``.
    """
    def register(function):
        _RUNNERS[kind] = function
        return function
    return register


# --------------------------------------------------------------------------
# Starting and reading jobs (web side)
# --------------------------------------------------------------------------

def start_job(kind: str, *, user: User | None, survey: Survey | None = None,
              params: dict[str, Any] | None = None) -> Job:
    """Store a ``queued`` job and send it to the worker.

    Started in a request, the job keeps the client's address (``params["requested_from"]``)
    for the audit entry its runner writes.
    """
    if kind not in _RUNNERS:
        raise JobError(f"unknown job kind {kind!r}")
    params = dict(params or {})
    if has_request_context():
        params.setdefault("requested_from", request.remote_addr)
    job = Job(kind=kind, user_id=user.id if user is not None else None,
              survey_id=survey.id if survey is not None else None, params=params,
              status=JobStatus.QUEUED.value, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.flush()
    job_id = job.id  # read before the commit expires it (no reload racing the worker)
    db.session.commit()
    run_job(job_id)
    db.session.refresh(job)
    return job


def keep_upload(data: bytes) -> Path:
    """Store an uploaded file where the worker can read it (next to the job results)."""
    directory = results_dir() / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.upload"
    path.write_bytes(data)
    return path


#: What a job's starter must still be allowed to do with its survey to see the job and its
#: file (surveyapp.access needs): a share taken away or downgraded after the start closes it.
JOB_NEEDS = {"export": "analyse", "analysis": "analyse", "csi-bootstrap": "analyse", "import": "edit",
             "invitation-mail": "edit"}


def job_for(job_id: str, user: User) -> Job | None:
    """The job if ``user`` started it and may still do its kind of work with its survey
    (admins see every job); None otherwise."""
    from ..access import may

    job = db.session.get(Job, job_id)
    if job is None:
        return None
    if user.has_role(Role.ADMIN):
        return job
    if job.user_id != user.id:
        return None
    survey = db.session.get(Survey, job.survey_id) if job.survey_id else None
    if survey is not None and not may(user, survey, JOB_NEEDS.get(job.kind, "view")):
        return None
    return job


def job_payload(job: Job) -> dict[str, Any]:
    """The job's state as the progress page and the API show it."""
    return {"id": job.id, "kind": job.kind, "status": job.status,
            "progress": round(float(job.progress or 0.0), 3), "message": job.message,
            "error": job.error, "attempts": job.attempts, "result": job.result,
            "has_file": job.result_path is not None,
            "created_at": _iso(job.created_at), "finished_at": _iso(job.finished_at)}


def result_file(job: Job) -> Path | None:
    """The finished job's file, if it has one and it is still there."""
    if job.status != JobStatus.DONE.value or not job.result_path:
        return None
    path = Path(job.result_path)
    return path if path.is_file() else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


# --------------------------------------------------------------------------
# Running jobs (worker side)
# --------------------------------------------------------------------------

@huey.task()
def run_job(job_id: str) -> None:
    with app_context():
        execute_job(job_id)


def execute_job(job_id: str) -> bool:
    """Claim and run one job; False if it was not ``queued`` (done, or another worker has it)."""
    if not _claim(job_id):
        return False
    job = db.session.get(Job, job_id)
    directory = results_dir() / job.id
    directory.mkdir(parents=True, exist_ok=True)
    heartbeat = _Heartbeat(job_id, current_app.config["JOB_HEARTBEAT_SECONDS"])
    heartbeat.start()
    try:
        outcome = _RUNNERS[job.kind](job, directory, _progress_reporter(job_id))
    except JobFailed as failure:
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, error=str(failure), result=failure.result)
    except Exception as error:  # a bug: recorded on the job and logged, never shown as a result
        db.session.rollback()
        current_app.logger.exception("job %s (%s) failed", job_id, job.kind)
        _finish(job_id, JobStatus.FAILED, error=f"internal error ({type(error).__name__}); "
                                                "the administrators can see the details in the log")
    else:
        _finish(job_id, JobStatus.DONE, outcome=outcome)
    finally:
        heartbeat.stop()
    return True


def _claim(job_id: str) -> bool:
    now = utcnow()
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, attempts=Job.attempts + 1, started_at=now,
                    heartbeat_at=now, progress=0.0, message=None)).rowcount
    return claimed == 1


def _finish(job_id: str, status: JobStatus, *, outcome: JobOutcome | None = None,
            error: str | None = None, result: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": status.value, "finished_at": utcnow(), "error": error,
                              "result": result}
    if outcome is not None:
        values.update(progress=1.0, result=outcome.result,
                      result_path=str(outcome.path) if outcome.path else None,
                      result_name=outcome.name, result_mimetype=outcome.mimetype)
    with db.engine.begin() as connection:
        # Only the run that holds the claim finishes the job (a requeued duplicate does not).
        connection.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
                           .values(**values))


def _progress_reporter(job_id: str) -> Progress:
    """A progress callback writing at most twice a second (its own transaction each time)."""
    last = [0.0]

    def report(fraction: float, message: str | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and fraction < 1.0:
            return
        last[0] = now
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
                               .values(progress=max(0.0, min(1.0, float(fraction))), message=message,
                                       heartbeat_at=utcnow()))
    return report


class _Heartbeat:
    """Marks a running job alive every few seconds, from a thread, so a stopped worker shows."""

    def __init__(self, job_id: str, every: float):
        self.job_id, self.every = job_id, every
        self.engine = db.engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if huey.immediate:
            return  # in-process (tests): the caller waits anyway
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{self.job_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            with self.engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == self.job_id,
                                                     Job.status == JobStatus.RUNNING.value)
                                   .values(heartbeat_at=utcnow()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def results_dir() -> Path:
    return Path(current_app.config["JOB_RESULTS_DIR"] or Path(current_app.instance_path) / "jobs")


# --------------------------------------------------------------------------
# Keeping jobs alive, and tidy
# --------------------------------------------------------------------------

def requeue_stalled(now: datetime | None = None) -> int:
    """Put back on the queue the jobs whose worker stopped; returns how many were re-sent.

    ``running`` with no heartbeat for ``JOB_STALL_SECONDS``: its worker was
    killed; it runs again unless it has had ``JOB_MAX_ATTEMPTS`` runs, then it
    fails with that reason. ``queued`` for ``JOB_LOST_SECONDS`` since it was
    sent: its message may be lost; it is sent again (a duplicate is a no-op).
    """
    config = current_app.config
    now = now or utcnow()
    stalled_before = now - timedelta(seconds=config["JOB_STALL_SECONDS"])
    lost_before = now - timedelta(seconds=config["JOB_LOST_SECONDS"])
    rows = db.session.execute(select(Job.id, Job.status, Job.attempts).where(or_(
        (Job.status == JobStatus.RUNNING.value) & (Job.heartbeat_at < stalled_before),
        (Job.status == JobStatus.QUEUED.value) & (Job.heartbeat_at < lost_before)))).all()
    db.session.rollback()
    resent = 0
    for row in rows:
        with db.engine.begin() as connection:
            if row.status == JobStatus.RUNNING.value and row.attempts >= config["JOB_MAX_ATTEMPTS"]:
                connection.execute(update(Job).where(Job.id == row.id, Job.status == row.status)
                                   .values(status=JobStatus.FAILED.value, finished_at=now,
                                           error=f"the worker stopped while running this job "
                                                 f"{row.attempts} times; start it again"))
                continue
            changed = connection.execute(
                update(Job).where(Job.id == row.id, Job.status == row.status,
                                  Job.heartbeat_at < (stalled_before if row.status == JobStatus.RUNNING.value
                                                      else lost_before))
                .values(status=JobStatus.QUEUED.value, heartbeat_at=now)).rowcount
        if changed:
            run_job(row.id)
            resent += 1
    return resent


def purge_finished(now: datetime | None = None) -> int:
    """Remove finished jobs older than ``JOB_KEEP_DAYS`` and their files."""
    now = now or utcnow()
    before = now - timedelta(days=current_app.config["JOB_KEEP_DAYS"])
    old = db.session.execute(select(Job).where(Job.finished_at < before)).scalars().all()
    for job in old:
        shutil.rmtree(results_dir() / job.id, ignore_errors=True)
        db.session.delete(job)
    db.session.commit()
    return len(old)


_watchdog_started = threading.Event()


@huey.on_startup()
def start_watchdog() -> None:
    """In each worker process, a thread that re-sends stalled jobs every half stall period.

    Huey's periodic tasks run at minute resolution; a killed worker's job
    should be running again within seconds of its heartbeat stopping.
    """
    if _watchdog_started.is_set():
        return
    _watchdog_started.set()

    def watch() -> None:
        # A consumer embedded in a test ends by switching the queue back to immediate mode.
        while not huey.immediate:
            try:
                with app_context() as app:
                    every = app.config["JOB_STALL_SECONDS"] / 2
                    requeue_stalled()
            except Exception:  # keep watching: a database hiccup must not end the watchdog
                logger.exception("requeueing stalled jobs failed; trying again")
                every = 5.0
            time.sleep(every)
        _watchdog_started.clear()

    threading.Thread(target=watch, name="job-watchdog", daemon=True).start()


@huey.periodic_task(crontab(minute="17", hour="*"))
def purge_every_hour() -> None:
    with app_context():
        purge_finished()


def write_json(directory: Path, name: str, document: Any) -> JobOutcome:
    """A JSON result file (NaN written as null)."""
    path = directory / name
    path.write_text(json.dumps(document, ensure_ascii=False, allow_nan=False, default=str),
                    encoding="utf-8")
    return JobOutcome(path=path, name=name, mimetype="application/json")
