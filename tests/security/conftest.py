"""Fixtures for the security suite (real databases: ``database_app`` in tests/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture
def owner_client(app, client, make_user, login):
    """A client logged in as the researcher ``owner``."""
    make_user("owner")
    assert login("owner").status_code == 302
    return client
