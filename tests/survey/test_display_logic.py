"""Display logic in the paged survey: "which branch" only for customers who came to a branch."""
import math

import numpy as np
import pytest
from sqlalchemy import select

from surveyapp.models import Response
from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import (NOT_ASKED, NOT_ASKED_BITS, AnswerError, codebook_of,
                                          decode_answers, encode_answers, not_asked_in,
                                          ResponseFilter, responses_frame)

from .helpers import page_answers, post_page

BRANCH_COUNTER, MOBILE_APP = "1", "3"


def _stored(db, survey):
    return db.session.execute(select(Response).where(
        Response.survey_id == survey.id, Response.source == "web")).scalar_one()


def test_the_question_a_condition_hangs_on_is_on_an_earlier_page(seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    channel = next(i for i, p in enumerate(pages) if "PR_CHANNEL" in [v.name for v in p.variables])
    branch = next(i for i, p in enumerate(pages) if "PR_BRANCH" in [v.name for v in p.variables])
    assert branch == channel + 1
    assert [v.name for v in pages[channel].variables] == ["PR_CHANNEL"]


def test_branch_is_not_asked_of_app_users_and_stored_as_not_asked(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    assert post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": MOBILE_APP}).status_code == 302
    html = client.get(f"/s/{seeded_survey.slug}?p=2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="PR_BRANCH"' not in html and 'name="PR_TYPE"' in html
    # Posting an answer to the hidden question is refused like any unknown field.
    refused = post_page(client, seeded_survey.slug, 2, {**page_answers(pages[1]), "PR_BRANCH": "2"})
    assert refused.status_code == 400
    data = {k: v for k, v in page_answers(pages[1]).items() if k != "PR_BRANCH"}
    assert post_page(client, seeded_survey.slug, 2, data).status_code == 302
    stored = _stored(db, seeded_survey)
    codebook = codebook_of(seeded_survey.current_version)
    assert not_asked_in(codebook, stored.answers) == {"PR_BRANCH"}
    # Not asked is a NaN to every reader: the analysis frame counts it out of n.
    assert decode_answers(codebook, stored.answers)["PR_BRANCH"] is None
    frame = responses_frame(seeded_survey, ResponseFilter(complete_only=False))
    assert math.isnan(frame.loc[frame["response_id"] == stored.id, "PR_BRANCH"].iloc[0])


def test_changing_the_earlier_answer_shows_then_hides_the_question(client, db, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    codebook = codebook_of(seeded_survey.current_version)
    post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": BRANCH_COUNTER})
    html = client.get(f"/s/{seeded_survey.slug}?p=2").get_data(as_text=True)
    assert 'name="PR_BRANCH"' in html
    assert post_page(client, seeded_survey.slug, 2, page_answers(pages[1])).status_code == 302
    assert decode_answers(codebook, _stored(db, seeded_survey).answers)["PR_BRANCH"] == 1.0
    # Back on page 1 the customer says they used the app after all: the branch answer goes.
    assert post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": MOBILE_APP}).status_code == 302
    db.session.expire_all()
    assert not_asked_in(codebook, _stored(db, seeded_survey).answers) == {"PR_BRANCH"}
    # And back to the counter: asked again, now missing (not "not asked"), and required.
    assert post_page(client, seeded_survey.slug, 1, {"PR_CHANNEL": BRANCH_COUNTER}).status_code == 302
    db.session.expire_all()
    stored = _stored(db, seeded_survey).answers
    assert not_asked_in(codebook, stored) == set()
    assert decode_answers(codebook, stored)["PR_BRANCH"] is None
    data = {k: v for k, v in page_answers(pages[1]).items() if k != "PR_BRANCH"}
    again = post_page(client, seeded_survey.slug, 2, data)
    assert again.status_code == 200 and 'id="PR_BRANCH-error"' in again.get_data(as_text=True)


def test_imports_cannot_answer_a_question_that_was_not_asked(seeded_survey):
    codebook = codebook_of(seeded_survey.current_version)
    with pytest.raises(AnswerError) as error:
        encode_answers(codebook, {"PR_CHANNEL": 3, "PR_BRANCH": 2})
    assert "was not asked (shown only if PR_CHANNEL = 1)" in error.value.errors["PR_BRANCH"]
    vector = np.frombuffer(encode_answers(codebook, {"PR_CHANNEL": 3}), dtype="<u8")
    assert vector[codebook.names.index("PR_BRANCH")] == NOT_ASKED_BITS
    assert math.isnan(NOT_ASKED)


def test_demo_data_follow_the_display_logic(seeded_survey):
    frame = responses_frame(seeded_survey)
    counter = frame["PR_CHANNEL"] == 1
    assert counter.any() and (~counter).any()
    assert frame.loc[~counter, "PR_BRANCH"].isna().all()
    assert frame.loc[counter, "PR_BRANCH"].notna().all()


def test_a_not_applicable_answer_meets_no_condition():
    """As stored (a NaN) and as the page hands it over (the code -98), "not applicable"
    shows no question that hangs on the answer."""
    from analysis.instruments import NOT_APPLICABLE_CODE, condition_met

    condition = {"variable": "SQ01_P", "range": [-100, 7]}
    assert condition_met(condition, {"SQ01_P": 3.0})
    assert not condition_met(condition, {"SQ01_P": NOT_APPLICABLE_CODE})
    assert not condition_met(condition, {"SQ01_P": float("nan")})
