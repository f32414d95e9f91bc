"""A researcher builds a SERVQUAL + KANO survey, previews it, opens it, invites 3 respondents
and downloads the links CSV and every export, in Chromium (desktop size, English)."""
from __future__ import annotations

import csv
import io
import random

import pytest

from surveyapp.extensions import db
from surveyapp.models import Invitation, Survey, SurveyStatus

from .respondent import complete_survey, press

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
SLUG = "browser-study"
KEPT_SERVQUAL_ITEMS = ("SQ01", "SQ05")
KEPT_FEATURES = 2


def test_researcher_builds_previews_opens_invites_and_downloads(
        make_page, live_server, live_app, login_as, artifacts, external_requests, tmp_path):
    page = make_page(locale="en-US", viewport=DESKTOP)
    login_as(page, "researcher")
    page.goto(f"{live_server}/admin/?lang=en")

    # Create: link name, titles, firm, SERVQUAL and KANO.
    page.click("text=New survey")
    page.fill("#slug", SLUG)
    page.fill("#title_zh", "浏览器测试调查")
    page.fill("#title_en", "Browser test study")
    page.fill("#firm_zh", "快乐银行")
    page.fill("#firm_en", "Happy Bank")
    page.check("input[name=instruments][value=servqual]")
    page.check("input[name=instruments][value=kano]")
    press(page, "#submit")
    assert page.url.endswith(f"/admin/surveys/{SLUG}/edit")
    # A new survey has no KANO features; one click takes the bank example as a template.
    assert page.locator("#kano-empty").count() == 1
    press(page, "#use-kano-example")
    assert page.locator("#kano-empty").count() == 0

    # Build: two SERVQUAL statements, side by side; the first two example features, one
    # of them reworded, plus a feature of our own; a target of 3 responses.
    page.click("#instrument-servqual summary")
    items = page.locator("input[name=items_servqual]")
    for i in range(items.count()):
        checkbox = items.nth(i)
        if checkbox.get_attribute("value") not in KEPT_SERVQUAL_ITEMS:
            checkbox.uncheck()
    # New surveys list instruments by id (kano before servqual); ask SERVQUAL first.
    page.fill("#order_servqual", "1")
    page.fill("#order_kano", "2")
    page.check("input[name=servqual_layout][value=side_by_side]")
    page.fill("#target_responses", "3")
    features = page.locator("#instrument-kano .feature")
    example_count = sum(1 for i in range(features.count())
                        if features.nth(i).locator("input[name$='-code']").input_value())
    for n in range(KEPT_FEATURES, example_count):
        for part in ("code", "feature_zh", "feature_en"):
            page.fill(f"#features-{n}-{part}", "")
    page.fill(f"#features-{example_count}-code", "K99")
    page.fill(f"#features-{example_count}-feature_zh", "免费停车")
    page.fill(f"#features-{example_count}-feature_en", "free parking")
    page.click("#feature-1 details summary")
    assert "If Happy Bank offered" in page.get_attribute("#features-0-F_en", "placeholder")
    page.fill("#features-0-F_en", "Suppose Happy Bank texted you before your turn: how would you feel?")
    page.screenshot(path=str(artifacts / "researcher-01-builder.png"), full_page=True)
    press(page, "#submit")
    assert page.locator(".flash.error").count() == 0, page.locator(".flash.error").all_inner_texts()
    with live_app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == SLUG)).scalar_one()
        servqual, kano = survey.design["instruments"]
        assert servqual["items"] == list(KEPT_SERVQUAL_ITEMS)
        assert [f["code"] for f in kano["features"]] == ["K01", "K02", "K99"]
        assert kano["features"][0]["wording"]["F"]["en"].startswith("Suppose Happy Bank")
        assert survey.target_responses == 3

    # Preview: the respondent's pages from the draft; the reworded question shows.
    page.click("nav.sub >> text=Preview")
    assert "never stored" in page.inner_text("main")
    texts = []
    while True:
        texts.append(page.inner_text("main"))
        if page.locator("textarea[name=comment]").count():
            break
        page.goto(f"{live_server}/admin/surveys/{SLUG}/preview?p={len(texts) + 1}")
    assert any("Suppose Happy Bank texted you" in text for text in texts)
    assert any("free parking" in text for text in texts)
    page.screenshot(path=str(artifacts / "researcher-02-preview-final.png"), full_page=True)

    # Open (freezes version 1).
    page.goto(f"{live_server}/admin/surveys/{SLUG}")
    press(page, "button:has-text(\"Open survey\")")
    assert page.inner_text("#survey-status") == "open"
    assert page.locator("#versions tbody tr").count() == 1

    # Invite 3 respondents and download their links.
    page.click("nav.sub >> text=Invitations")
    page.fill("#count", "3")
    press(page, "form[action$='/invitations/generate'] [type=submit]")
    assert page.locator("#invitations tbody tr").count() == 3
    with page.expect_download() as download_info:
        page.click("#download-links")
    links_file = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(links_file)
    raw = links_file.read_bytes()
    assert raw.startswith("\ufeff".encode())
    links = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(links) == 3 and all(row["status"] == "not_started" for row in links)
    assert all(row["link"].startswith(f"{live_server}/s/{SLUG}?t=") for row in links)

    # One invitee answers; the status column follows.
    respondent = make_page(locale="en-US")
    complete_survey(respondent, links[0]["link"], random.Random(6))
    assert respondent.url.endswith(f"/s/{SLUG}/thanks")
    page.reload()
    assert page.locator("#invitations .status-completed").count() == 1
    assert page.locator("#invitations .status-not_started").count() == 2
    page.screenshot(path=str(artifacts / "researcher-03-invitations.png"), full_page=True)

    # Every export the survey page offers downloads a non-empty file.
    page.goto(f"{live_server}/admin/surveys/{SLUG}")
    formats = page.locator("#export-form select[name=format] option")
    values = [formats.nth(i).get_attribute("value") for i in range(formats.count())]
    assert {"csv", "xlsx", "sav", "dta"} <= set(values)
    downloaded = {}
    for value in values:
        page.select_option("#export-form select[name=format]", value)
        with page.expect_download() as download_info:
            page.click("#export-form [type=submit]")
        target = tmp_path / f"{value}-{download_info.value.suggested_filename}"
        download_info.value.save_as(target)
        downloaded[value] = target.stat().st_size
    assert all(size > 0 for size in downloaded.values()), downloaded
    page.screenshot(path=str(artifacts / "researcher-04-overview.png"), full_page=True)

    with live_app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == SLUG)).scalar_one()
        assert survey.status == SurveyStatus.OPEN.value
        assert db.session.execute(db.select(db.func.count(Invitation.id)).where(
            Invitation.survey_id == survey.id)).scalar_one() == 3
    assert external_requests == []
