"""The Content-Security-Policy (surveyapp.security) breaks nothing: Chromium reports no
violation and no script error on the dashboard (plotly) and on a survey page."""
from __future__ import annotations

import pytest

from surveyapp.services.demo import DEMO_SLUG

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" or "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_dashboard_draws_under_the_policy(make_page, live_server, login_as):
    page = make_page(locale="en-US", viewport=DESKTOP)
    problems = _watch(page)
    login_as(page, "manager")
    reply = page.goto(f"{live_server}/dashboard/{DEMO_SLUG}?lang=en")
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=120_000)
    assert page.locator("[data-plot][data-drawn=true]").count() >= 10
    assert problems == []


def test_survey_page_runs_its_script_under_the_policy(make_page, live_server):
    page = make_page(locale="en-US")
    problems = _watch(page)
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    page.wait_for_load_state("load")
    assert page.locator("form").count() >= 1
    assert problems == []
