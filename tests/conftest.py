"""Shared fixtures: app, client, db, users, and a seeded (demo) survey."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

# Every app the tests build starts from TestingConfig unless a test says otherwise.
os.environ["SURVEYAPP_CONFIG"] = "testing"
os.environ.pop("DATABASE_URL", None)
# The queue of the test process lives in memory (immediate mode runs tasks at once;
# the ``queue_worker`` fixture runs a real consumer on it instead).
os.environ["QUEUE_URL"] = "memory://"
os.environ.pop("REDIS_URL", None)

from surveyapp import create_app
from surveyapp.extensions import db as _db
from surveyapp.models import Role, User

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture
def app(request, tmp_path):
    config = "testing"
    real_worker = "queue_worker" in request.fixturenames or request.node.get_closest_marker("real_worker")
    if real_worker and not os.environ.get("TEST_DATABASE_URL"):
        # A real worker runs tasks on its own threads, each with its own connection: they
        # need a file database (the default in-memory one is a single shared connection, and
        # a worker's transaction on it can hide a row the test has just committed).
        config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}"}
    app = create_app(config)
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(db):
    def make(username: str, role: Role = Role.RESEARCHER, password: str = "correct horse battery") -> User:
        user = User(username=username, role=role.value)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user
    return make


@pytest.fixture
def login(client):
    def do_login(username: str, password: str = "correct horse battery"):
        return client.post("/auth/login", data={"username": username, "password": password})
    return do_login


@pytest.fixture
def seeded_survey(app):
    """The demo survey with the configured number of synthetic responses."""
    from surveyapp.services.demo import ensure_demo
    return ensure_demo(app.config["DEMO_RESPONSES"], seed=7).survey


@pytest.fixture
def two_version_survey(db, make_user):
    """A small survey whose version 2 drops SQ02 and adds SQ03, with answers in both versions.

    Comments include text a spreadsheet would run as a formula; one response is partial.
    """
    from datetime import datetime, timezone
    from surveyapp.services.responses import submit_response
    from surveyapp.services.surveys import create_survey, open_survey

    owner = make_user("two-versions-owner")
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "servqual_layout": "blocks",
              "instruments": [{"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "profile", "items": ["PR_CHANNEL"]}]}
    survey = create_survey(owner, "two-versions", "两个版本", "Two versions", design)
    first = open_survey(survey)
    moment = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
    submit_response(first, {"SQ01_E": 7, "SQ01_P": 5, "SQ02_E": 6, "PR_CHANNEL": 1},
                    comment="=HYPERLINK(\"http://evil.example\",\"click\")", language="en",
                    started_at=moment, submitted_at=moment.replace(minute=41))
    submit_response(first, {"SQ01_E": 4, "SQ02_P": 2, "PR_CHANNEL": 3}, comment="服务很好，谢谢",
                    started_at=moment, submitted_at=moment.replace(day=3))
    survey.design = {**design, "instruments": [{"id": "servqual", "items": ["SQ01", "SQ03"]},
                                               {"id": "profile", "items": ["PR_CHANNEL"]}]}
    second = open_survey(survey)
    submit_response(second, {"SQ01_E": 6, "SQ03_E": 1, "SQ03_P": 7, "PR_CHANNEL": 2},
                    comment="-2+3 @SUM(A1)", started_at=moment, submitted_at=moment.replace(day=5))
    submit_response(second, {"SQ01_E": 3}, complete=False, started_at=moment)
    return survey


@contextmanager
def running_queue_worker(app):
    """A real Huey consumer (two worker threads) running ``app``'s tasks: queued, not run inline."""
    from surveyapp import queue

    queue.huey.immediate = False
    queue.use_app(app)
    consumer = queue.huey.create_consumer(workers=2, worker_type="thread", periodic=False,
                                          check_worker_health=False)
    # Signal handlers can only be set from the main thread, which pytest keeps.
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    try:
        yield queue.huey
    finally:
        consumer.stop(graceful=True)
        queue.use_app(None)
        queue.huey.immediate = True


@pytest.fixture
def queue_worker(app):
    with running_queue_worker(app) as huey:
        yield huey


@pytest.fixture(params=["sqlite-file", "postgresql"])
def database_app(request, tmp_path):
    """An app on a migrated file SQLite database or on PostgreSQL (``TEST_POSTGRES_URL``)."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("TEST_POSTGRES_URL not set (make test starts PostgreSQL and sets it)")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'security.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if request.param == "postgresql":
            with _db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        yield app
        _db.session.remove()
        if request.param == "postgresql":
            downgrade(revision="base")
        _db.engine.dispose()
