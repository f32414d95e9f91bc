"""Finding 2: two browsers on one invitation link both got "thank you" and their answers were
merged into one row. Now the first browser to save holds the link; the second is told the link
was already used and nothing it typed is stored; concurrent saves on one response are serialised
(row lock on PostgreSQL, revision compare-and-swap everywhere)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from analysis.instruments import condition_met

from surveyapp.extensions import db
from surveyapp.models import Response, ResponseStatus
from surveyapp.services.demo import ensure_demo
from surveyapp.services.invitations import generate_invitations
from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import codebook_of, decode_answers, submit_response
from tests.survey.helpers import post_page


def _low_answers(page) -> dict[str, str]:
    """Valid answers different from helpers.answer_for: the scale's bottom, the last option,
    all points of a constant sum on its first item."""
    answers = {}
    first_of_sum = True
    for variable in page.variables:
        scale = variable.scale
        if scale["type"] == "rating":
            answers[variable.name] = str(scale["min"])
        elif scale["type"] == "choice":
            answers[variable.name] = str(scale["options"][-1]["value"])
        else:
            answers[variable.name] = str(scale["total"] if first_of_sum else 0)
            first_of_sum = False
    # A question hidden by these answers (display logic) is not on the page a browser posts.
    numbers = {name: float(value) for name, value in answers.items()}
    return {name: value for name, value in answers.items()
            if condition_met(page_variable(page, name).show_if, numbers)}


def page_variable(page, name):
    return next(v for v in page.variables if v.name == name)


def _high_answers(page) -> dict[str, str]:
    from tests.survey.helpers import page_answers
    return page_answers(page)


def _run_browser(app, slug, token, pages, answers_of, results, name, barrier):
    try:
        _browse(app, slug, token, pages, answers_of, results, name, barrier)
    except BaseException as error:  # reported by the test, not lost in the thread
        import traceback
        results[name] = ([], "".join(traceback.format_exception(error)))
        barrier.abort()


def _browse(app, slug, token, pages, answers_of, results, name, barrier):
    client = app.test_client()
    client.get(f"/s/{slug}?t={token}")
    statuses = []
    for number, page in enumerate(pages, start=1):
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass  # the other browser has stopped: go on alone
        data = {} if page.is_final else answers_of(page)
        reply = post_page(client, slug, number, data, token=token)
        statuses.append((reply.status_code, reply.headers.get("Location", "")))
        if reply.status_code != 302 or "/thanks" in reply.headers.get("Location", "") \
                or f"p={number + 1}" not in reply.headers.get("Location", "") and not page.is_final:
            break
    barrier.abort()  # the other browser no longer waits for this one
    page = client.get(f"/s/{slug}?t={token}", headers={"Accept-Language": "en"})
    results[name] = (statuses, page.get_data(as_text=True))


def test_two_browsers_on_one_link_in_step(database_app):
    """Both browsers post each page at the same moment (threads, real database)."""
    survey = ensure_demo(3, seed=1).survey
    token = generate_invitations(survey, 1)[0].token
    pages = survey_pages(survey.current_version)
    results: dict[str, tuple] = {}
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_run_browser, args=(
        database_app, survey.slug, token, pages, answers_of, results, name, barrier))
        for name, answers_of in (("high", _high_answers), ("low", _low_answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    db.session.remove()
    thanked = [name for name, (statuses, _) in results.items()
               if any("/thanks" in location for _, location in statuses)]
    assert len(thanked) == 1, {name: (statuses, page[-3000:]) for name, (statuses, page) in results.items()}
    winner = thanked[0]
    loser = "low" if winner == "high" else "high"
    assert "already" in results[loser][1], results[loser][1][-1500:]
    stored = db.session.execute(select(Response).where(Response.survey_id == survey.id,
                                                       Response.source == "web")).scalars().all()
    assert len(stored) == 1 and stored[0].status == ResponseStatus.COMPLETE.value
    answers = decode_answers(codebook_of(survey.current_version), stored[0].answers)
    expected_of = _high_answers if winner == "high" else _low_answers
    expected = {name: float(value) for page in pages if not page.is_final
                for name, value in expected_of(page).items()}
    assert {name: answers[name] for name in expected} == expected, "answers were mixed"


def test_second_browser_is_refused_after_the_first_saved(client, app, seeded_survey):
    token = generate_invitations(seeded_survey, 1)[0].token
    pages = survey_pages(seeded_survey.current_version)
    assert post_page(client, seeded_survey.slug, 1, _high_answers(pages[0]), token=token).status_code == 302
    other = app.test_client()
    shown = other.get(f"/s/{seeded_survey.slug}?t={token}", headers={"Accept-Language": "en"})
    assert "already" in shown.get_data(as_text=True)
    posted = post_page(other, seeded_survey.slug, 1, _low_answers(pages[0]), token=token)
    assert posted.status_code == 409
    stored = db.session.execute(select(Response).where(Response.invitation_id.is_not(None))).scalar_one()
    db.session.refresh(stored)
    answers = decode_answers(codebook_of(seeded_survey.current_version), stored.answers)
    assert answers["PR_CHANNEL"] == float(_high_answers(pages[0])["PR_CHANNEL"])
    # The first browser goes on as before.
    assert post_page(client, seeded_survey.slug, 2, _high_answers(pages[1]), token=token).status_code == 302
    # Once the first browser was left alone long enough, the link continues elsewhere
    # (the same person on another device), and the first browser is then refused.
    db.session.refresh(stored)
    stored.updated_at -= timedelta(seconds=app.config["INVITATION_HANDOVER_SECONDS"])
    db.session.commit()
    resumed = other.get(f"/s/{seeded_survey.slug}?t={token}").get_data(as_text=True)
    assert f"?t={token}&amp;p=3" in resumed  # the welcome-back page continues at page 3
    assert post_page(other, seeded_survey.slug, 3, _low_answers(pages[2]), token=token).status_code == 302
    assert post_page(client, seeded_survey.slug, 3, _high_answers(pages[2]), token=token).status_code == 409


def test_stale_save_is_refused_and_changes_nothing(seeded_survey):
    """Compare-and-swap: a save based on an old read of the row fails instead of overwriting."""
    version = seeded_survey.current_version
    partial = submit_response(version, {"PR_CHANNEL": 1}, complete=False, client_key="k" * 24)
    assert partial.revision == 1 and partial.status == ResponseStatus.PARTIAL.value
    # This request read the row (revision 1) ...
    db.session.expunge(partial)
    # ... then another request completed it.
    db.session.execute(update(Response).where(Response.id == partial.id).values(
        status=ResponseStatus.COMPLETE.value, revision=Response.revision + 1))
    db.session.commit()
    partial = db.session.merge(partial, load=False)
    with pytest.raises(StaleDataError):
        submit_response(version, {"PR_CHANNEL": 2}, response=partial, complete=False)
    db.session.expire_all()
    row = db.session.get(Response, partial.id)
    assert row.status == ResponseStatus.COMPLETE.value
    assert decode_answers(codebook_of(version), row.answers)["PR_CHANNEL"] == 1.0
    assert db.session.execute(select(func.count()).select_from(Response).where(
        Response.client_key == "k" * 24)).scalar_one() == 1


def test_stale_page_save_is_refused_and_changes_nothing(seeded_survey):
    """The answer path's UPDATE (save_unfinished_page) is the same compare-and-swap: a save
    based on an old read fails, and a page save never reopens a completed response."""
    from surveyapp.services.responses import save_unfinished_page
    from surveyapp.survey.flow import _RESPONSE_COLUMNS

    version = seeded_survey.current_version
    partial = submit_response(version, {"PR_CHANNEL": 1}, complete=False, client_key="p" * 24)
    read = db.session.execute(select(*_RESPONSE_COLUMNS).where(Response.id == partial.id)).one()
    # Another tab saved a page after this request read the row.
    assert save_unfinished_page(version, {"PR_CHANNEL": 3}, response=read, language="en",
                                page=1) == partial.id
    with pytest.raises(StaleDataError):
        save_unfinished_page(version, {"PR_CHANNEL": 2}, response=read, language="en", page=1)
    db.session.expire_all()
    assert decode_answers(codebook_of(version), db.session.get(Response, partial.id).answers
                          )["PR_CHANNEL"] == 3.0
    # Completed meanwhile (same revision number, as a hand-made UPDATE could leave it).
    fresh = db.session.execute(select(*_RESPONSE_COLUMNS).where(Response.id == partial.id)).one()
    db.session.execute(update(Response).where(Response.id == partial.id).values(
        status=ResponseStatus.COMPLETE.value))
    db.session.commit()
    with pytest.raises(StaleDataError):
        save_unfinished_page(version, {"PR_CHANNEL": 2}, response=fresh, language="en", page=1)
    db.session.expire_all()
    assert decode_answers(codebook_of(version), db.session.get(Response, partial.id).answers
                          )["PR_CHANNEL"] == 3.0
