"""Sending one e-mail through the configured SMTP server (standard library ``smtplib``).

Settings (config.py): ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``
(STARTTLS), ``MAIL_USERNAME`` / ``MAIL_PASSWORD`` (login when set),
``MAIL_DEFAULT_SENDER``, ``MAIL_TIMEOUT_SECONDS``.

:func:`send_mail` tells apart what a caller must treat differently:

* :class:`MailRejected`: the server refused the recipient (a hard bounce at
  SMTP time); nothing was delivered and retrying will not help;
* :class:`MailNotSent`: the server could not be reached or refused the
  message before accepting it; nothing was delivered, a retry may work.

Any other outcome (the connection dropping *after* the server accepted the
data) cannot be told apart from success by the sender, which is why
services/invitations.py marks an invitation before sending and never sends
a marked one again.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app


class MailNotSent(RuntimeError):
    """The message was certainly not accepted by the server (retrying may work)."""


class MailRejected(MailNotSent):
    """The server refused the recipient address (a bounce): retrying will not help."""


def build_message(to: str, subject: str, body: str, *,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A UTF-8 plain-text message from the configured sender."""
    message = EmailMessage()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, charset="utf-8")
    return message


def send_mail(message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server; raises :class:`MailRejected` / :class:`MailNotSent`.

    Errors while connecting, greeting, STARTTLS or logging in, and a server
    reply refusing the sender or the data, mean the message was not
    accepted. Anything else (a connection lost mid-transfer) propagates: the
    caller cannot know whether it was delivered.
    """
    config = current_app.config
    try:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                            timeout=config.get("MAIL_TIMEOUT_SECONDS", 30))
    except (OSError, smtplib.SMTPException) as error:
        raise MailNotSent(f"cannot reach the mail server: {error}") from error
    with smtp:
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except (OSError, smtplib.SMTPException) as error:
            raise MailNotSent(f"the mail server refused the session: {error}") from error
        try:
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            reasons = "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                                for address, (code, text) in error.recipients.items())
            raise MailRejected(reasons) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise MailNotSent(f"the mail server refused the message: {error}") from error
    if refused:
        # One recipient per message here, so this does not happen; it would be a bounce.
        raise MailRejected("; ".join(refused))
