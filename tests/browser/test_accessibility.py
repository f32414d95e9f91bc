"""axe-core (bundled with axe-playwright-python, no network) on every respondent page type.

Fails on serious or critical violations; all findings are written to
tests/artifacts/axe-report.txt for a person to read.
"""
from __future__ import annotations

import random

import pytest
from axe_playwright_python.sync_playwright import Axe

from surveyapp.extensions import db
from surveyapp.models import Survey, User
from surveyapp.services.demo import DEMO_SLUG, DEMO_USERS, demo_design
from surveyapp.services.surveys import close_survey, create_survey, open_survey

from .respondent import (NEXT, answer_page, assert_no_horizontal_scroll, page_topic, press)

pytestmark = pytest.mark.browser
BLOCKING = {"serious", "critical"}
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "wcag22aa", "best-practice"]}}


@pytest.fixture(scope="module")
def extra_surveys(live_app):
    """A side-by-side SERVQUAL survey (open) and a closed one, next to the demo."""
    with live_app.app_context():
        owner = db.session.execute(db.select(User).where(
            User.username == DEMO_USERS[next(iter(DEMO_USERS))][0])).scalar_one()
        slugs = {}
        for slug, layout, closed in (("a11y-side-by-side", "side_by_side", False),
                                     ("a11y-closed", "blocks", True)):
            survey = db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
            if survey is None:
                design = demo_design()
                design["servqual_layout"] = layout
                design["instruments"] = [{"id": "profile"}, {"id": "servqual"}]
                survey = create_survey(owner, slug, "无障碍检查", "Accessibility check", design)
                open_survey(survey)
                if closed:
                    close_survey(survey)
            slugs[layout if not closed else "closed"] = slug
        db.session.remove()
    return slugs


def _violations(page, label: str, report: list[str]) -> list[dict]:
    results = Axe().run(page, options=AXE_OPTIONS)
    found = results.response["violations"]
    for violation in found:
        report.append(f"{label}: [{violation['impact']}] {violation['id']}: {violation['help']} "
                      f"({len(violation['nodes'])} nodes) e.g. {violation['nodes'][0]['target']}")
    return [v for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_no_serious_axe_violations_on_any_page_type(make_page, live_server, extra_surveys,
                                                    artifacts, locale):
    page = make_page(locale=locale)
    report: list[str] = []
    blocking: dict[str, list[str]] = {}

    def check(label: str) -> None:
        assert_no_horizontal_scroll(page)
        found = _violations(page, label, report)
        if found:
            blocking[label] = [v["id"] for v in found]

    # Every page type of the demo: the welcome page, the error state on the first question
    # page, each question page, the thank-you page.
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    check("welcome")
    page.goto(f"{live_server}/s/{DEMO_SLUG}?p=1")
    press(page, NEXT)
    check("error state")
    rng = random.Random(5)
    seen = set()
    while True:
        topic = page_topic(page)
        if topic not in seen:
            seen.add(topic)
            check(topic)
        if topic == "final":
            press(page, NEXT)
            break
        answer_page(page, rng, {})
        press(page, NEXT)
    check("thanks")
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    check("already answered")
    page.goto(f"{live_server}/s/{DEMO_SLUG}?t=no-such-token")
    check("unknown link")
    page.goto(f"{live_server}/s/{extra_surveys['closed']}")
    check("closed")
    page.screenshot(path=str(artifacts / f"respondent-{locale[:2]}-closed.png"), full_page=True)
    page.goto(f"{live_server}/s/{extra_surveys['side_by_side']}?p=1")
    answer_page(page, rng, {})
    press(page, NEXT)
    check("E and P side by side")
    page.screenshot(path=str(artifacts / f"respondent-{locale[:2]}-side-by-side.png"), full_page=True)

    (artifacts / f"axe-report-{locale}.txt").write_text(
        "\n".join(report) or "no violations", encoding="utf-8")
    assert len(seen) >= 8, seen
    assert blocking == {}, "\n".join(report)


def test_axe_catches_a_planted_violation(page):
    """The check above can fail: an unlabelled input on a page without a language is reported."""
    page.set_content("<html><body><main><input type='text'></main></body></html>")
    report: list[str] = []
    blocking = _violations(page, "planted", report)
    assert "label" in {v["id"] for v in blocking}, report
