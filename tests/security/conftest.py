"""Fixtures for the security suite (real databases: ``database_app`` in tests/conftest.py)."""
from __future__ import annotations

import pytest

from surveyapp import create_app
from surveyapp.extensions import db


@pytest.fixture
def owner_client(app, client, make_user, login):
    """A client logged in as the researcher ``owner``."""
    make_user("owner")
    assert login("owner").status_code == 302
    return client


@pytest.fixture
def csrf_app():
    """TestingConfig with CSRF protection on (it is off for the functional tests)."""
    app = create_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


# --------------------------------------------------------------------------
# The production shape under a bounded submission load (test_backup, test_worker_kill):
# gunicorn with the production config on loopback, respondents from bench/submissions.py.
# --------------------------------------------------------------------------

class SurveyServer:
    """gunicorn (2 workers) on a prepared database, and respondents driven in the background."""

    def __init__(self, database_url: str, workdir):
        from bench import submissions
        self.bench = submissions
        self.database_url = database_url
        self.log = workdir / "server.log"
        self.env = submissions.app_env(database_url)
        submissions.prepare_survey_database(self.env, self.log)
        self.slug, self.pages, _ = submissions.survey_plan(database_url)
        self.before = submissions.complete_counts(database_url, self.pages)
        self.process, self.port = submissions.start_gunicorn("wsgi:app", self.env, self.log)
        self.outcome = submissions.Outcome()
        self.load = None

    def start_load(self, clients: int, respondents: int, seconds: float = 180.0) -> None:
        import threading

        def run() -> None:
            self.bench.drive(lambda outcome, lock: self.bench.survey_respondent(
                self.port, self.slug, self.pages, outcome, lock), clients, respondents, seconds, self.outcome)
        self.load = threading.Thread(target=run, daemon=True)
        self.load.start()

    def wait_for_acknowledged(self, count: int, timeout: float = 120.0) -> None:
        import time
        deadline = time.monotonic() + timeout
        while len(self.outcome.acknowledged_at) < count:
            assert time.monotonic() < deadline, f"fewer than {count} responses acknowledged in {timeout} s"
            assert self.load.is_alive(), f"the load ended early: {self.outcome.failures[:3]}"
            time.sleep(0.1)

    def finish_load(self, timeout: float = 300.0):
        self.load.join(timeout)
        assert not self.load.is_alive(), "the submission load did not finish"
        return self.outcome

    def stored(self, database_url: str | None = None) -> tuple[int, int]:
        """Beyond the demo's own: (responses stored complete with every answer, all complete ones)."""
        with_answers, complete = self.bench.complete_counts(database_url or self.database_url, self.pages)
        return with_answers - self.before[0], complete - self.before[1]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.bench.stop(self.process)


def postgres_database(name: str) -> str:
    """A new, empty PostgreSQL database next to ``TEST_POSTGRES_URL``'s (dropped first if there)."""
    import os

    import psycopg
    from sqlalchemy.engine import make_url
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL not set (make test starts PostgreSQL and sets it)")
    url = make_url(base)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture
def survey_server(tmp_path):
    """``survey_server(database_url)``: a :class:`SurveyServer`, stopped after the test."""
    servers = []

    def start(database_url: str) -> SurveyServer:
        servers.append(SurveyServer(database_url, tmp_path))
        return servers[-1]
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def fresh_postgres():
    """``fresh_postgres(name)``: the URL of a new empty PostgreSQL database, dropped after the test."""
    urls = []

    def make(name: str) -> str:
        urls.append(postgres_database(name))
        return urls[-1]
    yield make
    for url in urls:
        drop_postgres_database(url)
