"""Finding 6: no CSP, frame-ancestors / X-Frame-Options, nosniff or Referrer-Policy; admin pages
could be framed. Every response now carries them; HSTS only in production; no inline script."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveyapp import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "surveyapp" / "templates"


def _check(reply):
    csp = reply.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives.get("frame-ancestors") == "'none'", csp
    assert directives.get("script-src") == "'self'", "no inline script, no eval"
    assert directives.get("object-src") == "'none'" and directives.get("default-src") == "'self'"
    assert reply.headers.get("X-Frame-Options") == "DENY"
    assert reply.headers.get("X-Content-Type-Options") == "nosniff"
    assert reply.headers.get("Referrer-Policy") in ("same-origin", "no-referrer")


def test_every_kind_of_page_has_the_headers(client, seeded_survey, login):
    for url in ("/", "/auth/login", f"/s/{seeded_survey.slug}", "/no-such-page"):
        _check(client.get(url))
    login("demo-researcher", "demo-researcher-2026")
    for url in ("/admin/", f"/admin/surveys/{seeded_survey.slug}", f"/dashboard/{seeded_survey.slug}"):
        reply = client.get(url)
        assert reply.status_code == 200, url
        _check(reply)
        assert "Strict-Transport-Security" not in reply.headers


def test_hsts_only_in_production(monkeypatch):
    from config import ProductionConfig
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app(ProductionConfig)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    reply = app.test_client().get("/auth/login", base_url="https://localhost")
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script(template):
    html = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: {tag}"
    assert not re.search(r"\son[a-z]+\s*=", html), f"{template.name}: inline event handler"
    assert "javascript:" not in html
