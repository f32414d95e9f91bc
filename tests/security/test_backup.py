"""``flask backup`` while the app serves respondents, ``flask restore`` into a fresh database.

The app runs as in production (gunicorn, 2 workers, loopback); respondents
complete the demo survey from several threads (bench/submissions.py). Midway
``flask backup`` copies the database; the load goes on and ends; the copy is
restored into a new, empty database. There every response acknowledged
(thank-you page) before the backup started is stored complete, nothing is
complete with answers missing, and nothing stored was never sent.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

CLIENTS = 6
RESPONDENTS = 40


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request, tmp_path, fresh_postgres):
    """(the app's database, a new empty one to restore into)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite'}", f"sqlite:///{tmp_path / 'restored.sqlite'}"
    tag = secrets.token_hex(3)
    return fresh_postgres(f"backup_app_{tag}"), fresh_postgres(f"backup_restored_{tag}")


def test_backup_under_load_restores_every_acknowledged_response(databases, survey_server, tmp_path):
    source_url, restored_url = databases
    server = survey_server(source_url)
    backup = tmp_path / "backups" / "surveyapp.backup"
    server.start_load(CLIENTS, RESPONDENTS, seconds=600)
    server.wait_for_acknowledged(RESPONDENTS // 4)
    backup_started = time.monotonic()
    done = _flask(server.env, "backup", str(backup))
    backup_finished = time.monotonic()
    assert done.returncode == 0, done.stderr
    outcome = server.finish_load()
    server.stop()
    assert outcome.failures == []
    acknowledged_before = sum(1 for at in outcome.acknowledged_at if at < backup_started)
    acknowledged_during = sum(1 for at in outcome.acknowledged_at if at < backup_finished)
    # The load really ran across the backup.
    assert 0 < acknowledged_before < outcome.acknowledged
    assert outcome.acknowledged == len(outcome.acknowledged_at)

    # Restoring into the running app's database (it has tables) is refused without --force.
    refused = _flask(server.env, "restore", str(backup))
    assert refused.returncode != 0 and "not empty" in refused.stderr

    restored_env = dict(server.env, DATABASE_URL=restored_url)
    restored = _flask(restored_env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    with_every_answer, complete = server.stored(restored_url)
    print(f"\nbackup of {backup.stat().st_size:,} bytes in {backup_finished - backup_started:.2f} s; "
          f"acknowledged before it started {acknowledged_before}, by its end {acknowledged_during}, "
          f"in all {outcome.acknowledged}; in the restored copy {with_every_answer}")
    assert acknowledged_before <= with_every_answer <= acknowledged_during
    assert complete == with_every_answer, "a response is complete with answers missing"
    # Everything acknowledged is in the running database itself, too.
    assert server.stored() == (outcome.acknowledged, outcome.acknowledged)

    # The restore is in the audit log of the restored database; the backup in the app's.
    from sqlalchemy import create_engine, text
    for url, action in ((restored_url, "restore"), (source_url, "backup")):
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_event WHERE action = :a"),
                                      {"a": action}).scalar_one() == 1
        engine.dispose()


def test_restore_refuses_the_wrong_kind_of_backup(tmp_path):
    env = dict(os.environ, SURVEYAPP_CONFIG="development", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}")
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    done = _flask(env, "restore", str(not_a_backup))
    assert done.returncode != 0 and "neither an SQLite backup nor a pg_dump" in done.stderr
    assert not (tmp_path / "x.sqlite").exists() or (tmp_path / "x.sqlite").stat().st_size == 0
