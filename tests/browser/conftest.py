"""Shared browser-test infrastructure: a live server and Debian's Chromium via Playwright.

The live server is the real app (CSRF on, like production) on a temp-file
SQLite database seeded with the demo survey, served by werkzeug in a daemon
thread on a free port. Every browser context blocks requests that leave
127.0.0.1 and records them in ``external_requests``, so a page that needs the
internet shows up in the tests instead of on a customer's phone.

Fixtures: ``live_server`` (base URL), ``live_app`` (the Flask app behind it,
for reading the database in an app context), ``browser`` (session-wide
Chromium), ``make_page`` (a new context + page with a locale/viewport),
``page`` (one phone-sized page, ``zh-CN`` unless parametrized indirectly with
``{"locale": ..., "viewport": ...}``), ``external_requests``, ``artifacts``
(``tests/artifacts/``, not committed) and ``login_as``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.services.demo import DEMO_USERS, ensure_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE_VIEWPORT = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    database = tmp_path_factory.mktemp("live") / "live.sqlite"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        # The browser meets the app as customers do: with CSRF protection on.
        "WTF_CSRF_ENABLED": True,
        "TESTING": False,
    })
    with app.app_context():
        db.create_all()
        ensure_demo(app.config["DEMO_RESPONSES"], seed=7)
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def external_requests() -> list[str]:
    """URLs the pages of this test tried to fetch from anywhere but the live server."""
    return []


@pytest.fixture
def make_page(browser, external_requests) -> Iterator[Callable]:
    """``make_page(locale="zh-CN", viewport=PHONE_VIEWPORT)`` → a page in a fresh context.

    Contexts are closed after the test. Pass ``storage_state`` to carry
    cookies over from an earlier context (e.g. to come back after closing).
    """
    contexts = []

    def block_external(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            external_requests.append(route.request.url)
            route.abort()

    def make(locale: str = "zh-CN", viewport: dict | None = None, **context_options):
        context = browser.new_context(locale=locale, viewport=viewport or PHONE_VIEWPORT,
                                      **context_options)
        context.route("**/*", block_external)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(request, make_page):
    options = getattr(request, "param", None) or {}
    return make_page(**options)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go for a person to look at (``tests/artifacts/``, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def login_as(live_server) -> Callable:
    """``login_as(page, "researcher" | "manager")`` logs ``page`` in as that demo user."""
    credentials = {role.value: pair for role, pair in DEMO_USERS.items()}

    def do_login(page, role: str = "researcher") -> None:
        if role not in credentials:
            raise ValueError(f"no demo user for role {role!r}; choose {', '.join(credentials)}")
        username, password = credentials[role]
        page.goto(f"{live_server}/auth/login")
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("form [type=submit]")
        if "/auth/login" in page.url:
            raise RuntimeError(f"logging in as {username} failed: still on {page.url}")

    return do_login

