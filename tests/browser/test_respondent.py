"""A customer answers the demo survey in a real browser (Chromium, phone viewport)."""
import pytest

from surveyapp.services.demo import DEMO_SLUG


@pytest.mark.browser
def test_survey_opens_on_a_phone_without_external_requests(page, live_server, external_requests):
    page.goto(f"{live_server}/s/{DEMO_SLUG}")
    assert page.locator("h1").count() == 1
    assert external_requests == []


@pytest.mark.browser
def test_login_helper_logs_in(page, login_as):
    login_as(page, "manager")
    assert "demo-manager" in page.content()
