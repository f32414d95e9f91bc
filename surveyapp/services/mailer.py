"""Sending e-mail through the SMTP server in config (``MAIL_*``); one function, used from queue tasks."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app


class MailNotConfigured(RuntimeError):
    """``MAIL_SERVER`` is empty: this installation sends no e-mail."""


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(to: str, subject: str, text: str, *, html: str | None = None,
              headers: dict[str, str] | None = None) -> str:
    """Send one message; returns its Message-ID. Raises ``smtplib.SMTPException`` / ``OSError``.

    Called from queue tasks only (never inside a web request): an SMTP server
    that is slow or down delays the queue, not a person.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        raise MailNotConfigured("MAIL_SERVER is not set")
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                    timeout=float(config["MAIL_TIMEOUT_SECONDS"])) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
    return message["Message-ID"]


def sender_name(address: str, name: str) -> str:
    return formataddr((name, address))
