"""Atomic submission, answer validation, and the one loader (responses_frame)."""
import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select

from surveyapp.models import Contact, Response, Role
from surveyapp.services.responses import (AnswerError, ContactDetails, ResponseFilter,
                                          codebook_of, decode_answers, encode_answers,
                                          responses_frame, submit_response)
from surveyapp.services.surveys import create_survey, open_survey


@pytest.fixture
def small_survey(db, make_user):
    owner = make_user("owner", Role.RESEARCHER)
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "servqual_layout": "blocks",
              "instruments": [{"id": "overall"}, {"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "profile", "items": ["PR_CHANNEL"]}]}
    survey = create_survey(owner, "small", "小问卷", "Small survey", design)
    version = open_survey(survey)
    return survey, version


def _count(db, model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_submit_and_load_back_exact_values(db, small_survey):
    survey, version = small_survey
    response = submit_response(version, {"SQ01_E": 7, "SQ01_P": 5, "SQ02_E": 6, "PR_CHANNEL": 2},
                               comment="  very kind staff ", contact=ContactDetails(email="a@b.example"))
    frame = responses_frame(survey)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["response_id"] == response.id and row["version"] == 1
    assert (row["SQ01_E"], row["SQ01_P"], row["SQ02_E"], row["PR_CHANNEL"]) == (7, 5, 6, 2)
    assert math.isnan(row["SQ02_P"])
    assert row["contact_ok"]
    assert frame["SQ01_E"].dtype == np.float64
    assert response.comment == "very kind staff"
    assert db.session.get(Contact, response.contact.id).email == "a@b.example"


@pytest.mark.parametrize("values,field", [({"SQ01_E": 8}, "SQ01_E"), ({"SQ01_E": 0}, "SQ01_E"),
                                          ({"SQ01_E": 2.5}, "SQ01_E"), ({"NOPE": 1}, "NOPE"),
                                          ({"PR_CHANNEL": 99}, "PR_CHANNEL"),
                                          ({"SQ01_P": "abc"}, "SQ01_P")])
def test_invalid_answers_store_nothing(db, small_survey, values, field):
    _, version = small_survey
    with pytest.raises(AnswerError) as caught:
        submit_response(version, values)
    assert field in caught.value.errors
    assert _count(db, Response) == 0


def test_failure_mid_write_leaves_no_partial_rows(db, small_survey, monkeypatch):
    """The contact row fails after the response row is flushed: both must vanish."""
    _, version = small_survey

    def failing_contact(*args, **kwargs):
        raise RuntimeError("disk full while writing contact")

    from surveyapp.services import responses as module
    original_commit = db.session.commit

    def commit_after_flush():
        db.session.flush()  # the response row reaches the database ...
        assert _count(db, Response) == 1
        raise RuntimeError("connection lost before commit")  # ... and then the write fails
    monkeypatch.setattr(db.session, "commit", commit_after_flush)
    with pytest.raises(RuntimeError, match="connection lost"):
        submit_response(version, {"SQ01_E": 7}, contact=ContactDetails(email="x@y.example"))
    monkeypatch.setattr(db.session, "commit", original_commit)
    assert _count(db, Response) == 0
    assert _count(db, Contact) == 0
    monkeypatch.setattr(module, "Contact", failing_contact)
    with pytest.raises(RuntimeError, match="disk full"):
        submit_response(version, {"SQ01_E": 7}, contact=ContactDetails(email="x@y.example"))
    assert _count(db, Response) == 0


def test_resuming_keeps_earlier_page(db, small_survey):
    survey, version = small_survey
    partial = submit_response(version, {"SQ01_E": 6}, complete=False, page=1)
    assert partial.status == "partial"
    assert responses_frame(survey).empty
    submit_response(version, {"SQ01_P": 4}, response=partial)
    answers = decode_answers(codebook_of(version), partial.answers)
    assert answers["SQ01_E"] == 6 and answers["SQ01_P"] == 4
    assert partial.status == "complete" and partial.duration_seconds >= 0


def test_one_response_per_invitation(db, small_survey):
    from sqlalchemy.exc import IntegrityError
    from surveyapp.models import Invitation
    survey, version = small_survey
    invitation = Invitation(survey_id=survey.id, token=Invitation.new_token())
    db.session.add(invitation)
    db.session.commit()
    first = submit_response(version, {"SQ01_E": 7}, invitation_id=invitation.id)
    with pytest.raises(IntegrityError):
        submit_response(version, {"SQ01_E": 1}, invitation_id=invitation.id)
    assert _count(db, Response) == 1
    assert decode_answers(codebook_of(version), db.session.get(Response, first.id).answers)["SQ01_E"] == 7


def test_frame_filters(db, small_survey):
    survey, version = small_survey
    base = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    for day, channel in [(0, 1), (1, 2), (8, 1)]:
        submit_response(version, {"SQ01_E": 5, "PR_CHANNEL": channel},
                        submitted_at=base + timedelta(days=day), started_at=base)
    assert len(responses_frame(survey)) == 3
    assert len(responses_frame(survey, ResponseFilter(start=date(2026, 3, 3)))) == 2
    assert len(responses_frame(survey, ResponseFilter(end=date(2026, 3, 3)))) == 2
    assert len(responses_frame(survey, ResponseFilter(segments={"PR_CHANNEL": [1]}))) == 2
    with pytest.raises(ValueError, match="unknown segment"):
        responses_frame(survey, ResponseFilter(segments={"NOPE": [1]}))


def test_versions_keep_their_columns(db, small_survey):
    survey, version1 = small_survey
    submit_response(version1, {"SQ01_E": 3})
    survey.design = {**survey.design, "instruments": [{"id": "overall"}]}
    version2 = open_survey(survey)
    assert version2.number == 2
    submit_response(version2, {"OV01_E": 6})
    frame = responses_frame(survey)
    assert list(frame["version"]) == [1, 2]
    assert frame.loc[0, "SQ01_E"] == 3 and math.isnan(frame.loc[1, "SQ01_E"])
    assert frame.loc[1, "OV01_E"] == 6
    assert len(responses_frame(survey, ResponseFilter(versions=[2]))) == 1


def test_reopening_unchanged_design_keeps_version(db, small_survey):
    survey, version = small_survey
    from surveyapp.services.surveys import close_survey
    close_survey(survey)
    assert open_survey(survey).id == version.id


def test_empty_frame_has_typed_columns(db, small_survey):
    survey, _ = small_survey
    frame = responses_frame(survey)
    assert frame.empty and "SQ01_E" in frame.columns and frame["SQ01_E"].dtype == np.float64


def test_encode_keeps_previous(small_survey):
    _, version = small_survey
    codebook = codebook_of(version)
    first = encode_answers(codebook, {"SQ01_E": 2})
    second = encode_answers(codebook, {"SQ01_P": 3}, previous=first)
    decoded = decode_answers(codebook, second)
    assert decoded["SQ01_E"] == 2 and decoded["SQ01_P"] == 3
