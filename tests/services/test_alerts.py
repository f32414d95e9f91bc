"""Alerts of the recovery loop: in-app notifications, e-mail through a local SMTP server, signed webhooks."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from surveyapp.models import Notification, Role, SurveyShare, WebhookDelivery
from surveyapp.services import alerts, webhooks
from surveyapp.services.webhooks import WebhookError, add_endpoint, attempt_delivery, check_target, replay
from surveyapp.signals import case_opened, case_resolved


def _payload(n: int = 1) -> dict:
    return {"title": f"Case {n} opened: unhappy customer", "summary": "Overall satisfaction 2/10.",
            "url": f"http://localhost/dashboard/demo-bank/cases/{n}", "case_id": n,
            "status": "open", "priority": "high"}


def _open_case(survey, n: int = 1, event_id: str | None = None) -> str:
    event_id = event_id or uuid.uuid4().hex
    case_opened.send(None, event_id=event_id, survey_id=survey.id, payload=_payload(n))
    return event_id


@pytest.fixture
def shared_manager(db, seeded_survey, make_user):
    manager = make_user("alert-manager", Role.MANAGER)
    manager.email = "manager@example.com"
    db.session.add(SurveyShare(survey_id=seeded_survey.id, user_id=manager.id))
    db.session.commit()
    return manager


def _notifications(db, user) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalars())


def test_the_owner_and_shared_users_are_told_once(db, seeded_survey, shared_manager, make_user):
    outsider = make_user("outsider")
    event_id = _open_case(seeded_survey)
    _open_case(seeded_survey, event_id=event_id)  # the same event again adds nothing
    assert [n.event_id for n in _notifications(db, shared_manager)] == [event_id]
    assert len(_notifications(db, seeded_survey.owner)) == 1
    assert _notifications(db, outsider) == []
    assert alerts.unread_count(shared_manager) == 1


# --------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------

class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    handler = _Inbox()
    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield handler
    controller.stop()


def test_an_opened_case_is_emailed_once_to_each_recipient_with_an_address(db, seeded_survey, shared_manager,
                                                                           smtp_server):
    _open_case(seeded_survey)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["manager@example.com"]]
    body = smtp_server.messages[0].content.decode()
    assert "Subject: [surveyapp] Case 1 opened: unhappy customer" in body
    assert "/dashboard/demo-bank/cases/1" in body
    notification = _notifications(db, shared_manager)[0]
    assert notification.email_status == "sent"
    # A retried task finds the e-mail sent and sends nothing.
    assert alerts.send_notification_email(notification.id) == "skipped"
    assert len(smtp_server.messages) == 1


def test_events_not_chosen_for_email_stay_in_the_app(db, seeded_survey, shared_manager, smtp_server):
    case_resolved.send(None, event_id=uuid.uuid4().hex, survey_id=seeded_survey.id, payload=_payload())
    assert smtp_server.messages == []
    assert _notifications(db, shared_manager)[0].email_status == "none"


# --------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------

class _Receiver:
    """A webhook receiver on loopback that answers 500 for the first ``failures`` requests."""

    def __init__(self, failures: int = 0, hold: threading.Event | None = None):
        self.failures, self.hold = failures, hold
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hold is not None:
                    receiver.hold.wait(10)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = 500 if len(receiver.requests) <= receiver.failures else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict]:
        return self.requests[self.failures:]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def loopback_allowed(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


def _signature_ok(secret: str, request: dict) -> bool:
    timestamp = request["headers"]["X-Surveyapp-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-Surveyapp-Signature"], f"sha256={expected}")


def test_a_failing_endpoint_gets_exactly_one_accepted_signed_delivery(app, db, seeded_survey, loopback_allowed,
                                                                      queue_worker):
    app.config["WEBHOOK_RETRY_BASE_SECONDS"] = 0.2
    receiver = _Receiver(failures=2)
    try:
        endpoint = add_endpoint(seeded_survey, receiver.url, ["case.opened"], seeded_survey.owner)
        event_id = _open_case(seeded_survey)
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 3:
            assert time.monotonic() < deadline, f"only {len(receiver.requests)} attempts arrived"
            time.sleep(0.1)
        time.sleep(1.5)  # nothing more comes after the accepted one
    finally:
        receiver.close()
    assert len(receiver.requests) == 3 and len(receiver.accepted()) == 1
    assert all(_signature_ok(endpoint.secret, request) for request in receiver.requests)
    ids = {request["headers"]["X-Surveyapp-Delivery"] for request in receiver.requests}
    assert len(ids) == 1  # the same delivery id on every attempt: receivers can drop repeats
    document = json.loads(receiver.accepted()[0]["body"])
    assert document["id"] == event_id and document["event"] == "case.opened"
    assert document["data"]["case_id"] == 1
    db.session.expire_all()
    delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
    assert delivery.status == "delivered" and delivery.attempts == 3 and delivery.last_status_code == 200


def test_a_slow_endpoint_never_holds_up_the_event(app, db, seeded_survey, loopback_allowed, queue_worker):
    hold = threading.Event()
    receiver = _Receiver(hold=hold)
    try:
        add_endpoint(seeded_survey, receiver.url, ["case.opened"], seeded_survey.owner)
        _open_case(seeded_survey)  # returns while the endpoint is still holding the request
        assert receiver.requests == []
        assert db.session.execute(select(func.count(Notification.id))).scalar_one() >= 1
        hold.set()
        deadline = time.monotonic() + 30
        while not receiver.requests:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        hold.set()
        receiver.close()


def test_a_delivery_that_keeps_failing_is_given_up_then_replayed(app, db, seeded_survey, loopback_allowed):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    receiver = _Receiver(failures=2)
    try:
        add_endpoint(seeded_survey, receiver.url, ["case.opened"], seeded_survey.owner)
        _open_case(seeded_survey)  # immediate queue: the first attempt runs now, the retry is scheduled
        delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
        assert attempt_delivery(delivery.id) == "failed" and delivery.attempts == 2
        assert "HTTP 500" in delivery.last_error
        replay(delivery)
        db.session.refresh(delivery)
        assert delivery.status == "delivered" and len(receiver.accepted()) == 1
    finally:
        receiver.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://192.168.0.5/x", "http://localhost:8080/x",
                                 "ftp://example.com/x", "not a url"])
def test_private_and_odd_targets_are_refused(app, seeded_survey, url):
    with pytest.raises(WebhookError):
        add_endpoint(seeded_survey, url, ["case.opened"], seeded_survey.owner)


def test_only_an_admin_may_allow_a_private_target(app, db, seeded_survey, make_user):
    with pytest.raises(WebhookError, match="private"):
        add_endpoint(seeded_survey, "http://127.0.0.1:9/x", ["case.opened"], seeded_survey.owner,
                     allow_private=True)
    admin = make_user("the-admin", Role.ADMIN)
    endpoint = add_endpoint(seeded_survey, "http://127.0.0.1:9/x", ["case.opened"], admin, allow_private=True)
    assert endpoint.allow_private
    check_target(endpoint.url, endpoint.allow_private)


def test_unknown_events_are_refused(app, seeded_survey, loopback_allowed):
    with pytest.raises(WebhookError, match="unknown: case.deleted"):
        add_endpoint(seeded_survey, "http://127.0.0.1/x", ["case.deleted"], seeded_survey.owner)


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------

def test_the_inbox_shows_a_badge_and_opening_marks_read(client, db, seeded_survey, shared_manager, login):
    _open_case(seeded_survey)
    login("alert-manager")
    page = client.get("/inbox/?lang=en").get_data(as_text=True)
    assert 'id="alerts-badge"' in page and '<span class="badge"' in page
    assert "Case 1 opened: unhappy customer" in page
    notification = _notifications(db, shared_manager)[0]
    opened = client.post(f"/inbox/{notification.id}/open")
    assert opened.status_code == 302 and opened.location == "/dashboard/demo-bank/cases/1"
    assert alerts.unread_count(shared_manager) == 0
    assert '<span class="badge"' not in client.get("/inbox/").get_data(as_text=True)


def test_nobody_opens_another_persons_alert(client, db, seeded_survey, shared_manager, login, make_user):
    _open_case(seeded_survey)
    make_user("nosy")
    login("nosy")
    notification = _notifications(db, shared_manager)[0]
    assert client.post(f"/inbox/{notification.id}/open").status_code == 404


def test_researchers_manage_webhooks_and_replay_deliveries(app, client, db, seeded_survey, login,
                                                           loopback_allowed):
    login("demo-researcher", "demo-researcher-2026")
    receiver = _Receiver()
    try:
        response = client.post(f"/admin/surveys/{seeded_survey.slug}/webhooks?lang=en",
                               data={"url": receiver.url, "events": ["case.opened", "case.resolved"]})
        assert response.status_code == 302
        page = client.get(f"/admin/surveys/{seeded_survey.slug}/webhooks?lang=en").get_data(as_text=True)
        endpoint = webhooks.endpoints_of(seeded_survey)[0]
        assert endpoint.secret in page and receiver.url in page
        _open_case(seeded_survey)
        delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
        assert delivery.status == "delivered"
        replayed = client.post(f"/admin/surveys/{seeded_survey.slug}/webhooks/deliveries/{delivery.id}/replay")
        assert replayed.status_code == 302 and len(receiver.requests) == 2
        bad = client.post(f"/admin/surveys/{seeded_survey.slug}/webhooks?lang=en",
                          data={"url": "ftp://x", "events": ["case.opened"]})
        assert bad.status_code == 400 and "http:// or https://" in bad.get_data(as_text=True)
    finally:
        receiver.close()
