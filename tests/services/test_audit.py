"""The audit log: what record() stores, and that the app cannot change an entry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from surveyapp.models import AuditEvent, Role
from surveyapp.services import audit


def test_record_stores_who_what_survey_target_and_utc_time(app, db, make_user, seeded_survey):
    admin = make_user("root", Role.ADMIN)
    before = datetime.now(timezone.utc)
    audit.record(audit.EXPORT, survey=seeded_survey, target="job:1", user=admin,
                 detail={"format": "csv", "contact_details": False})
    entry = db.session.execute(select(AuditEvent)).scalar_one()
    assert (entry.action, entry.user_id, entry.username) == ("export", admin.id, "root")
    assert (entry.survey_id, entry.survey_slug) == (seeded_survey.id, seeded_survey.slug)
    assert entry.target == "job:1" and entry.detail == {"format": "csv", "contact_details": False}
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=timezone.utc)
    assert before - timedelta(seconds=1) <= at <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert entry.address is None  # no request: no client address


def test_record_in_a_request_takes_the_logged_in_user_and_client_address(app, db, make_user):
    from flask_login import login_user
    user = make_user("someone")
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        login_user(user)
        audit.record(audit.LOGOUT)
    entry = db.session.execute(select(AuditEvent)).scalar_one()
    assert (entry.username, entry.address) == ("someone", "203.0.113.9")


def test_unknown_action_is_refused(app):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("coffee_made")


def test_an_entry_cannot_be_updated_through_the_orm(app, db):
    entry = audit.record(audit.LOGIN_FAILED, target="mallory")
    entry.target = "someone-else"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.target)).scalar_one() == "mallory"


def test_an_entry_cannot_be_deleted_through_the_orm(app, db):
    entry = audit.record(audit.LOGIN_FAILED, target="mallory")
    db.session.delete(entry)
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.id)).scalars().all() == [entry.id]


@pytest.mark.parametrize("statement", [update(AuditEvent).values(target="x"), delete(AuditEvent)],
                         ids=["bulk-update", "bulk-delete"])
def test_bulk_statements_through_the_session_are_refused(app, db, statement):
    audit.record(audit.LOGIN_FAILED, target="mallory")
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.target)).scalar_one() == "mallory"


def test_events_query_filters_and_orders_newest_first(app, db, make_user, seeded_survey):
    alice, bob = make_user("alice"), make_user("bob")
    audit.record(audit.LOGIN, user=alice)
    audit.record(audit.EXPORT, user=alice, survey=seeded_survey, detail={"format": "csv"})
    audit.record(audit.LOGIN, user=bob)
    ids = lambda **kw: [e.username for e in db.session.execute(audit.events_query(**kw)).scalars()]
    assert ids() == ["bob", "alice", "alice"]
    assert ids(action="login") == ["bob", "alice"]
    assert ids(username="alice") == ["alice", "alice"]
    assert ids(survey_slug=seeded_survey.slug) == ["alice"]
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    assert ids(start=tomorrow) == [] and len(ids(end=tomorrow)) == 3
