"""A gunicorn worker SIGKILLed under a bounded submission load loses no acknowledged response.

Production config, 2 workers, a SQLite file, loopback (tests/security/conftest.py
SurveyServer, respondents from bench/submissions.py). Midway one worker is
killed; the master starts another and the load goes on. Then: every response
a client got the thank-you page for is stored complete with every answer, and
nothing is stored twice (at most the respondents whose last request died with
the worker are stored without their acknowledgement).
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLIENTS = 6
RESPONDENTS = 60


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc: gunicorn's workers of its master)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _wait_for_workers(master: int, count: int, without: set[int] = frozenset(), timeout: float = 60.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        workers = _children(master) - set(without)
        if len(workers) >= count:
            return workers
        assert time.monotonic() < deadline, f"gunicorn has {len(workers)} workers, not {count}"
        time.sleep(0.2)


def test_killing_a_worker_under_load_loses_no_acknowledged_response(survey_server, tmp_path):
    server = survey_server(f"sqlite:///{tmp_path / 'app.sqlite'}")
    master = server.process.pid
    workers = _wait_for_workers(master, 2)
    server.start_load(CLIENTS, RESPONDENTS, seconds=600)
    server.wait_for_acknowledged(RESPONDENTS // 4)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    # The master forks a new worker in place of the killed one.
    replacement = _wait_for_workers(master, 2, without={victim}) - workers
    assert replacement
    outcome = server.finish_load()
    server.stop()
    with_every_answer, complete = server.stored()
    after_kill = sum(1 for at in outcome.acknowledged_at if at > killed_at)
    print(f"\nkilled worker {victim} (new: {sorted(replacement)}); acknowledged {outcome.acknowledged} "
          f"({after_kill} after the kill), stored {with_every_answer}, failed {len(outcome.failures)}: "
          f"{outcome.failures[:2]}")
    assert after_kill > 0, "the load went on after the kill"
    # Only requests in flight on the killed worker may fail (one per client at most).
    assert len(outcome.failures) <= CLIENTS
    assert outcome.acknowledged + len(outcome.failures) <= RESPONDENTS
    # acknowledged = stored: each thank-you is a complete row; a respondent whose final
    # request died after its commit may be stored without a thank-you, nothing more.
    assert outcome.acknowledged <= with_every_answer <= outcome.acknowledged + len(outcome.failures)
    assert complete == with_every_answer, "a response is complete with answers missing"
