"""Webhooks: a survey's loop events POSTed to its endpoints, signed, retried, recorded, replayable.

Each event makes one :class:`~surveyapp.models.WebhookDelivery` per endpoint
subscribed to it (unique per endpoint and event id, so a repeated signal
never makes a second one). The queue worker attempts it; a non-2xx answer,
a timeout or a refused connection is recorded on the delivery and retried
after ``WEBHOOK_RETRY_BASE_SECONDS`` x 2^(attempt-1), up to
``WEBHOOK_MAX_ATTEMPTS``; then it is ``failed`` and an admin can replay it.
A slow or failing endpoint delays only its own deliveries: nothing of a
response or a case waits for it.

Signature (what a receiver checks)::

    X-Surveyapp-Timestamp: <unix seconds>
    X-Surveyapp-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    X-Surveyapp-Delivery:  <delivery id>   (the same on every attempt and replay:
                                            receivers drop ids they have seen)
    X-Surveyapp-Event:     case.opened | case.changed | case.overdue | case.resolved

The timestamp inside the signed text lets a receiver refuse replays older
than a few minutes (as Stripe and Slack webhooks do).

Server-side request forgery: an endpoint's host must resolve only to public
addresses; private, loopback, link-local, multicast and reserved targets are
refused unless an admin allowed them for that endpoint (or
``WEBHOOK_ALLOW_PRIVATE`` for the whole installation). The check runs when
the endpoint is saved and again before every attempt (DNS can change).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any, Iterable
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select

from ..database import insert_once
from ..extensions import db
from ..models import Survey, User, WebhookDelivery, WebhookEndpoint, utcnow
from ..queue import app_context, huey
from ..signals import EVENTS

USER_AGENT = "surveyapp-webhooks/1"


class WebhookError(ValueError):
    """An endpoint that cannot be saved (bad URL, forbidden target, unknown event)."""


# --------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------

def check_target(url: str, allow_private: bool = False) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"{url!r}: give an http:// or https:// URL with a host name")
    if allow_private or current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as error:
        raise WebhookError(f"{parts.hostname}: the host name does not resolve ({error.strerror})") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise WebhookError(f"{parts.hostname} resolves to {ip}, a private or reserved address; "
                               "an admin must allow private targets for this endpoint")


def add_endpoint(survey: Survey, url: str, events: Iterable[str], user: User,
                 allow_private: bool = False) -> WebhookEndpoint:
    """Save an endpoint (its secret is generated); ``allow_private`` is for admins only."""
    events = list(events)
    unknown = [event for event in events if event not in EVENTS]
    if not events or unknown:
        raise WebhookError(f"choose events among {', '.join(EVENTS)}"
                           + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    url = url.strip()
    if len(url) > 500:
        raise WebhookError("the URL is longer than 500 characters")
    allow_private = allow_private and user.has_role("admin")
    check_target(url, allow_private)
    endpoint = WebhookEndpoint(survey_id=survey.id, url=url, events=events, allow_private=allow_private,
                               created_by=user.id)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def endpoints_of(survey: Survey) -> list[WebhookEndpoint]:
    return list(db.session.execute(select(WebhookEndpoint).where(WebhookEndpoint.survey_id == survey.id)
                                   .order_by(WebhookEndpoint.id)).scalars())


def deliveries_of(survey: Survey, limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.execute(
        select(WebhookDelivery).join(WebhookEndpoint).where(WebhookEndpoint.survey_id == survey.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)).scalars())


# --------------------------------------------------------------------------
# Deliveries
# --------------------------------------------------------------------------

def event_body(event: str, event_id: str, survey: Survey, payload: dict[str, Any]) -> str:
    return json.dumps({"id": event_id, "event": event, "created_at": utcnow().isoformat(timespec="seconds"),
                       "survey": survey.slug, "data": payload}, ensure_ascii=False, sort_keys=True,
                      default=str)


def queue_deliveries(event: str, event_id: str, survey: Survey, payload: dict[str, Any]) -> list[int]:
    """One delivery per active endpoint subscribed to ``event``, each sent by the queue."""
    body = event_body(event, event_id, survey, payload)
    created = []
    for endpoint in endpoints_of(survey):
        if not endpoint.active or event not in endpoint.events:
            continue
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event_id, event=event, body=body)
        if insert_once(delivery):  # else this event was already queued for this endpoint
            created.append(delivery.id)
    for delivery_id in created:
        deliver_task(delivery_id)
    return created


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``timestamp.body`` under the endpoint's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@huey.task()
def deliver_task(delivery_id: int) -> None:
    with app_context():
        attempt_delivery(delivery_id)


def attempt_delivery(delivery_id: int) -> str:
    """One attempt; schedules the next one on failure. Returns the delivery's status after it."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return delivery.status if delivery else "gone"
    endpoint = delivery.endpoint
    config = current_app.config
    delivery.attempts += 1
    error, code = None, None
    try:
        check_target(endpoint.url, endpoint.allow_private)
        timestamp = str(int(time.time()))
        body = delivery.body.encode()
        response = requests.post(endpoint.url, data=body, timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
                                 allow_redirects=False, headers={
                                     "Content-Type": "application/json", "User-Agent": USER_AGENT,
                                     "X-Surveyapp-Event": delivery.event,
                                     "X-Surveyapp-Delivery": str(delivery.id),
                                     "X-Surveyapp-Timestamp": timestamp,
                                     "X-Surveyapp-Signature": signature(endpoint.secret, timestamp, body)})
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
    except (requests.RequestException, WebhookError) as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    delivery.last_status_code, delivery.last_error = code, error
    if error is None:
        delivery.status, delivery.delivered_at = "delivered", utcnow()
    elif delivery.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status = "failed"
    db.session.commit()
    if delivery.status == "pending":
        delay = config["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** (delivery.attempts - 1)
        deliver_task.schedule((delivery.id,), delay=delay)
    return delivery.status


def replay(delivery: WebhookDelivery) -> None:
    """Send a delivery again (after it failed, or on request): same id, fresh attempts."""
    delivery.status, delivery.attempts, delivery.last_error = "pending", 0, None
    db.session.commit()
    deliver_task(delivery.id)
