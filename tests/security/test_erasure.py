"""Erasing one respondent on request: before, their data is in every export; after, in none.

The respondent answered through a personal link sent to their e-mail, left a
comment and contact details, and was unhappy enough to open a recovery case
(with a note, an in-app alert and a webhook delivery about it).
"""
from __future__ import annotations

import json
import os
import re

import openpyxl
import pyreadstat
import pytest
from sqlalchemy import func, select

from surveyapp import signals
from surveyapp.models import (AuditEvent, Case, CaseEvent, Contact, Invitation, Job, Notification,
                              Response, Role, SurveyShare, WebhookDelivery, WebhookEndpoint)
from surveyapp.services.cases import add_note
from surveyapp.services.exports import export_to_file
from surveyapp.services.invitations import import_contacts
from surveyapp.services.responses import ContactDetails, ResponseFilter, submit_response
from surveyapp.services.surveys import create_survey, open_survey

COMMENT = "柜台排队两个小时 marker-7731 请打13800138000"
EMAIL = "li.erasure@example.com"
RAW_FORMATS = ("csv", "xlsx", "sav", "dta")


@pytest.fixture
def people(make_user):
    return {"owner": make_user("owner"), "ada": make_user("ada", Role.ADMIN),
            "analyst": make_user("analyst"), "manager": make_user("manager", Role.MANAGER)}


@pytest.fixture
def survey(db, people):
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "instruments": [{"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "overall", "items": None}]}
    survey = create_survey(people["owner"], "erasure", "删除", "Erasure", design)
    for name in ("analyst", "manager"):
        db.session.add(SurveyShare(survey_id=survey.id, user_id=people[name].id))
    db.session.commit()
    open_survey(survey)
    return survey


@pytest.fixture
def respondent(db, survey, people):
    """The response to erase (unhappy, commented, contactable, invited), beside a happy one."""
    (invitation,) = import_contacts(survey, f"id,email\ncust-1,{EMAIL}\n".encode())
    values = {"OVS1": 1, "SQ01_E": 7, "SQ01_P": 2, "SQ02_E": 7, "SQ02_P": 1}
    response = submit_response(survey.current_version, values, invitation_id=invitation.id,
                               comment=COMMENT, contact=ContactDetails(name="李女士", email=EMAIL,
                                                                       phone="13800138000"))
    submit_response(survey.current_version, {"OVS1": 9, "SQ01_E": 6, "SQ01_P": 7, "SQ02_E": 6,
                                             "SQ02_P": 7}, comment="很满意")  # no case
    case = db.session.execute(select(Case).where(Case.response_id == response.id)).scalar_one()
    add_note(case, "called 13800138000, no answer", people["owner"])
    endpoint = WebhookEndpoint(survey_id=survey.id, url="https://hooks.example.org/x", events=["case.opened"])
    db.session.add(endpoint)
    db.session.flush()
    db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id="e1", event="case.opened",
                                   body=json.dumps({"data": {"case_id": case.id, "comment": COMMENT}})))
    db.session.commit()
    return response.id


def _export_text(survey, key, path) -> str:
    """Every cell of an export as one text (to search for the respondent's data)."""
    export_to_file(survey, key, ResponseFilter(complete_only=False), path)
    if key == "csv":
        return path.read_bytes().decode("utf-8-sig")
    if key == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    frame, _meta = (pyreadstat.read_sav if key == "sav" else pyreadstat.read_dta)(str(path))
    return frame.to_csv(index=False)


def _counts(db):
    return {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Response, Contact, Case, CaseEvent, Invitation, Notification, WebhookDelivery)}


def test_erased_respondent_is_in_no_later_export_and_nothing_of_them_is_stored(
        client, db, survey, respondent, login, tmp_path):
    for key in RAW_FORMATS:  # before: the comment is in every raw-data format
        assert "marker-7731" in _export_text(survey, key, tmp_path / f"before.{key}"), key
    login("owner")
    assert EMAIL in client.get("/admin/surveys/erasure/invitations.csv").get_data(as_text=True)
    before = _counts(db)
    assert before["Notification"] >= 1 and before["WebhookDelivery"] == 1 and before["CaseEvent"] >= 2
    erased = []

    def on_response_erased(sender, **details):
        erased.append(details)

    page = client.get(f"/admin/surveys/erasure/erase?response={respondent}&lang=en")
    assert page.status_code == 200 and 'id="erase-form"' in page.get_data(as_text=True)
    # Without the tick nothing happens.
    refused = client.post("/admin/surveys/erasure/erase", data={"response_id": respondent})
    assert refused.status_code == 400 and _counts(db) == before
    with signals.response_erased.connected_to(on_response_erased):
        done = client.post("/admin/surveys/erasure/erase", data={"response_id": respondent, "confirm": "y"})
    assert done.status_code == 302

    after = _counts(db)
    assert after == {"Response": 1, "Contact": 0, "Case": 0, "CaseEvent": 0, "Invitation": 0,
                     "Notification": 0, "WebhookDelivery": 0}
    for key in RAW_FORMATS:
        text = _export_text(survey, key, tmp_path / f"after.{key}")
        assert "marker-7731" not in text and "13800138000" not in text, key
        assert "很满意" in text  # the other respondent is still there
    links = client.get("/admin/surveys/erasure/invitations.csv").get_data(as_text=True)
    assert EMAIL not in links and "cust-1" not in links
    # The audit entry names the response and nothing personal.
    entry = db.session.execute(select(AuditEvent).where(AuditEvent.action == "response_erased")).scalar_one()
    assert entry.target == f"response:{respondent}" and entry.username == "owner"
    stored = json.dumps(entry.detail, ensure_ascii=False) + (entry.target or "")
    assert "marker" not in stored and EMAIL not in stored and "1380013" not in stored
    assert erased and erased[0]["response_id"] == respondent and erased[0]["status"] == "complete"


