"""Fixtures for the security suite: real databases (file SQLite, PostgreSQL) and logged-in owners."""
from __future__ import annotations

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from surveyapp import create_app
from surveyapp.extensions import db as _db

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
PASSWORD = "correct horse battery"


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


@pytest.fixture
def owner_client(app, client, make_user, login):
    """A client logged in as the researcher ``owner``."""
    make_user("owner")
    assert login("owner").status_code == 302
    return client
