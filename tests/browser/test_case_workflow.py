"""The recovery loop end to end in Chromium, as the people in it do it.

A customer answers the demo survey unhappy (overall satisfaction 2/10) with a
complaint and agrees to be contacted → a case opens (the test config runs the
job queue immediately) and the manager is alerted → the manager opens it from
the alerts list, assigns it, adds a note, marks the customer contacted,
resolves it with a root cause and the action taken → the customer answers the
re-survey link → the recovery page counts one more answered re-survey and its
before/after chart includes it. On a phone in Chinese and a laptop in English;
axe-core finds no violation (any impact) on the manager's and the customer's
pages; screenshots in tests/artifacts/.
"""
from __future__ import annotations

import random

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Case, User
from surveyapp.services.demo import DEMO_SLUG, DEMO_USERS
from surveyapp.models import Role

from .conftest import PHONE_VIEWPORT
from .respondent import NEXT, answer_page, assert_no_horizontal_scroll, choose, page_topic, press, stored_response
from .test_accessibility import AXE_OPTIONS

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
COMPLAINT = {
    "zh": "排队等了一个多小时，柜员态度很差，问题也没解决，非常失望，我要投诉。",
    "en": "I queued for over an hour, the teller was rude and my problem was not solved. "
          "Very disappointed, I want to complain.",
}
RECOVERY_COMMENT = {"zh": "经理亲自打电话道歉并解决了问题，谢谢。",
                    "en": "The manager called, apologised and fixed it. Thank you."}


def _axe(page, label: str, report: list[str]) -> None:
    """Record every axe violation of the page (any impact) under ``label``."""
    assert_no_horizontal_scroll(page)
    for violation in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
        report.append(f"{label}: [{violation['impact']}] {violation['id']}: {violation['help']} "
                      f"e.g. {violation['nodes'][0]['target']}")


def _answer_unhappy(page, url: str, lang: str, email: str) -> None:
    """Answer every page at random except overall satisfaction (2 of 10); complain; leave an e-mail."""
    page.goto(url)
    if page.locator("#welcome").count():
        press(page, "#start")
    rng = random.Random(12)
    while page_topic(page) != "final":
        answer_page(page, rng, {}, skip=("OVS1",))
        if page.locator("#q-OVS1").count():
            choose(page, "OVS1", "2")
        press(page, NEXT)
    page.fill("#comment", COMPLAINT[lang])
    page.check("#contact_ok")
    page.fill("#email", email)
    press(page, NEXT)


def _recovery_numbers(page) -> tuple[int, int]:
    """(re-surveys answered, points under the chart's 'after' bar) as the recovery page shows them."""
    page.wait_for_selector("#before-after .main-svg")
    return (int(page.locator("#r-answered").inner_text()),
            int(page.locator("#before-after").get_attribute("data-n")))


@pytest.mark.parametrize("locale,viewport", [("zh-CN", PHONE_VIEWPORT), ("en-US", LAPTOP)],
                         ids=["zh-phone", "en-laptop"])
