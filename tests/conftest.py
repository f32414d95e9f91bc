"""Shared fixtures: app, client, db, users, and a seeded (demo) survey."""
from __future__ import annotations

import os

import pytest

# Every app the tests build starts from TestingConfig unless a test says otherwise.
os.environ["SURVEYAPP_CONFIG"] = "testing"
os.environ.pop("DATABASE_URL", None)

from surveyapp import create_app
from surveyapp.extensions import db as _db
from surveyapp.models import Role, User


@pytest.fixture
def app():
    app = create_app("testing")
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
