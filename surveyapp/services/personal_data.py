"""Personal data and its life: erasing one respondent on request, purging old contact details.

**Erasure** (:func:`erase_response`): an admin or the survey's owner erases
one respondent. Gone afterwards, in one transaction:

* the response (answers, comment, language, times) and its contact details
  (name, e-mail, phone);
* its recovery case with the case's notes and history, the stored comment
  sentiment (polarity, label, emotions), scores and re-survey answer;
* the in-app notifications about that case and the webhook deliveries whose
  payload names it (sent or not: a pending one is never sent);
* the invitation it answered (token, e-mail, external id, segment fields and
  mail tracking): the person's link stops working, nothing points to them;
* the result files of earlier export jobs of the survey (they are copies of
  the data made before the erasure); the job rows stay, without a file.

What stays: an audit entry ``response_erased`` naming the response id only,
and the address in the unsubscribe list if the person unsubscribed (kept so
they are never mailed again). Dashboard caches change with the data stamp;
anything else keeping running totals listens to
:data:`surveyapp.signals.response_erased`, sent after the commit.

**Retention of contact details** (:func:`purge_contacts`): contact details
are kept while they are needed to call the customer back, then
``CONTACT_RETENTION_DAYS`` (default 180) after:

* the case closed (resolved or closed as unreachable), for a response with a
  case; contacts of an open case are never purged (someone is working it);
* the response was submitted, for a response that never had a case (a case
  is opened, if at all, right after submission).

Purged are the :class:`~surveyapp.models.Contact` rows (name, e-mail,
phone) and, for invitations answered by such a response, the invitation's
e-mail address and external id: they identify the person as much as a typed
e-mail does. Invitations not answered keep their address (reminders need it;
their owners delete them with the survey). The answers, the comment and the
invitation's segment fields stay: they are the survey's data. The purge runs
daily on the queue (:func:`purge_contacts_daily`) and as ``flask contacts
purge``; each run that removes something writes one ``contacts_purged`` audit
entry with the counts.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from huey import crontab
from sqlalchemy import and_, delete, func, or_, select, update

from .. import signals
from ..extensions import db
from ..models import (Case, CaseStatus, Contact, Invitation, Job, JobStatus, Notification, Response,
                      ResponseStatus, Survey, User, WebhookDelivery, WebhookEndpoint, utcnow)
from ..queue import app_context, huey
from . import audit
from .jobs import results_dir

logger = logging.getLogger(__name__)

#: Case statuses after which contact details are no longer needed.
CLOSED_STATUSES = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED_UNREACHABLE.value)
#: Job kinds whose result files copy responses (removed when a respondent is erased).
DATA_JOB_KINDS = ("export", "analysis")


class ErasureError(LookupError):
    """No such response in this survey (the view answers 404)."""


@dataclass(frozen=True)
class ErasureReport:
    response_id: int
    case_erased: bool
    contact_erased: bool
    invitation_erased: bool
    notifications: int
    webhook_deliveries: int
    export_files: int


def owner_or_admin(user: User, survey: Survey) -> bool:
    """Who may erase a respondent or delete the survey: admins and its owner (not those it is
    shared with)."""
    return user.is_authenticated and (user.has_role("admin") or survey.owner_id == user.id)


def erase_response(survey: Survey, response_id: int, user: User | None = None) -> ErasureReport:
    """Erase one respondent of ``survey`` (see the module docstring); raises :class:`ErasureError`."""
    # Ids beyond a 32-bit integer column are no response (PostgreSQL would refuse the query).
    response = db.session.get(Response, response_id) if 0 < response_id < 2**31 else None
    if response is None or response.survey_id != survey.id:
        raise ErasureError(f"no response {response_id} in survey {survey.slug}")
    before = {"status": response.status, "submitted_at": response.submitted_at,
              "version_id": response.version_id}
    case = db.session.execute(select(Case).where(Case.response_id == response.id)).scalar_one_or_none()
    notifications = deliveries = 0
    if case is not None:
        notifications, deliveries = _forget_case_alerts(survey, case.id)
        db.session.delete(case)  # its events go with it (ORM cascade)
    contact_erased = response.contact is not None
    invitation = db.session.get(Invitation, response.invitation_id) if response.invitation_id else None
    db.session.delete(response)  # the contact goes with it
    db.session.flush()
    if invitation is not None:
        db.session.delete(invitation)
    export_files = _remove_data_files(survey)
    report = ErasureReport(response_id, case is not None, contact_erased, invitation is not None,
                           notifications, deliveries, export_files)
    # The id only: the entry must not keep what was erased.
    audit.record(audit.RESPONSE_ERASED, survey=survey, target=f"response:{response_id}", user=user,
                 detail={"case": report.case_erased, "contact": report.contact_erased,
                         "invitation": report.invitation_erased, "notifications": notifications,
                         "webhook_deliveries": deliveries, "export_files": export_files},
                 commit=False)
    db.session.commit()
    signals.response_erased.send(current_app._get_current_object(), survey_id=survey.id,
                                 response_id=response_id, **before)
    return report


def _forget_case_alerts(survey: Survey, case_id: int) -> tuple[int, int]:
    """Delete the notifications about case ``case_id`` and the webhook deliveries naming it."""
    suffix = f"/cases/case/{case_id}"
    notifications = [n for n in db.session.execute(
        select(Notification).where(Notification.survey_id == survey.id,
                                   Notification.url.like(f"%{suffix}"))).scalars()
                     if (n.url or "").endswith(suffix)]
    for notification in notifications:
        db.session.delete(notification)
    endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.survey_id == survey.id)
    deliveries = [d for d in db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id.in_(endpoints))).scalars()
                  if _names_case(d.body, case_id)]
    for delivery in deliveries:
        db.session.delete(delivery)
    return len(notifications), len(deliveries)


def _names_case(body: str, case_id: int) -> bool:
    try:
        data = json.loads(body).get("data") or {}
    except (ValueError, AttributeError):
        return False
    return isinstance(data, dict) and data.get("case_id") == case_id


def _remove_data_files(survey: Survey) -> int:
    """Delete the result files of the survey's finished data jobs; returns how many were removed."""
    jobs = db.session.execute(select(Job).where(
        Job.survey_id == survey.id, Job.kind.in_(DATA_JOB_KINDS), Job.result_path.is_not(None),
        Job.status == JobStatus.DONE.value)).scalars().all()
    removed = 0
    for job in jobs:
        path = Path(job.result_path)
        if path.is_file():
            path.unlink()
            removed += 1
        job.result_path = None
        job.message = "file removed: a respondent was erased after it was made; export again"
    return removed


