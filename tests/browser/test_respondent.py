"""A customer answers the demo survey in Chromium at phone size (390x844), in zh and en."""
from __future__ import annotations

import random

import pytest

from surveyapp.models import ResponseStatus
from surveyapp.services.demo import DEMO_SLUG

from .respondent import (BACK, NEXT, answer_page, assert_no_horizontal_scroll, choose,
                         complete_survey, page_key, press, stored_answers, stored_response)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale, lang, thanks", [("zh-CN", "zh", "谢谢您"), ("en-US", "en", "Thank you")])
def test_customer_completes_demo_survey(make_page, live_server, live_app, artifacts,
                                        external_requests, locale, lang, thanks):
    page = make_page(locale=locale)
    chosen = complete_survey(page, f"{live_server}/s/{DEMO_SLUG}", random.Random(lang),
                             artifacts=artifacts, prefix=f"respondent-{lang}-",
                             final={"comment": "服务很好" if lang == "zh" else "Friendly staff",
                                    "email": f"{lang}@example.com"})
    assert page.url.endswith(f"/s/{DEMO_SLUG}/thanks")
    assert page.locator("h1").inner_text() == thanks
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    page.screenshot(path=str(artifacts / f"respondent-{lang}-99-thanks.png"), full_page=True)
    assert external_requests == []

    response = stored_response(live_app, page.context)
    assert response.status == ResponseStatus.COMPLETE.value
    assert response.language == lang
    assert response.duration_seconds is not None and response.duration_seconds > 0
    answers = stored_answers(live_app, response)
    assert set(answers) == set(chosen), set(answers) ^ set(chosen)
    assert answers == chosen

    # The same browser again: "already answered", the first answers kept.
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    assert page.locator(".notice").count() == 1
    assert stored_answers(live_app, stored_response(live_app, page.context)) == chosen


def test_skipped_required_item_shows_error_next_to_it_and_keeps_answers(page, live_server, artifacts):
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    press(page, "#start")  # from the welcome page to the first questions
    # A customer of the branch counter (PR_CHANNEL 1) is asked which branch on the next page.
    choose(page, "PR_CHANNEL", "1")
    press(page, NEXT)
    chosen: dict = {}
    answer_page(page, random.Random(3), chosen, skip=("PR_BRANCH",))
    first_key = page_key(page)
    press(page, NEXT)
    assert page_key(page) == first_key
    error = page.locator("#q-PR_BRANCH .error")
    assert error.is_visible() and error.get_attribute("id") == "PR_BRANCH-error"
    assert page.locator("#q-PR_BRANCH").get_attribute("aria-describedby") == "PR_BRANCH-error"
    # The summary at the top links to the question and has the focus.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary a[href='#q-PR_BRANCH']").count() == 1
    for name, value in chosen.items():
        radios = page.locator(f"#q-{name} input[type=radio]")
        checked = [radios.nth(i).get_attribute("value") for i in range(radios.count())
                   if radios.nth(i).is_checked()]
        assert checked == [str(int(value))], name
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "respondent-zh-error.png"), full_page=True)
    choose(page, "PR_BRANCH", "2")
    press(page, NEXT)
    assert page_key(page) != first_key


def test_close_midway_and_resume_after_browser_restart(make_page, live_server, live_app):
    url = f"{live_server}/s/{DEMO_SLUG}"
    page = make_page(locale="en-US")
    page.goto(url)
    press(page, "#start")
    rng = random.Random(11)
    chosen: dict = {}
    keys = []
    for _ in range(3):
        keys.append(page_key(page))
        answer_page(page, rng, chosen)
        press(page, NEXT)
    fourth = page_key(page)
    partial = stored_response(live_app, page.context)
    assert partial.status == ResponseStatus.PARTIAL.value and partial.page == 3
    assert {k: v for k, v in stored_answers(live_app, partial).items() if k in chosen} == chosen

    # Closing the browser drops session cookies; the long-lived resume cookie stays.
    state = page.context.storage_state()
    state["cookies"] = [c for c in state["cookies"] if c.get("expires", -1) > 0]
    assert [c["name"] for c in state["cookies"]] == ["surveyapp_client"]
    page.context.close()

    again = make_page(locale="en-US", storage_state=state)
    again.goto(url)
    # Welcome back: the notice says where the respondent was, and Continue goes there.
    assert "You were on page 4" in again.locator("#welcome").inner_text()
    press(again, "#start")
    assert page_key(again) == fourth
    assert "Page 4 of" in again.locator("#progress-text").inner_text()
    press(again, BACK)
    assert page_key(again) == keys[2]
    for name, value in chosen.items():
        if name.startswith("q-") or value is None:
            continue
        radio = again.locator(f"#q-{name} input[type=radio][value='{int(value)}']")
        if radio.count():
            assert radio.is_checked(), name


def test_phone_width_360_has_no_horizontal_scroll(make_page, live_server):
    page = make_page(locale="zh-CN", viewport={"width": 360, "height": 740})
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    assert_no_horizontal_scroll(page)  # the welcome page
    press(page, "#start")
    assert_no_horizontal_scroll(page)
    # Tap targets of the scale are at least 44 px high.
    box = page.locator("#survey-form .option").first.bounding_box()
    assert box["height"] >= 44
