"""Contact details are purged CONTACT_RETENTION_DAYS after their case closes (clock shifted in the tests)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveyapp.models import AuditEvent, Case, Contact, Invitation, Response, utcnow
from surveyapp.services import cases, personal_data
from surveyapp.services.invitations import import_contacts
from surveyapp.services.personal_data import purge_contacts
from surveyapp.services.responses import ContactDetails, submit_response
from surveyapp.services.surveys import create_survey, open_survey

UNHAPPY = {"OVS1": 1, "SQ01_E": 7, "SQ01_P": 1, "SQ02_E": 7, "SQ02_P": 2}
HAPPY = {"OVS1": 9, "SQ01_E": 5, "SQ01_P": 7, "SQ02_E": 5, "SQ02_P": 6}


@pytest.fixture
def survey(db, make_user):
    owner = make_user("owner")
    design = {"firm": {"zh": "银行", "en": "Bank"}, "languages": ["zh", "en"],
              "instruments": [{"id": "servqual", "items": ["SQ01", "SQ02"]}, {"id": "overall", "items": None}]}
    survey = create_survey(owner, "retention", "保留", "Retention", design)
    open_survey(survey)
    return survey


def _respond(db, survey, values, email, invited=False, comment=None):
    # The comment's polarity is part of the unhappiness rule: a happy customer writes happily.
    comment = comment or ("Friendly staff and quick service, thank you." if values is HAPPY else "kept")
    invitation_id = None
    if invited:
        (invitation,) = import_contacts(survey, f"id,email\n{email},{email}\n".encode())
        invitation_id = invitation.id
    response = submit_response(survey.current_version, values, invitation_id=invitation_id,
                               comment=comment, contact=ContactDetails(name="N", email=email))
    return response.id, db.session.execute(select(Case).where(Case.response_id == response.id)
                                           ).scalar_one_or_none()


def _contact_emails(db):
    return set(db.session.execute(select(Contact.email)).scalars())


def test_contacts_go_retention_days_after_the_case_closed_not_before(app, db, survey, make_user):
    worker = make_user("worker")
    closed_id, closed_case = _respond(db, survey, UNHAPPY, "closed@example.com", invited=True)
    open_id, open_case = _respond(db, survey, UNHAPPY, "open@example.com")
    assert closed_case is not None and open_case is not None
    cases.resolve(closed_case, cases.ROOT_CAUSES[0], "apologised", worker, unreachable=True)
    days = app.config["CONTACT_RETENTION_DAYS"]
    closed_at = closed_case.closed_at

    # One day short of the retention period: nothing goes.
    early = purge_contacts(now=closed_at + timedelta(days=days - 1))
    assert early.total == 0
    assert _contact_emails(db) == {"closed@example.com", "open@example.com"}

    # Past it: the closed case's contact and its invitation's address go; the open case keeps its.
    late = purge_contacts(now=closed_at + timedelta(days=days, minutes=1))
    assert (late.contacts, late.invitations) == (1, 1)
    assert _contact_emails(db) == {"open@example.com"}
    invitation = db.session.execute(select(Invitation)).scalar_one()
    assert invitation.email is None and invitation.external_id is None and invitation.token
    # The answers and the comment are the survey's data: they stay.
    assert db.session.get(Response, closed_id).comment == "kept"
    # Audited with counts, nothing personal.
    entry = db.session.execute(select(AuditEvent).where(AuditEvent.action == "contacts_purged")).scalar_one()
    assert entry.detail["contacts"] == 1 and entry.detail["invitations"] == 1
    assert "example.com" not in str(entry.detail)
    # Run again: nothing left to purge, no new entry.
    assert purge_contacts(now=closed_at + timedelta(days=days + 5)).total == 0
    assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == 1


def test_contacts_of_responses_without_a_case_count_from_submission(app, db, survey):
    _, case = _respond(db, survey, HAPPY, "happy@example.com")
    assert case is None
    days = app.config["CONTACT_RETENTION_DAYS"]
    assert purge_contacts(now=utcnow() + timedelta(days=days - 1)).total == 0
    assert purge_contacts(now=utcnow() + timedelta(days=days + 1)).contacts == 1
    assert _contact_emails(db) == set()


def test_unanswered_invitations_keep_their_address(app, db, survey):
    import_contacts(survey, b"id,email\nwaiting,waiting@example.com\n")
    purge_contacts(now=utcnow() + timedelta(days=10_000))
    assert db.session.execute(select(Invitation.email)).scalar_one() == "waiting@example.com"


def test_the_retention_period_is_configurable(app, db, survey):
    _respond(db, survey, HAPPY, "soon@example.com")
    app.config["CONTACT_RETENTION_DAYS"] = 7
    assert purge_contacts(now=utcnow() + timedelta(days=8)).contacts == 1


def test_flask_contacts_purge_and_the_nightly_task_use_the_shifted_clock(app, db, survey, monkeypatch):
    _respond(db, survey, HAPPY, "cli@example.com")
    days = app.config["CONTACT_RETENTION_DAYS"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["contacts", "purge"])
    assert result.exit_code == 0 and "purged 0 contact record(s)" in result.output
    monkeypatch.setattr(personal_data, "utcnow", lambda: utcnow() + timedelta(days=days + 1))
    personal_data.purge_contacts_daily.call_local()  # what the queue's periodic run executes
    assert _contact_emails(db) == set()
    assert "purged 0" in runner.invoke(args=["contacts", "purge", "--days", "0"]).output


def test_the_purge_is_a_periodic_queue_task_run_nightly(app):
    from datetime import datetime

    from surveyapp.queue import huey

    def due(hour, minute):
        return {task.name for task in huey.read_periodic(datetime(2026, 5, 4, hour, minute))}
    assert any(name.endswith("purge_contacts_daily") for name in due(3, 23))
    assert not any(name.endswith("purge_contacts_daily") for name in due(3, 24))
