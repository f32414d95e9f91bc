"""E-mail invitations and reminders through a real SMTP server (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import email
import re
import socket
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from surveyapp.models import EmailOptOut, Invitation, ResponseStatus, utcnow
from surveyapp.services.invitations import (import_contacts, send_invitations, send_reminders,
                                            unsubscribe)

from ..survey.helpers import complete_survey


class Mailbox:
    """Keeps every accepted message; refuses recipients at bounce.example (550)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@bounce.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox(app):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                      MAIL_DEFAULT_SENDER="Example Bank <surveys@bank.example>",
                      SERVER_NAME="surveys.example", PREFERRED_URL_SCHEME="https")
    yield box
    controller.stop()


def links(invitation, survey):
    from flask import url_for
    return (url_for("survey.take", slug=survey.slug, t=invitation.token, _external=True),
            url_for("survey.unsubscribe_view", slug=survey.slug, t=invitation.token, _external=True))


CONTACTS = ("id,email,language\r\nC1,li@example.com,zh\r\nC2,ann@example.com,en\r\n"
            "C3,gone@bounce.example,en\r\nC4,,zh\r\n").encode()


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_invitations_are_personal_in_the_persons_language_and_sent_once(app, db, seeded_survey, mailbox):
    with app.test_request_context():
        import_contacts(seeded_survey, CONTACTS)
        report = send_invitations(seeded_survey, links)
    assert (report.sent, report.bounced, report.failed) == (2, 1, 0)
    zh, en = mailbox.to("li@example.com")[0], mailbox.to("ann@example.com")[0]
    invitations = {i.external_id: i for i in db.session.execute(db.select(Invitation)).scalars()}
    assert f"/s/{seeded_survey.slug}?t={invitations['C1'].token}" in _body(zh)
    assert f"/s/{seeded_survey.slug}?t={invitations['C2'].token}" in _body(en)
    assert "示例银行" in zh["Subject"] and "Example Bank" in en["Subject"]
    assert "您的专属链接" in _body(zh) and "Your personal link" in _body(en)
    assert en["List-Unsubscribe"].strip() == (f"<https://surveys.example/s/{seeded_survey.slug}/unsubscribe"
                                      f"?t={invitations['C2'].token}>")
    assert invitations["C1"].sent_at and invitations["C3"].bounced_at and not invitations["C3"].sent_at
    assert "550" in invitations["C3"].mail_error and invitations["C4"].send_attempts == 0
    # A retried run (the job queue retrying) sends nothing again.
    with app.test_request_context():
        again = send_invitations(seeded_survey, links)
    assert again.sent == 0 and len(mailbox.messages) == 2


def test_a_claimed_invitation_is_never_sent_twice(app, db, seeded_survey, mailbox):
    with app.test_request_context():
        (invitation,) = import_contacts(seeded_survey, b"id,email\r\nC1,li@example.com\r\n")
        # A run that claimed it and died before recording the result: the mail may be out.
        invitation.mail_claimed_at = utcnow()
        db.session.commit()
        assert send_invitations(seeded_survey, links).sent == 0
    assert mailbox.messages == []


def test_a_server_that_is_down_leaves_the_invitation_for_the_next_run(app, db, seeded_survey, mailbox):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    with app.test_request_context():
        (invitation,) = import_contacts(seeded_survey, b"id,email\r\nC1,li@example.com\r\n")
        down = send_invitations(seeded_survey, links)
        assert (down.sent, down.failed) == (0, 1) and invitation.mail_claimed_at is None
        assert invitation.mail_error.startswith("not sent:")
        app.config["MAIL_PORT"] = port
        assert send_invitations(seeded_survey, links).sent == 1
    assert invitation.send_attempts == 2 and len(mailbox.messages) == 1