def delete_survey(survey: Survey, user: User | None = None) -> int:
    """Delete ``survey`` with everything of it; returns how many responses went.

    One DELETE of the survey row: the database's ON DELETE CASCADE removes its
    versions, invitations, responses, contacts, cases and their history, shares,
    jobs, alerts and webhooks in the same statement (the ORM would delete the
    versions first, which the responses still reference). Job result files are
    removed from disk first. Audit entries keep the survey's link name.
    """
    responses = db.session.execute(select(func.count(Response.id)).where(
        Response.survey_id == survey.id)).scalar_one()
    for job_id in db.session.execute(select(Job.id).where(Job.survey_id == survey.id)).scalars():
        shutil.rmtree(results_dir() / job_id, ignore_errors=True)
    survey_id = survey.id
    audit.record(audit.SURVEY_DELETED, survey=survey, user=user, commit=False,
                 detail={"title_en": survey.title_en, "responses": responses})
    db.session.flush()
    db.session.expunge(survey)
    db.session.execute(delete(Survey).where(Survey.id == survey_id)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return responses


# --------------------------------------------------------------------------
# Retention: contact details purged after their case closed
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class PurgeReport:
    contacts: int
    invitations: int
    cutoff: datetime

    @property
    def total(self) -> int:
        return self.contacts + self.invitations


def _expired_responses(cutoff: datetime):
    """Ids of responses whose contact details are past retention at ``cutoff``."""
    closed_long_ago = select(Case.response_id).where(Case.status.in_(CLOSED_STATUSES),
                                                     Case.closed_at < cutoff)
    with_case = select(Case.response_id)
    return select(Response.id).where(or_(
        Response.id.in_(closed_long_ago),
        and_(Response.id.not_in(with_case), Response.status == ResponseStatus.COMPLETE.value,
             Response.submitted_at < cutoff)))


def purge_contacts(now: datetime | None = None, retention_days: int | None = None) -> PurgeReport:
    """Remove contact details past ``CONTACT_RETENTION_DAYS`` (module docstring); audited with counts."""
    days = int(current_app.config["CONTACT_RETENTION_DAYS"] if retention_days is None else retention_days)
    if days < 0:
        raise ValueError(f"CONTACT_RETENTION_DAYS must be 0 or more, not {days}")
    cutoff = (now or utcnow()) - timedelta(days=days)
    expired = _expired_responses(cutoff)
    contacts = db.session.execute(delete(Contact).where(Contact.response_id.in_(expired))
                                  .execution_options(synchronize_session=False)).rowcount
    answered = select(Response.invitation_id).where(Response.id.in_(expired),
                                                    Response.invitation_id.is_not(None))
    invitations = db.session.execute(
        update(Invitation).where(Invitation.id.in_(answered),
                                 or_(Invitation.email.is_not(None), Invitation.external_id.is_not(None)))
        .values(email=None, external_id=None).execution_options(synchronize_session=False)).rowcount
    report = PurgeReport(contacts, invitations, cutoff)
    if report.total:
        audit.record(audit.CONTACTS_PURGED, commit=False,
                     detail={"contacts": contacts, "invitations": invitations, "retention_days": days,
                             "cutoff": cutoff.isoformat(timespec="seconds")})
    db.session.commit()
    return report


@huey.periodic_task(crontab(minute="23", hour="3"))
def purge_contacts_daily() -> None:
    """Every night at 03:23 (the worker's clock): contact details past retention are removed."""
    with app_context():
        report = purge_contacts()
        if report.total:
            logger.info("purged %s contact record(s) and %s invitation address(es) closed before %s",
                        report.contacts, report.invitations, report.cutoff.isoformat())
