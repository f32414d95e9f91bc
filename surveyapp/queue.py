"""The job queue: Huey, with SQLite as its embedded default and Redis in production.

Why Huey: it is maintained, small (one dependency-free package), runs its
worker as a separate process (``huey_consumer``), and has an SQLite storage
that needs no server, so ``make run`` works with nothing but itself, while
the same tasks run on Redis when several app servers and workers share one
queue. It has delayed and periodic tasks (used for debouncing dashboard
recomputation, requeueing stalled jobs and purging old results) and retries
with back-off (used for webhooks). What it lacks is an acknowledgement that
survives a killed worker (a dequeued task is gone), so every job that a
person waits for also has a row in the ``job`` table: the worker claims it,
beats a heartbeat while it runs, and a job whose worker stopped is put back
on the queue (:func:`surveyapp.services.jobs.requeue_stalled`). The row, not
the queue message, is the job's truth; a message delivered twice is a no-op.

``QUEUE_URL`` chooses the storage: ``sqlite:///path`` (default
``instance/queue.sqlite``), ``redis://host:port/db``, or ``memory://``.
``REDIS_URL`` alone also selects Redis. Under ``QUEUE_IMMEDIATE`` (the test
config) tasks run at once in the calling process, as Huey's immediate mode.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from config import INSTANCE_DIR

QUEUE_NAME = "surveyapp"


def queue_url_from_environment() -> str:
    return (os.environ.get("QUEUE_URL") or os.environ.get("REDIS_URL")
            or f"sqlite:///{INSTANCE_DIR / 'queue.sqlite'}")


def huey_from_url(url: str) -> Huey:
    """The Huey instance of a queue URL (see the module docstring)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path))
    if url == "memory://":
        return MemoryHuey(QUEUE_NAME)
    raise ValueError(f"QUEUE_URL={url!r}: use sqlite:///PATH, redis://HOST:PORT/DB or memory://")


#: The one queue of this process; ``huey_consumer surveyapp.tasks.huey`` runs its worker.
huey = huey_from_url(queue_url_from_environment())


def init_app(app: Flask) -> None:
    """Run tasks in-process under ``QUEUE_IMMEDIATE`` (tests); else they go to the worker."""
    huey.immediate = bool(app.config["QUEUE_IMMEDIATE"])


_worker_app: Flask | None = None


def use_app(app: Flask | None) -> None:
    """Run tasks of this process in ``app`` (a worker embedded in a test or a script)."""
    global _worker_app
    _worker_app = app


@contextmanager
def app_context() -> Iterator[Flask]:
    """The Flask app a task runs in.

    In the worker process: one app per process, created on first use from the
    environment (``SURVEYAPP_CONFIG``, ``DATABASE_URL``), a fresh session per
    task. In immediate mode the task runs inside the caller's app context.
    """
    global _worker_app
    if has_app_context():
        yield current_app._get_current_object()
        return
    if _worker_app is None:
        from . import create_app
        _worker_app = create_app()
    from .extensions import db
    with _worker_app.app_context():
        try:
            yield _worker_app
        finally:
            db.session.remove()