def test_reminders_after_n_days_at_most_m_and_not_to_those_who_completed(app, db, seeded_survey,
                                                                         mailbox, client):
    with app.test_request_context():
        import_contacts(seeded_survey, b"id,email\r\nC1,li@example.com\r\nC2,ann@example.com\r\n")
        send_invitations(seeded_survey, links)
    invitations = {i.external_id: i for i in db.session.execute(db.select(Invitation)).scalars()}
    # C2 follows the link in the e-mail and completes the survey.
    link = re.search(r"https://surveys\.example(/s/\S+)", _body(mailbox.to("ann@example.com")[0])).group(1)
    token = link.split("t=")[1]
    assert client.get(link).status_code == 200
    assert invitations["C2"].opened_at is not None and invitations["C1"].opened_at is None
    complete_survey(client, seeded_survey, token=token)
    now = utcnow()
    with app.test_request_context():
        assert send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                              now=now + timedelta(days=2)).sent == 0  # too early
        first = send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                               now=now + timedelta(days=3, minutes=1))
        assert first.sent == 1
        # Same moment again (a retry): nothing new.
        assert send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                              now=now + timedelta(days=3, minutes=1)).sent == 0
        assert send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                              now=now + timedelta(days=5)).sent == 0  # 3 days after the reminder
        assert send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                              now=now + timedelta(days=7)).sent == 1
        assert send_reminders(seeded_survey, links, after_days=3, max_reminders=2,
                              now=now + timedelta(days=30)).sent == 0  # at most 2
    reminders = [m for m in mailbox.to("li@example.com") if "Reminder" in m["Subject"] or "提醒" in m["Subject"]]
    assert len(reminders) == 2 and invitations["C1"].reminders_sent == 2
    assert len(mailbox.to("ann@example.com")) == 1  # completed: the invitation only


def test_unsubscribing_is_honoured_for_every_survey_for_good(app, db, seeded_survey, mailbox, client):
    with app.test_request_context():
        (invitation,) = import_contacts(seeded_survey, b"id,email\r\nC1,Li@Example.com\r\n")
        send_invitations(seeded_survey, links)
    url = f"/s/{seeded_survey.slug}/unsubscribe?t={invitation.token}"
    page = client.get(url, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'id="confirm-unsubscribe"' in page.get_data(as_text=True)
    done = client.post(url, headers={"Accept-Language": "en"})
    assert 'id="unsubscribed"' in done.get_data(as_text=True)
    assert db.session.execute(db.select(EmailOptOut.email)).scalars().all() == ["li@example.com"]
    assert client.get(f"/s/{seeded_survey.slug}/unsubscribe?t=nope").status_code == 404
    with app.test_request_context():
        assert send_reminders(seeded_survey, links, after_days=0, max_reminders=5).sent == 0
        # A later contacts file with the same address (any case) is never mailed either.
        import_contacts(seeded_survey, b"id,email\r\nC9,LI@example.com\r\n")
        assert send_invitations(seeded_survey, links).sent == 0
    assert len(mailbox.messages) == 1


def test_researcher_sends_from_the_invitations_page(app, db, seeded_survey, mailbox, client):
    from surveyapp.services.demo import DEMO_USERS
    from surveyapp.models import Role
    app.config["SERVER_NAME"] = None
    name, password = DEMO_USERS[Role.RESEARCHER]
    client.post("/auth/login", data={"username": name, "password": password})
    with app.test_request_context():
        import_contacts(seeded_survey, b"id,email\r\nC1,li@example.com\r\n")
    page = client.get(f"/admin/surveys/{seeded_survey.slug}/invitations?lang=en").get_data(as_text=True)
    assert 'id="send-invitations"' in page and 'id="send-reminders"' in page
    response = client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/send", follow_redirects=True)
    assert "E-mails sent: 1; bounced: 0" in response.get_data(as_text=True)
    assert len(mailbox.messages) == 1
    bad = client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/remind",
                      data={"after_days": "-1", "max_reminders": "2"})
    assert bad.status_code == 400
