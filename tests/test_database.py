"""surveyapp/database.py: SQLite connection settings and the answer path's writer turns."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from surveyapp import create_app
from surveyapp.database import sqlite_writers_in_turn


def test_writers_take_turns_across_processes(tmp_path):
    """Another process holding the turn makes this one wait until it lets go, then go at once."""
    database = tmp_path / "app.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(database) + ".writers"!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("holding", flush=True)
        time.sleep(0.6)
        fcntl.flock(fd, fcntl.LOCK_UN)
        time.sleep(5)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with app.app_context():
            started = time.perf_counter()
            with sqlite_writers_in_turn():
                waited = time.perf_counter() - started
            # And again at once: this process keeps its own descriptor open.
            started = time.perf_counter()
            with sqlite_writers_in_turn():
                again = time.perf_counter() - started
    finally:
        holder.kill()
        holder.wait()
    assert 0.3 < waited < 3, waited
    assert again < 0.1, again


def test_no_turns_without_a_database_file():
    """In-memory SQLite (and PostgreSQL) have no file to lock: nothing is opened."""
    from surveyapp.database import _WRITER_LOCKS

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    before = dict(_WRITER_LOCKS)
    with app.app_context(), sqlite_writers_in_turn():
        pass
    assert _WRITER_LOCKS == before