def test_case_from_complaint_to_recovery(make_page, live_server, live_app, login_as, artifacts,
                                         external_requests, locale, viewport):
    lang = locale[:2]
    shot = lambda page, name: page.screenshot(  # noqa: E731
        path=str(artifacts / f"case-{lang}-{name}.png"), full_page=True)
    report: list[str] = []

    # The manager's recovery figures before.
    manager = make_page(locale=locale, viewport=viewport)
    login_as(manager, "manager")
    manager.goto(f"{live_server}/cases/{DEMO_SLUG}/recovery?lang={lang}")
    answered_before, n_before = _recovery_numbers(manager)

    # 1. The customer complains.
    customer = make_page(locale=locale, viewport=viewport)
    _answer_unhappy(customer, f"{live_server}/s/{DEMO_SLUG}?lang={lang}", lang, f"customer-{lang}@example.com")
    response = stored_response(live_app, customer.context)
    with live_app.app_context():
        case = db.session.execute(select(Case).where(Case.response_id == response.id)).scalar_one()
        case_id, first_owner = case.id, case.owner.username if case.owner else None
        researcher = db.session.execute(select(User).where(
            User.username == DEMO_USERS[Role.RESEARCHER][0])).scalar_one()
        researcher_id = researcher.id
        db.session.remove()

    # 2. The manager is alerted and opens the case from the alerts list.
    manager.goto(f"{live_server}/inbox/?lang={lang}")
    assert manager.locator("#alerts-badge .badge").count() == 1
    alert = manager.locator(f"#inbox li[data-event='case.opened']:has-text('#{case_id}:')")
    assert alert.count() == 1
    _axe(manager, "alerts", report)
    with manager.expect_navigation():
        alert.locator("button").click()
    assert manager.url.endswith(f"/cases/case/{case_id}")
    assert manager.locator("#case").get_attribute("data-status") == "open"
    assert COMPLAINT[lang] in manager.locator("#case-comment").inner_text()
    emotion = manager.locator("#case-emotion").inner_text()
    assert "negative" in emotion and ("anger" in emotion or "disappointment" in emotion)
    assert f"customer-{lang}@example.com" in manager.locator("#case-contact").inner_text()
    shot(manager, "1-opened")
    _axe(manager, "case opened", report)

    # 3. Assign, note, contacted, resolve with root cause and action.
    manager.select_option("#assign-form select", str(researcher_id))
    press(manager, "#assign-form button")
    assert manager.locator("#case-owner").inner_text() == DEMO_USERS[Role.RESEARCHER][0]
    note = "已致电客户，约定明天回访" if lang == "zh" else "Called the customer, calling back tomorrow"
    manager.fill("#note-form textarea", note)
    press(manager, "#note-form button")
    manager.select_option("#status-form select", "contacted")
    press(manager, "#status-form button")
    assert manager.locator("#case").get_attribute("data-status") == "contacted"
    shot(manager, "2-contacted")
    # Resolving without the action taken is refused (the browser keeps the form); with it, it closes.
    manager.select_option("#resolve-form select[name='resolve-root_cause']", "waiting_time")
    manager.click("#resolve-form button")
    assert manager.locator("#resolve-form textarea").evaluate("el => el.validity.valueMissing")
    assert manager.locator("#case").get_attribute("data-status") == "contacted"
    manager.select_option("#resolve-form select[name='resolve-root_cause']", "waiting_time")
    manager.fill("#resolve-form textarea", "Opened a second counter at peak hours; apologised by phone.")
    press(manager, "#resolve-form button")
    assert manager.locator("#case").get_attribute("data-status") == "resolved"
    history = [manager.locator("#case-history li").nth(i).get_attribute("data-kind")
               for i in range(manager.locator("#case-history li").count())]
    assert history[:1] == ["opened"] and {"owner", "note", "status", "resolved"} <= set(history)
    assert note in manager.locator("#case-history").inner_text()
    resurvey_url = manager.locator("#resurvey-link").get_attribute("href")
    shot(manager, "3-resolved")
    _axe(manager, "case resolved", report)

    # 4. The customer answers the re-survey (a fresh browser, no login).
    customer = make_page(locale=locale, viewport=viewport)
    customer.goto(resurvey_url)
    _axe(customer, "re-survey", report)
    shot(customer, "4-resurvey")
    customer.select_option("#satisfaction", "9")
    customer.fill("#comment", RECOVERY_COMMENT[lang])
    press(customer, "#resurvey-form button[type=submit]")
    _axe(customer, "re-survey answered", report)
    customer.goto(resurvey_url)  # answered once only
    assert customer.locator("#resurvey-form").count() == 0

    # 5. The recovery figures count it.
    manager.goto(f"{live_server}/cases/case/{case_id}?lang={lang}")
    assert "9/10" in manager.locator("#case-recovery").inner_text()
    manager.goto(f"{live_server}/cases/{DEMO_SLUG}/recovery?lang={lang}")
    answered_after, n_after = _recovery_numbers(manager)
    assert (answered_after, n_after) == (answered_before + 1, n_before + 1)
    bars = manager.evaluate("() => Array.from(document.getElementById('before-after').data[0].y)")
    assert len(bars) == 2 and bars[1] > bars[0]  # recovered customers are more satisfied after
    shot(manager, "5-recovery")
    _axe(manager, "recovery", report)

    (artifacts / f"axe-report-cases-{lang}.txt").write_text("\n".join(report) or "no violations",
                                                            encoding="utf-8")
    assert report == []
    assert external_requests == []
    assert first_owner == DEMO_USERS[Role.MANAGER][0]  # round robin: the survey's one manager
