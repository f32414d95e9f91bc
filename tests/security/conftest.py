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
