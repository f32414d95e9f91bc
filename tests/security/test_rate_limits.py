"""Findings 3 and 4: no rate limit or lock-out (100 wrong passwords in 16 s, then the right one
worked; 300 random invitation tokens in 3 s; unlimited anonymous submissions), and a login time
that told which user names exist. Limits are off in TestingConfig; these tests switch them on."""
from __future__ import annotations

import time

import pytest

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Role, User
from surveyapp.services.demo import ensure_demo
from surveyapp.services.pages import survey_pages
from tests.survey.helpers import page_answers

PASSWORD = "correct horse battery"


@pytest.fixture
def limited_app():
    """TestingConfig with every limit on and small enough to reach in a test."""
    app = create_app({
        "RATELIMIT_ENABLED": True, "LOGIN_LOCKOUT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "8 per minute", "PASSWORD_RESET_RATE_LIMIT": "3 per minute",
        "UNKNOWN_LINK_RATE_LIMIT": "5 per minute", "SURVEY_POST_RATE_LIMIT": "6 per minute",
        "SURVEY_POST_PER_SURVEY_RATE_LIMIT": "10 per minute",
        "LOGIN_LOCKOUT_THRESHOLD": 3, "LOGIN_LOCKOUT_BASE_SECONDS": 1,
    })
    with app.app_context():
        db.create_all()
        for name, role in (("rita", Role.RESEARCHER), ("ada", Role.ADMIN)):
            user = User(username=name, role=role.value)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        yield app
        db.session.remove()
        db.drop_all()


def _login(client, username, password, address="10.0.0.1"):
    return client.post("/auth/login", data={"username": username, "password": password},
                       headers={"Accept-Language": "en"}, environ_base={"REMOTE_ADDR": address})


def test_progressive_lockout_after_failed_logins(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert _login(client, "rita", "wrong password").status_code == 401
    locked = _login(client, "rita", PASSWORD, address="10.0.0.2")
    assert locked.status_code == 429, "the right password must not open a locked account"
    assert "Too many failed log-ins" in locked.get_data(as_text=True)
    time.sleep(1.1)
    assert _login(client, "rita", "wrong again", address="10.0.0.3").status_code == 401
    # The next failure locks for twice as long (2 s): still locked after 1.1 s.
    time.sleep(1.1)
    assert _login(client, "rita", PASSWORD, address="10.0.0.4").status_code == 429
    time.sleep(1.0)
    opened = _login(client, "rita", PASSWORD, address="10.0.0.5")
    assert opened.status_code == 302, opened.get_data(as_text=True)[:500]


def test_unknown_user_names_lock_the_same_way(limited_app):
    """A lock-out only for real accounts would itself tell which names exist."""
    client = limited_app.test_client()
    replies = [_login(client, "nobody-here", "guess", address=f"10.1.0.{n}") for n in range(4)]
    assert [reply.status_code for reply in replies] == [401, 401, 401, 429]


def test_login_rate_limit_per_client(limited_app):
    client = limited_app.test_client()
    codes = [_login(client, f"user{n}", "guess").status_code for n in range(9)]
    assert codes == [401] * 8 + [429]
    assert _login(client, "rita", PASSWORD, address="10.9.9.9").status_code == 302


def test_login_checks_a_hash_for_unknown_users(limited_app, monkeypatch):
    """Constant time: an unknown name costs one password hash check, like a wrong password."""
    from werkzeug import security as werkzeug_security
    calls = []
    real = werkzeug_security.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)
    import surveyapp.models
    import surveyapp.security
    monkeypatch.setattr(surveyapp.models, "check_password_hash", counting)
    monkeypatch.setattr(surveyapp.security, "check_password_hash", counting, raising=False)
    client = limited_app.test_client()
    _login(client, "rita", "wrong password")
    _login(client, "no-such-user", "wrong password", address="10.0.0.7")
    assert len(calls) == 2
    assert calls[0].split("$")[0] == calls[1].split("$")[0], "same hash method and cost"


def test_password_reset_is_rate_limited(limited_app):
    client = limited_app.test_client()
    assert _login(client, "ada", PASSWORD).status_code == 302
    rita = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
    codes = [client.post(f"/admin/users/{rita.id}/password",
                         data={f"user{rita.id}-password": f"new password {n}"},
                         environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]


def test_unknown_invitation_tokens_are_rate_limited(limited_app):
    survey = ensure_demo(2, seed=1).survey
    client = limited_app.test_client()
    codes = [client.get(f"/s/{survey.slug}?t=guess{n:04d}",
                        environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code for n in range(6)]
    assert codes == [404] * 5 + [429]
    refused = client.get(f"/s/{survey.slug}?t=guess9999", environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # A known survey link from that client is refused too while the limit holds.
    assert client.get(f"/s/{survey.slug}", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 429
    # Respondents elsewhere are not affected.
    assert client.get(f"/s/{survey.slug}", environ_base={"REMOTE_ADDR": "10.2.0.2"}).status_code == 200


def test_survey_posts_are_limited_per_client_and_per_survey(limited_app):
    survey = ensure_demo(2, seed=1).survey
    first = survey_pages(survey.current_version)[0]
    codes = []
    for n in range(7):
        client = limited_app.test_client()  # a fresh browser each time: no cookie to go by
        codes.append(client.post(f"/s/{survey.slug}", data={"page": "1", "action": "next",
                                                            **page_answers(first)},
                                 environ_base={"REMOTE_ADDR": "10.3.0.1"}).status_code)
    assert codes == [302] * 6 + [429]
    # Many clients on one survey: the per-survey limit (10 a minute) stops them too.
    more = [limited_app.test_client().post(
        f"/s/{survey.slug}", data={"page": "1", "action": "next", **page_answers(first)},
        environ_base={"REMOTE_ADDR": f"10.4.0.{n}"}).status_code for n in range(6)]
    assert more[0] == 302 and more[-1] == 429 and set(more) == {302, 429}
    assert codes.count(302) + more.count(302) <= 10
    stored = db.session.execute(db.select(db.func.count()).select_from(
        db.metadata.tables["response"])).scalar_one()
    assert stored == 2 + codes.count(302) + more.count(302), "a refused post stores nothing"


@pytest.mark.parametrize("trusted_proxies, limited_after", [(0, 8), (1, None)])
def test_rate_limit_key_behind_a_reverse_proxy(trusted_proxies, limited_after):
    """Behind nginx every request comes from the proxy's address: with TRUSTED_PROXIES=1 the
    limit keys on the customer's X-Forwarded-For; with 0 that header is ignored (forgeable)."""
    app = create_app({"RATELIMIT_ENABLED": True, "LOGIN_LOCKOUT_ENABLED": False,
                      "LOGIN_RATE_LIMIT": "8 per minute", "TRUSTED_PROXIES": trusted_proxies})
    with app.app_context():
        db.create_all()
        client = app.test_client()
        codes = [client.post("/auth/login", data={"username": f"user{n}", "password": "guess"},
                             headers={"X-Forwarded-For": f"203.0.113.{n}"},
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code
                 for n in range(10)]
        db.session.remove()
        db.drop_all()
    if limited_after is None:
        assert codes == [401] * 10, "each customer behind the proxy has their own limit"
    else:
        assert codes == [401] * limited_after + [429] * (10 - limited_after)
