"""Refusals the hostile probe found working, kept as regression tests: CSRF, forged tokens, XSS,
SQL injection, open redirects, cross-user access, and access logs without query strings."""
from __future__ import annotations

import runpy
from urllib.parse import urlsplit
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Response, Survey

ROOT = Path(__file__).resolve().parents[2]



def test_forms_without_csrf_token_are_refused(csrf_app):
    from surveyapp.services.demo import ensure_demo
    survey = ensure_demo(2, seed=1).survey
    client = csrf_app.test_client()
    assert client.post("/auth/login", data={"username": "demo-researcher",
                                            "password": "demo-researcher-2026"}).status_code == 400
    # The survey page refuses in its own form (and shows the page again: test_csrf_survey).
    refused = client.post(f"/s/{survey.slug}", data={"page": "1", "action": "next", "PR_CHANNEL": "1"},
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 200 and "press the button again" in refused.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response).where(
        Response.source == "web")).scalar_one() == 0


def test_forged_invitation_token_stores_nothing(client, seeded_survey):
    assert client.get(f"/s/{seeded_survey.slug}?t=forged-token").status_code == 404
    reply = client.post(f"/s/{seeded_survey.slug}?t=forged-token",
                        data={"page": "1", "action": "next", "PR_CHANNEL": "1", "t": "forged-token"})
    assert reply.status_code == 404
    assert db.session.execute(select(func.count()).select_from(Response).where(
        Response.source == "web")).scalar_one() == 0


def test_script_in_a_title_is_shown_as_text(client, make_user, login):
    make_user("rita")
    login("rita")
    payload = "<script>alert(1)</script>"
    created = client.post("/admin/surveys/new", data={
        "slug": "xss", "title_zh": payload, "title_en": payload, "firm_zh": "银行",
        "firm_en": "Bank", "instruments": ["servqual"]})
    assert created.status_code == 302, created.get_data(as_text=True)[-2000:]
    page = client.get("/admin/").get_data(as_text=True)
    assert payload not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("slug", ["demo-bank' OR '1'='1", "demo-bank\"; DROP TABLE survey; --"])
def test_sql_in_a_slug_is_just_an_unknown_slug(client, seeded_survey, slug):
    assert client.get(f"/s/{slug}").status_code == 404
    assert db.session.execute(select(func.count()).select_from(Survey)).scalar_one() == 1


def test_sql_in_the_user_name_does_not_log_in(client, make_user):
    make_user("rita")
    reply = client.post("/auth/login", data={"username": "rita' OR '1'='1' --", "password": "x"})
    assert reply.status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_does_not_redirect_off_site(client, make_user, target):
    make_user("rita")
    reply = client.post(f"/auth/login?next={target}",
                        data={"username": "rita", "password": "correct horse battery"})
    location = urlsplit(reply.headers["Location"])
    assert reply.status_code == 302 and location.netloc in ("", "localhost"), location


def test_other_researchers_survey_is_refused(client, seeded_survey, make_user, login):
    make_user("mallory")
    login("mallory")
    for url in (f"/admin/surveys/{seeded_survey.slug}", f"/dashboard/{seeded_survey.slug}",
                f"/admin/surveys/{seeded_survey.slug}/export?format=csv"):
        assert client.get(url).status_code in (403, 404), url


def test_access_log_never_records_query_strings():
    """gunicorn's access-log line for a survey link keeps the path, not the ``?t=`` token."""
    from gunicorn.glogging import Logger
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/s/demo-bank?t=SECRET-TOKEN",
               "PATH_INFO": "/s/demo-bank", "QUERY_STRING": "t=SECRET-TOKEN",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": "https://site/s/demo-bank?t=SECRET-TOKEN"}
    logger = Logger.__new__(Logger)
    logger.cfg = SimpleNamespace(access_log_format=settings["access_log_format"])
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]),
                         SimpleNamespace(headers=[]), environ,
                         SimpleNamespace(seconds=0, microseconds=5))
    line = settings["access_log_format"] % atoms
    assert "/s/demo-bank" in line and "SECRET-TOKEN" not in line
