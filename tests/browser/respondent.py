"""Answering the survey in the browser as a person does: tapping the visible scale buttons."""
from __future__ import annotations

import random
from pathlib import Path

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services.responses import codebook_of, decode_answers

NEXT = "#survey-form button[name=action][value=next]"
BACK = "#survey-form button[name=action][value=back]"


def page_key(page) -> str:
    return page.locator("#survey-form").get_attribute("data-page")


def page_topic(page) -> str:
    return page.locator("#survey-form").get_attribute("data-topic")


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url}: {overflow}px wider than the screen"


def choose(page, name: str, value: str) -> None:
    """Tap the option of ``name`` with ``value`` by its visible label."""
    group = page.locator(f"#q-{name}")
    radios = group.locator("input[type=radio]")
    values = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
    group.locator(f"label[for='{name}-{values.index(value)}']").click()


def answer_page(page, rng: random.Random, chosen: dict, skip: tuple[str, ...] = ()) -> None:
    """Answer every question on the page at random; record ``{name: stored value}`` in ``chosen``."""
    groups = page.locator("#survey-form fieldset.question:not(.contact)")
    for i in range(groups.count()):
        group = groups.nth(i)
        name = group.get_attribute("id").removeprefix("q-")
        if name in skip:
            continue
        radios = group.locator("input[type=radio]")
        values = [radios.nth(j).get_attribute("value") for j in range(radios.count())]
        optional = group.locator(".req").count() == 0
        if optional and rng.random() < 0.3:
            chosen[name] = None  # an optional question left alone stays missing
            continue
        value = rng.choice(values)
        choose(page, name, value)
        chosen[name] = None if value == "na" else float(value)
    numbers = page.locator("#survey-form input.points")
    if numbers.count():
        parts = allocation(rng, numbers.count(), 100)
        for i, part in enumerate(parts):
            numbers.nth(i).fill(str(part))
            chosen[numbers.nth(i).get_attribute("name")] = float(part)
        assert page.locator(".running-total .sum").inner_text() == "100"


def allocation(rng: random.Random, count: int, total: int) -> list[int]:
    cuts = sorted(rng.sample(range(1, total), count - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def press(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def complete_survey(page, url: str, rng: random.Random, *, artifacts: Path | None = None,
                    prefix: str = "", final: dict | None = None) -> dict:
    """Go through every page from ``url`` to the thank-you page; returns what was chosen."""
    page.goto(url)
    chosen: dict = {}
    shot: set[str] = set()
    if page.locator("#welcome").count():
        # The survey's link opens on the welcome page (time estimate, privacy).
        if artifacts is not None:
            page.screenshot(path=str(artifacts / f"{prefix}00-welcome.png"), full_page=True)
        press(page, "#start")
    while True:
        assert_no_horizontal_scroll(page)
        topic = page_topic(page)
        if artifacts is not None and topic not in shot:
            shot.add(topic)
            page.screenshot(path=str(artifacts / f"{prefix}{len(shot):02d}-{topic}.png"),
                            full_page=True)
        if topic == "final":
            final = final or {}
            if final.get("comment"):
                page.fill("#comment", final["comment"])
            if final.get("email"):
                page.check("#contact_ok")
                page.fill("#email", final["email"])
            press(page, NEXT)
            return chosen
        answer_page(page, rng, chosen)
        press(page, NEXT)


def stored_response(app, context) -> Response:
    """The response saved for the browser ``context`` (found by its client-key cookie)."""
    key = next(c["value"] for c in context.cookies() if c["name"] == "surveyapp_client")
    with app.app_context():
        response = db.session.execute(db.select(Response).where(Response.client_key == key)
                                      ).scalar_one()
        db.session.expunge(response)
        return response


def stored_answers(app, response: Response) -> dict:
    with app.app_context():
        version = db.session.merge(response).version
        return decode_answers(codebook_of(version), response.answers)
