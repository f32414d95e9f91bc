"""The respondent's paged survey: saving, resuming, refusing bad input, closing pages."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from surveyapp.models import Contact, Invitation, Response, ResponseStatus
from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import (codebook_of, decode_answers, not_applicable_in,
                                          not_asked_in, responses_frame)
from surveyapp.services.surveys import close_survey

from .helpers import answer_for, complete_survey, page_answers, post_page


def _input_tag(html: str, element_id: str) -> str:
    return re.search(rf'<input[^>]*id="{element_id}"[^>]*>', html).group(0)


def _count(db, *where):
    return db.session.execute(select(func.count(Response.id)).where(*where)).scalar_one()


def _only_response(db, survey, *where):
    return db.session.execute(select(Response).where(
        Response.survey_id == survey.id, Response.source == "web", *where)).scalar_one()


def test_first_page_shows_progress_and_profile_questions(client, seeded_survey):
    page = client.get(f"/s/{seeded_survey.slug}?p=1", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    count = len(survey_pages(seeded_survey.current_version))
    assert f"Page 1 of {count}" in html
    assert 'name="PR_CHANNEL"' in html and "SQ01_E" not in html
    assert "surveyapp_client=" in page.headers["Set-Cookie"]


def test_language_follows_browser_and_switch(client, seeded_survey):
    zh = client.get(f"/s/{seeded_survey.slug}?p=1", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "第 1 页" in zh.get_data(as_text=True)
    en = client.get(f"/s/{seeded_survey.slug}?p=1&lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Page 1 of" in en.get_data(as_text=True)


def test_complete_survey_stores_exactly_the_answers(client, db, seeded_survey):
    before = len(responses_frame(seeded_survey))
    last = complete_survey(client, seeded_survey, final={"comment": "  Friendly staff  "})
    assert last.headers["Location"].endswith(f"/s/{seeded_survey.slug}/thanks")
    frame = responses_frame(seeded_survey)
    assert len(frame) == before + 1
    stored = _only_response(db, seeded_survey)
    assert stored.status == ResponseStatus.COMPLETE.value
    assert stored.comment == "Friendly staff"
    assert stored.contact is None
    assert stored.duration_seconds is not None and stored.duration_seconds >= 0
    row = frame[frame["response_id"] == stored.id].iloc[0]
    for variable in codebook_of(seeded_survey.current_version):
        assert row[variable.name] == float(answer_for(variable)), variable.name


def test_each_page_is_saved_when_left_and_resumed_by_cookie(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    client.get(f"/s/{seeded_survey.slug}")
    assert post_page(client, seeded_survey.slug, 1, page_answers(pages[0])).status_code == 302
    assert post_page(client, seeded_survey.slug, 2, page_answers(pages[1])).status_code == 302
    partial = _only_response(db, seeded_survey)
    assert partial.status == ResponseStatus.PARTIAL.value and partial.page == 2
    answers = decode_answers(codebook_of(seeded_survey.current_version), partial.answers)
    second = pages[1].variables[0]
    assert answers["PR_CHANNEL"] == 1.0 and answers[second.name] == float(answer_for(second))
    assert answers[pages[2].variables[0].name] is None
    # Coming back later with the same browser (the client-key cookie) resumes at page 3.
    again = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    count = len(pages)
    assert f"You were on page 3 of {count}" in again.get_data(as_text=True)
    assert 'name="page" value="3"' in client.get(f"/s/{seeded_survey.slug}?p=3").get_data(as_text=True)
    # Back to page 1 shows the stored answer checked.
    first = client.get(f"/s/{seeded_survey.slug}?p=1").get_data(as_text=True)
    assert "checked" in _input_tag(first, "PR_CHANNEL-0")
    assert "checked" not in _input_tag(first, "PR_CHANNEL-1")


def test_pages_not_reached_cannot_be_opened_or_posted(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    assert client.get(f"/s/{seeded_survey.slug}?p=5").status_code == 302
    final = post_page(client, seeded_survey.slug, len(pages), {})
    assert final.status_code == 302 and "p=1" in final.headers["Location"]
    assert _count(db, Response.source == "web") == 0


def test_back_keeps_answers_without_requiring_them_and_next_requires_them(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    post_page(client, seeded_survey.slug, 1, page_answers(pages[0]))
    half = dict(list(page_answers(pages[1]).items())[:3])
    back = post_page(client, seeded_survey.slug, 2, half, action="back")
    assert back.status_code == 302 and "p=1" in back.headers["Location"]
    stored = _only_response(db, seeded_survey)
    answers = decode_answers(codebook_of(seeded_survey.current_version), stored.answers)
    assert all(answers[name] == float(value) for name, value in half.items())
    # Page 2 is incomplete now, so it must be passed again before page 3 opens.
    assert stored.page == 1
    blocked = post_page(client, seeded_survey.slug, 2, {}, action="next")
    assert blocked.status_code == 200
    assert "Please answer this question." in blocked.get_data(as_text=True)


def test_missing_answer_reshown_with_message_and_other_answers_kept(client, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    # "Which branch" follows "which channel" (display logic): the channel is on page 1.
    assert post_page(client, seeded_survey.slug, 1, page_answers(pages[0])).status_code == 302
    data = page_answers(pages[1])
    skipped = data.pop("PR_BRANCH")
    assert skipped
    page = post_page(client, seeded_survey.slug, 2, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="PR_BRANCH-error"' in html
    assert 'aria-describedby="PR_BRANCH-error"' in html
    # The answers given are still chosen.
    assert "checked" in _input_tag(html, "PR_TYPE-0")
    assert "checked" not in _input_tag(html, "PR_BRANCH-0")


def _answer_up_to(client, survey, pages, index):
    """Answer pages 1..index (0-based index not included)."""
    for number in range(1, index + 1):
        assert post_page(client, survey.slug, number, page_answers(pages[number - 1])).status_code == 302


def test_not_applicable_is_stored_apart_from_missing(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    index = next(i for i, p in enumerate(pages) if any(v.scale.get("not_applicable") for v in p.variables))
    _answer_up_to(client, seeded_survey, pages, index)
    data = page_answers(pages[index])
    name = next(v.name for v in pages[index].variables if v.scale.get("not_applicable"))
    data[name] = "na"
    assert post_page(client, seeded_survey.slug, index + 1, data).status_code == 302
    stored = _only_response(db, seeded_survey)
    codebook = codebook_of(seeded_survey.current_version)
    # Missing to every reader of numbers, and marked "not applicable" in the stored bits.
    assert decode_answers(codebook, stored.answers)[name] is None
    assert not_applicable_in(codebook, stored.answers) == {name}
    assert name not in not_asked_in(codebook, stored.answers)
    # Revisiting the page (read from the stored answers) shows "not applicable" chosen again.
    html = client.get(f"/s/{seeded_survey.slug}?p={index + 1}").get_data(as_text=True)
    not_applicable = next(tag for tag in re.findall(r"<input[^>]*>", html)
                          if f'name="{name}"' in tag and 'value="na"' in tag)
    assert "checked" in not_applicable


def test_allocation_must_add_up_on_the_server(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    index = next(i for i, p in enumerate(pages) if p.layout == "allocation")
    for number in range(1, index + 1):
        assert post_page(client, seeded_survey.slug, number, page_answers(pages[number - 1])).status_code == 302
    names = [v.name for v in pages[index].variables]
    wrong = dict(zip(names, ["30", "30", "30", "30", "30"]))
    page = post_page(client, seeded_survey.slug, index + 1, wrong)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "must add up to 100 (now 150)" in html
    # The sum is the whole group's error: on the allocation group (described by it,
    # linked from the summary), not on the last number.
    instrument = pages[index].variables[0].instrument
    group = re.search(rf'<div class="allocation invalid"[^>]*id="q-allocation-{instrument}"[^>]*>', html)
    assert group and f'aria-describedby="allocation-{instrument}-error"' in group.group(0)
    assert f'href="#q-allocation-{instrument}"' in html
    assert f'id="{names[-1]}-error"' not in html and 'aria-invalid' not in _input_tag(html, names[-1])
    stored = decode_answers(codebook_of(seeded_survey.current_version), _only_response(db, seeded_survey).answers)
    assert all(stored[name] is None for name in names)
    right = dict(zip(names, ["10", "20", "30", "25", "15"]))
    assert post_page(client, seeded_survey.slug, index + 1, right).status_code == 302


@pytest.mark.parametrize("tamper", ["out_of_range", "not_a_choice", "unknown_field", "duplicate", "fraction"])
def test_tampered_posts_store_nothing(client, db, seeded_survey, tamper):
    pages = survey_pages(seeded_survey.current_version)
    data = MultiDict(page_answers(pages[1]))
    if tamper == "out_of_range":
        data["SQ01_E"] = "9"
    elif tamper == "not_a_choice":
        data["SQ01_E"] = "-1"
    elif tamper == "fraction":
        data["SQ01_E"] = "3.5"
    elif tamper == "unknown_field":
        data["EVIL"] = "1"
    else:
        data.add("SQ01_E", "1")
    post_page(client, seeded_survey.slug, 1, page_answers(pages[0]))
    before = _only_response(db, seeded_survey).answers
    response = client.post(f"/s/{seeded_survey.slug}", data=MultiDict(
        [("page", "2"), ("action", "next"), *data.items(multi=True)]))
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert 'id="SQ01_E-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert _only_response(db, seeded_survey).answers == before
    assert _only_response(db, seeded_survey).page == 1
    # Going back with the bad value does not store it either.
    client.post(f"/s/{seeded_survey.slug}", data=MultiDict(
        [("page", "2"), ("action", "back"), *data.items(multi=True)]))
    db.session.expire_all()
    assert _only_response(db, seeded_survey).answers == before


def test_page_number_and_action_must_be_known(client, db, seeded_survey):
    assert client.post(f"/s/{seeded_survey.slug}", data={"page": "x"}).status_code == 400
    assert client.post(f"/s/{seeded_survey.slug}", data={"page": "999"}).status_code == 400
    assert client.post(f"/s/{seeded_survey.slug}", data={"page": "1", "action": "jump"}).status_code == 400
    assert client.post(f"/s/{seeded_survey.slug}", data={"page": "1", "switch_lang": "fr"}).status_code == 400
    assert _count(db, Response.source == "web") == 0


def test_contact_consent_stores_contact_apart_and_needs_a_way_to_reach(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    for number, page in enumerate(pages[:-1], start=1):
        post_page(client, seeded_survey.slug, number, page_answers(page))
    last = len(pages)
    refused = post_page(client, seeded_survey.slug, last, {"contact_ok": "y", "name": "Li Lei"})
    assert refused.status_code == 200
    assert "e-mail address or a phone number" in refused.get_data(as_text=True)
    bad_mail = post_page(client, seeded_survey.slug, last, {"contact_ok": "y", "email": "nope"})
    assert bad_mail.status_code == 200
    done = post_page(client, seeded_survey.slug, last,
                     {"contact_ok": "y", "name": "Li Lei", "email": "li@example.com"})
    assert done.status_code == 302
    stored = _only_response(db, seeded_survey)
    contact = db.session.execute(select(Contact).where(Contact.response_id == stored.id)).scalar_one()
    assert (contact.name, contact.email, contact.phone) == ("Li Lei", "li@example.com", None)


def test_details_without_consent_are_not_stored(client, db, seeded_survey):
    complete_survey(client, seeded_survey, final={"email": "li@example.com"})
    stored = _only_response(db, seeded_survey)
    assert stored.contact is None


def test_anonymous_browser_answers_once(client, db, seeded_survey):
    complete_survey(client, seeded_survey)
    first = _only_response(db, seeded_survey)
    again = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    assert again.status_code == 200 and "already been submitted" in again.get_data(as_text=True)
    second = post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": "2"})
    assert second.status_code == 409
    db.session.expire_all()
    assert _only_response(db, seeded_survey).answers == first.answers


def test_invitation_answers_once_and_resumes_anywhere(app, db, seeded_survey):
    invitation = Invitation(survey_id=seeded_survey.id, token="tok-123456")
    db.session.add(invitation)
    db.session.commit()
    pages = survey_pages(seeded_survey.current_version)
    phone, laptop = app.test_client(), app.test_client()
    post_page(phone, seeded_survey.slug, 1, page_answers(pages[0]), token=invitation.token)
    # Another device with the same link continues on page 2 once the first was left
    # (INVITATION_HANDOVER_SECONDS; two browsers at the same moment: tests/security).
    started = _only_response(db, seeded_survey, Response.invitation_id == invitation.id)
    started.updated_at -= timedelta(seconds=app.config["INVITATION_HANDOVER_SECONDS"])
    db.session.commit()
    resumed = laptop.get(f"/s/{seeded_survey.slug}?t={invitation.token}", headers={"Accept-Language": "en"})
    assert f"?t={invitation.token}&amp;p=2" in resumed.get_data(as_text=True)
    assert "You were on page 2" in resumed.get_data(as_text=True)
    for number, page in enumerate(pages[1:], start=2):
        data = {} if page.is_final else page_answers(page)
        assert post_page(laptop, seeded_survey.slug, number, data, token=invitation.token).status_code == 302
    kept = _only_response(db, seeded_survey, Response.invitation_id == invitation.id)
    assert kept.status == ResponseStatus.COMPLETE.value and kept.client_key is None
    second = post_page(phone, seeded_survey.slug, 1, {"PR_CHANNEL": "3"}, token=invitation.token)
    assert second.status_code == 409
    assert "already been submitted" in second.get_data(as_text=True)
    db.session.expire_all()
    assert _count(db, Response.invitation_id == invitation.id) == 1
    assert decode_answers(codebook_of(seeded_survey.current_version), kept.answers)["PR_CHANNEL"] == 1.0
    assert phone.get(f"/s/{seeded_survey.slug}?t=unknown-token").status_code == 404


def test_closed_not_open_and_full_surveys(client, db, seeded_survey):
    seeded_survey.opens_at = datetime.now(timezone.utc) + timedelta(days=1)
    db.session.commit()
    page = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 403 and b"not opened yet" in page.data
    seeded_survey.opens_at = None
    seeded_survey.target_responses = 1
    db.session.commit()
    page = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 403 and b"all the answers it needs" in page.data
    seeded_survey.target_responses = None
    close_survey(seeded_survey)
    page = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    assert page.status_code == 403 and b"closed" in page.data
    assert post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": "1"}).status_code == 403
    assert _count(db, Response.source == "web") == 0


def test_unknown_survey_is_404(client, seeded_survey):
    assert client.get("/s/no-such-survey").status_code == 404


def test_language_switch_saves_the_page(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    index = next(i for i, p in enumerate(pages) if "SQ01_E" in [v.name for v in p.variables])
    _answer_up_to(client, seeded_survey, pages, index)
    partial = {"SQ01_E": "5"}
    switched = client.post(f"/s/{seeded_survey.slug}",
                           data={"page": str(index + 1), "switch_lang": "en", **partial})
    assert switched.status_code == 302 and f"p={index + 1}" in switched.headers["Location"]
    html = client.get(switched.headers["Location"]).get_data(as_text=True)
    assert f"Page {index + 1} of" in html
    stored = decode_answers(codebook_of(seeded_survey.current_version),
                            _only_response(db, seeded_survey).answers)
    assert stored["SQ01_E"] == 5.0
    assert _only_response(db, seeded_survey).language == "en"
