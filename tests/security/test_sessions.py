"""Finding 5: a session cookie copied before logout, or before an admin reset the password,
still opened /admin; remember_token had no SameSite. Every user now has a session version,
carried in the session and the remember cookie, checked on each load and bumped at logout,
password change and role change."""
from __future__ import annotations

import pytest
from flask import g

from surveyapp.extensions import db
from surveyapp.models import Role, User

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def user_loaded_per_request(app):
    """The test app context outlives requests, and Flask-Login caches the user in ``g``:
    forget it at each request, as a server (one app context per request) does."""
    @app.before_request
    def forget_cached_user() -> None:
        g.pop("_login_user", None)


def _copy_cookies(source, target, names=("session", "remember_token")):
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def _opens_admin(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_cookie_copied_before_logout_is_dead(app, make_user, login, client):
    make_user("rita")
    login("rita")
    thief = app.test_client()
    _copy_cookies(client, thief, names=("session",))
    assert _opens_admin(thief)
    client.post("/auth/logout")
    assert not _opens_admin(thief)


def test_password_reset_by_admin_ends_the_users_sessions(app, make_user, login, client):
    rita = make_user("rita")
    make_user("ada", Role.ADMIN)
    login("rita")
    assert _opens_admin(client)
    admin = app.test_client()
    admin.post("/auth/login", data={"username": "ada", "password": PASSWORD})
    assert admin.post(f"/admin/users/{rita.id}/password",
                      data={f"user{rita.id}-password": "a brand new password"}).status_code == 302
    assert not _opens_admin(client)
    # The new password works.
    fresh = app.test_client()
    fresh.post("/auth/login", data={"username": "rita", "password": "a brand new password"})
    assert _opens_admin(fresh)


def test_role_change_ends_sessions(make_user, login, client):
    rita = make_user("rita")
    login("rita")
    assert _opens_admin(client)
    rita.role = Role.MANAGER.value
    db.session.commit()
    assert client.get("/admin/").status_code in (302, 401)


def test_remember_cookie_is_revoked_and_same_site(app, make_user, client):
    make_user("rita")
    reply = client.post("/auth/login", data={"username": "rita", "password": PASSWORD,
                                             "remember": "y"})
    cookies = reply.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "SameSite=Lax" in remember[0] and "HttpOnly" in remember[0]
    assert all("SameSite=" in c for c in cookies), cookies
    stolen = app.test_client()
    _copy_cookies(client, stolen, names=("remember_token",))
    assert _opens_admin(stolen), "the remember cookie alone logs in (that is its job)"
    client.post("/auth/logout")
    later = app.test_client()
    _copy_cookies(stolen, later, names=("remember_token",))
    assert not _opens_admin(later)


def test_session_version_is_bumped_by_password_and_role(db):
    user = User(username="v", role=Role.RESEARCHER.value)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    first = user.session_version
    user.set_password("another password")
    user.role = Role.ADMIN.value
    db.session.commit()
    assert user.session_version == first + 2
