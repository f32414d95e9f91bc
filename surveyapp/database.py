"""Database connection settings that SQLAlchemy's URL cannot carry."""
from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from typing import Iterator

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from .extensions import db


def init_app(app: Flask) -> None:
    """Turn on SQLite's WAL, foreign keys and busy timeout for every new connection of this app."""
    timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    def sqlite_pragmas(dbapi_connection, connection_record) -> None:
        # WAL lets readers run beside a writer; busy_timeout makes writers wait, not fail.
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    with app.app_context():
        # Flask-SQLAlchemy makes the engine on first use; listening on this app's
        # engine (not the global Engine class) keeps apps and tests independent.
        event.listen(db.engine, "connect", sqlite_pragmas)


def insert_once(row) -> bool:
    """Add and commit ``row``; False (and nothing stored) if a unique constraint says it exists.

    The database decides, so two processes racing to record the same thing
    (a notification, a webhook delivery, a case) store it once.
    """
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


#: This process's open lock files, by (process id, path): a descriptor inherited across a fork
#: shares its lock with the parent's, so each worker opens its own.
_WRITER_LOCKS: dict[tuple[int, str], int] = {}


@contextmanager
def sqlite_writers_in_turn() -> Iterator[None]:
    """On an SQLite file, hold an exclusive lock on ``<database>.writers`` meanwhile.

    SQLite lets one connection write at a time; another one waiting for it
    sleeps in its busy handler 1, 2, 5, 10... ms between tries, however soon
    the lock is free. With two workers saving pages at a few hundred a second,
    a tenth of the saves slept so, which left a core idle. Writers that take
    this lock first wait in the kernel instead and go on the moment the one
    before commits. Only a lock's waiting changes: every write still takes
    SQLite's own lock (writers that do not take this one simply wait there).
    Elsewhere (PostgreSQL, in-memory SQLite) it does nothing.
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    key = (os.getpid(), url.database + ".writers")
    descriptor = _WRITER_LOCKS.get(key)
    if descriptor is None:
        descriptor = _WRITER_LOCKS[key] = os.open(key[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
