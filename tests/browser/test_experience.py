"""Issue 11 in the browser: welcome page and time estimate, KANO pages, display logic with the
stored "not asked", role homes; phone and desktop, zh and en; axe on every new page type."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from surveyapp.extensions import db
from surveyapp.models import Response, Survey
from surveyapp.services.demo import DEMO_SLUG
from surveyapp.services.pages import KANO_FEATURES_PER_PAGE
from surveyapp.services.responses import codebook_of, not_asked_in
from surveyapp.services.welcome import estimated_minutes

from .respondent import NEXT, assert_no_horizontal_scroll, choose, page_topic, press

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "wcag22aa", "best-practice"]}}
MOBILE_APP = "3"


def _axe_violations(page) -> list[str]:
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']}: {v['help']} {v['nodes'][0]['target']}" for v in found]


def _answer_visible(page) -> None:
    """Pick the first option of every question on the page; fill allocations evenly."""
    groups = page.locator("#survey-form fieldset.question:not(.contact)")
    for i in range(groups.count()):
        name = groups.nth(i).get_attribute("id").removeprefix("q-")
        value = groups.nth(i).locator("input[type=radio]").first.get_attribute("value")
        choose(page, name, value)
    numbers = page.locator("#survey-form input.points")
    for i in range(numbers.count()):
        numbers.nth(i).fill(str(100 // numbers.count() + (100 % numbers.count() if i == 0 else 0)))


@pytest.mark.parametrize("locale, viewport, tag", [
    ("zh-CN", PHONE, "zh-phone"), ("en-US", DESKTOP, "en-desktop")])
def test_welcome_kano_pages_and_display_logic(make_page, live_server, live_app, artifacts,
                                              external_requests, locale, viewport, tag):
    page = make_page(locale=locale, viewport=viewport)
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    with live_app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        minutes = estimated_minutes(codebook_of(survey.current_version))
    welcome = page.inner_text("#welcome")
    assert (f"约 {minutes} 分钟" if locale == "zh-CN" else f"About {minutes} minutes") in welcome
    assert page.locator("#privacy-title").count() == 1
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"experience-{tag}-01-welcome.png"), full_page=True)
    assert _axe_violations(page) == []
    press(page, "#start")

    # Page 1 asks only the channel; the app user is never asked which branch.
    assert page.locator("input[name=PR_CHANNEL]").count() > 0
    assert page.locator("input[name=PR_BRANCH]").count() == 0
    choose(page, "PR_CHANNEL", MOBILE_APP)
    press(page, NEXT)
    assert page.locator("input[name=PR_BRANCH]").count() == 0
    page.screenshot(path=str(artifacts / f"experience-{tag}-02-no-branch.png"), full_page=True)

    kano_pages = 0
    while page_topic(page) != "final":
        if page_topic(page) == "kano":
            kano_pages += 1
            features = page.locator("#survey-form .pair").count()
            assert 1 <= features <= KANO_FEATURES_PER_PAGE
            height = page.evaluate("document.documentElement.scrollHeight")
            if kano_pages == 1:
                page.screenshot(path=str(artifacts / f"experience-{tag}-03-kano.png"), full_page=True)
                assert _axe_violations(page) == []
                print(f"{tag}: KANO page {height}px high with {features} features")
            assert_no_horizontal_scroll(page)
        _answer_visible(page)
        press(page, NEXT)
    assert kano_pages >= 4
    press(page, NEXT)
    assert page.url.endswith("/thanks")
    with live_app.app_context():
        stored = db.session.execute(db.select(Response).where(
            Response.survey_id == survey.id, Response.source == "web")
            .order_by(Response.id.desc())).scalars().first()
        assert not_asked_in(codebook_of(stored.version), stored.answers) == {"PR_BRANCH"}
    assert external_requests == []


@pytest.mark.parametrize("role, locale, viewport", [
    ("researcher", "en-US", DESKTOP), ("manager", "zh-CN", PHONE)])
def test_role_homes_and_their_links(make_page, live_server, login_as, artifacts, role, locale, viewport):
    page = make_page(locale=locale, viewport=viewport)
    login_as(page, role)
    page.goto(f"{live_server}/")
    home = page.locator("#home")
    assert home.get_attribute("data-role") == role
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"experience-home-{role}.png"), full_page=True)
    assert _axe_violations(page) == []
    links = [a.get_attribute("href") for a in page.locator("#home-demo-bank a").all()]
    assert f"/dashboard/{DEMO_SLUG}" in links
    if role == "researcher":
        assert f"/admin/surveys/{DEMO_SLUG}/edit" in links
        page.goto(f"{live_server}/admin/surveys/{DEMO_SLUG}/invitations")
        assert page.locator("nav.breadcrumbs li").count() == 4
        # Headers keep whole words: each header is one line high.
        heights = page.evaluate("[...document.querySelectorAll('#invitations th')].map(t => t.getBoundingClientRect().height)") \
            if page.locator("#invitations").count() else []
        assert all(h < 40 for h in heights)
        assert _axe_violations(page) == []
    else:
        assert not any(link.startswith("/admin/") for link in links)
        page.goto(f"{live_server}/dashboard/")
        assert page.locator(f"#dashboards a[href='/dashboard/{DEMO_SLUG}']").count() == 1
        page.screenshot(path=str(artifacts / "experience-dashboards-list.png"), full_page=True)
        assert _axe_violations(page) == []
