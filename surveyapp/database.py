"""Database connection settings that SQLAlchemy's URL cannot carry."""
from __future__ import annotations

import sqlite3

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
