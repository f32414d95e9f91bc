"""The ceiling for the submissions benchmark: a bare Flask app that inserts one row per POST.

Run by :mod:`bench.submissions` under gunicorn exactly like the survey app
(same workers, same database kind, same client). ``BARE_DATABASE_URL`` names
the database (an SQLite file or PostgreSQL); the table is made on first use.
SQLite gets the pragmas the real app sets (WAL, busy timeout), so the two
differ only in what the app does per request.
"""
from __future__ import annotations

import os
import sqlite3

from flask import Flask, request
from sqlalchemy import (Column, Integer, MetaData, String, Table, create_engine, event, func,
                        insert, select)

metadata = MetaData()
saves = Table("bare_saves", metadata, Column("id", Integer, primary_key=True),
              Column("payload", String, nullable=False))


def make_engine(url: str):
    # Pre-ping only for a server database, as the survey app does (surveyapp.load_config).
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))

    @event.listens_for(engine, "connect")
    def sqlite_pragmas(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def create_table(url: str) -> None:
    """Make the table before the workers start: two workers creating it at once on
    PostgreSQL collide (one dies, and the client sees its connections reset)."""
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def stored_rows(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(saves)).scalar_one()
    engine.dispose()
    return count


def create_bare_app(url: str) -> Flask:
    app = Flask(__name__)
    engine = make_engine(url)
    metadata.create_all(engine)

    @app.get("/")
    def index():
        return "ok"

    @app.post("/save")
    def save():
        payload = "&".join(f"{key}={value}" for key, value in request.form.items())
        with engine.begin() as connection:
            connection.execute(insert(saves).values(payload=payload))
        return "saved"

    return app


if os.environ.get("BARE_DATABASE_URL"):
    app = create_bare_app(os.environ["BARE_DATABASE_URL"])
