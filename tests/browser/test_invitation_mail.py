"""Issue 11, part 3 in the browser: the researcher sends e-mail invitations and reminders from
the invitations page; a local SMTP server (aiosmtpd) receives them; the customer opens the
personal link from the e-mail on a phone and completes the survey; a reminder then goes only
to the person who has not answered."""
from __future__ import annotations

import random
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe

from surveyapp.extensions import db
from surveyapp.models import Invitation, Survey, utcnow
from surveyapp.services.demo import DEMO_SLUG
from surveyapp.services.invitations import InvitationStatus, import_contacts, invitation_rows

from tests.services.test_mail import Mailbox, _body, _free_port
from .respondent import complete_survey, press

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://\S+/s/" + DEMO_SLUG + r"\?t=[A-Za-z0-9_-]+")


@pytest.fixture
def mailbox(live_app):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {key: live_app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER")}
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                           MAIL_DEFAULT_SENDER="Example Bank <surveys@bank.example>")
    yield box
    live_app.config.update(saved)
    controller.stop()


def _wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_emailed_link_completes_the_survey_and_only_the_other_person_is_reminded(
        make_page, live_server, live_app, login_as, mailbox, artifacts):
    stamp = int(time.time() * 1000)
    answering, silent = f"answers-{stamp}@example.com", f"silent-{stamp}@example.com"
    with live_app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        import_contacts(survey, (f"id,email,language\r\nA{stamp},{answering},zh\r\n"
                                 f"S{stamp},{silent},en\r\n").encode())
        db.session.remove()

    researcher = make_page(locale="en-US", viewport=DESKTOP)
    login_as(researcher, "researcher")
    researcher.goto(f"{live_server}/admin/surveys/{DEMO_SLUG}/invitations")
    press(researcher, "#send-invitations")
    invited = _wait_for(lambda: mailbox.to(answering) and mailbox.to(silent))
    assert invited
    zh_message, en_message = mailbox.to(answering)[0], mailbox.to(silent)[0]
    zh_link = LINK.search(_body(zh_message)).group(0)
    assert LINK.search(_body(en_message)), "each person gets their own link"
    researcher.screenshot(path=str(artifacts / "invitations-sent.png"), full_page=True)
    violations = Axe().run(researcher, options={"resultTypes": ["violations"]}).response["violations"]
    assert violations == [], [v["id"] for v in violations]

    # The customer opens the link from the e-mail on a phone (the mail names the app's public
    # address; the test server listens on a loopback port, so only the path and token are kept).
    customer = make_page(locale="zh-CN", viewport=PHONE)
    parts = urlsplit(zh_link)
    complete_survey(customer, f"{live_server}{parts.path}?{parts.query}", random.Random(11),
                    artifacts=artifacts, prefix="invited-zh-")
    assert "/thanks" in customer.url or customer.locator("#thanks").count()
    token = parts.query.removeprefix("t=")
    with live_app.app_context():
        by_email = {i.email: i for i in db.session.execute(
            db.select(Invitation).where(Invitation.email.in_([answering, silent]))).scalars()}
        assert by_email[answering].token == token
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        status = {row.invitation.email: row.status for row in invitation_rows(survey)}
        assert status[answering] == InvitationStatus.COMPLETED
        assert status[silent] == InvitationStatus.NOT_STARTED
        # Both were invited ten days ago, as far as the reminder rule is concerned.
        for invitation in by_email.values():
            invitation.sent_at = utcnow() - timedelta(days=10)
        db.session.commit()
        db.session.remove()

    researcher.goto(f"{live_server}/admin/surveys/{DEMO_SLUG}/invitations")
    researcher.fill("#after_days", "3")
    researcher.fill("#max_reminders", "2")
    press(researcher, "#send-reminders")
    _wait_for(lambda: len(mailbox.to(silent)) >= 2)
    assert len(mailbox.to(silent)) == 2, "the one who has not answered gets one reminder"
    assert len(mailbox.to(answering)) == 1, "the one who completed gets no reminder"
    assert LINK.search(_body(mailbox.to(silent)[1])).group(0).endswith(
        LINK.search(_body(en_message)).group(0).split("?t=")[1])