def test_export_files_made_before_the_erasure_are_removed(client, db, survey, respondent, login):
    login("owner")
    job_url = client.get("/admin/surveys/erasure/export?format=csv&partial=1").location
    assert "marker-7731" in client.get(job_url + "/download").get_data(as_text=True)
    client.post("/admin/surveys/erasure/erase", data={"response_id": respondent, "confirm": "y"})
    assert client.get(job_url + "/download").status_code == 404
    assert db.session.execute(select(Job.result_path)).scalar_one() is None


@pytest.mark.parametrize("who, status", [("analyst", 404), ("manager", 403)])
def test_only_the_owner_or_an_admin_may_erase(client, db, survey, respondent, login, who, status):
    login(who)  # shared with both: the analyst researcher sees the survey, not this page
    assert client.get(f"/admin/surveys/erasure/erase?response={respondent}").status_code == status
    reply = client.post("/admin/surveys/erasure/erase", data={"response_id": respondent, "confirm": "y"})
    assert reply.status_code == status
    assert db.session.get(Response, respondent) is not None


def test_an_admin_may_erase_and_the_case_page_links_there(client, db, survey, respondent, login):
    case = db.session.execute(select(Case)).scalar_one()
    login("ada")
    html = client.get(f"/cases/case/{case.id}").get_data(as_text=True)
    assert re.search(rf'href="/admin/surveys/erasure/erase\?response={respondent}"', html)
    client.post("/admin/surveys/erasure/erase", data={"response_id": respondent, "confirm": "y"})
    assert db.session.get(Response, respondent) is None


def test_a_response_of_another_survey_cannot_be_erased_through_this_one(client, db, survey, respondent,
                                                                        people, login):
    create_survey(people["owner"], "other", "其他", "Other", survey.design)
    login("owner")
    assert client.post("/admin/surveys/other/erase",
                       data={"response_id": respondent, "confirm": "y"}).status_code == 404
    assert db.session.get(Response, respondent) is not None


def test_erasure_needs_the_csrf_token(csrf_app):
    from surveyapp.extensions import db
    from surveyapp.models import User
    owner = User(username="owner", role="researcher")
    owner.set_password("correct horse battery")
    db.session.add(owner)
    db.session.commit()
    design = {"firm": {"zh": "银行", "en": "Bank"}, "languages": ["zh", "en"],
              "instruments": [{"id": "overall", "items": None}]}
    survey = create_survey(owner, "csrf-erase", "删", "Erase", design)
    open_survey(survey)
    response = submit_response(survey.current_version, {"OVS1": 5}, comment="keep me")
    client = csrf_app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"username": "owner", "password": "correct horse battery",
                                     "csrf_token": token})
    reply = client.post("/admin/surveys/csrf-erase/erase", data={"response_id": response.id, "confirm": "y"})
    assert reply.status_code == 400
    assert db.session.get(Response, response.id) is not None


def test_deleting_a_survey_removes_all_its_data_and_is_audited(client, db, survey, respondent, login,
                                                              tmp_path):
    from surveyapp.models import Survey, SurveyVersion
    login("owner")
    job_url = client.get("/admin/surveys/erasure/export?format=csv").location
    job = db.session.execute(select(Job)).scalar_one()
    assert job.result_path and os.path.exists(job.result_path)
    result_path = job.result_path
    # A wrong link name deletes nothing.
    assert client.post("/admin/surveys/erasure/delete", data={"slug": "erasur"}).status_code == 400
    assert db.session.execute(select(func.count(Response.id))).scalar_one() == 2
    assert client.post("/admin/surveys/erasure/delete", data={"slug": "erasure"}).status_code == 302
    db.session.expire_all()
    for model in (Survey, SurveyVersion, Response, Contact, Case, CaseEvent, Invitation, Job,
                  Notification, WebhookDelivery):
        assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0, model
    assert not os.path.exists(result_path)
    assert client.get(job_url).status_code == 404
    (entry,) = db.session.execute(select(AuditEvent).where(AuditEvent.action == "survey_deleted")).scalars()
    assert entry.survey_slug == "erasure" and entry.survey_id is None and entry.detail["responses"] == 2


@pytest.mark.parametrize("who, status", [("analyst", 404), ("manager", 403)])
def test_only_the_owner_or_an_admin_may_delete_a_survey(client, db, survey, login, who, status):
    login(who)
    assert client.post("/admin/surveys/erasure/delete", data={"slug": "erasure"}).status_code == status
    assert db.session.get(type(survey), survey.id) is not None


@pytest.mark.parametrize("bad_id", ["0", "-5", str(2**40), "abc"])
def test_unreadable_or_huge_response_ids_are_refused_without_an_error(client, survey, respondent, login,
                                                                      bad_id):
    login("owner")
    reply = client.post("/admin/surveys/erasure/erase", data={"response_id": bad_id, "confirm": "y"})
    assert reply.status_code in (400, 404)
    assert client.get(f"/admin/surveys/erasure/erase?response={bad_id}").status_code in (200, 404)
