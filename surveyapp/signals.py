"""Events of the service-recovery loop, as blinker signals (Flask's own signal library).

The code that changes a case sends them; alerts (in-app, e-mail, webhooks)
listen. Neither imports the other. Every signal is sent *after* the change is
committed, with keyword arguments:

``event_id``
    a unique id of this event (webhook deliveries are made exactly once per
    endpoint and event id);
``survey_id``
    the survey the case belongs to (who may be told: its owner, the users it
    is shared with, admins);
``payload``
    a JSON-able dict describing the event for people and machines, with at
    least ``title`` (one line), ``summary`` (a few lines of plain text),
    ``url`` (absolute link to the case page), ``case_id``, ``status``,
    ``priority``; receivers treat it as opaque otherwise.

Receivers must be quick: they store what is to be sent and enqueue it on the
job queue, never send inside the caller's request.
"""
from blinker import Namespace

_events = Namespace()

#: A completed response met the survey's unhappiness rule and a case was opened.
case_opened = _events.signal("case-opened")
#: A case changed owner, status, note or priority (``payload["change"]`` says what).
case_changed = _events.signal("case-changed")
#: A case passed its due time without being resolved (sent once per case).
case_overdue = _events.signal("case-overdue")
#: A case was resolved or closed as unreachable.
case_resolved = _events.signal("case-resolved")

#: Every loop event, by the name webhooks subscribe to.
EVENTS = {"case.opened": case_opened, "case.changed": case_changed,
          "case.overdue": case_overdue, "case.resolved": case_resolved}

#: One respondent was erased on request (services/personal_data.py), after the commit.
#: Keyword arguments: ``survey_id``, ``response_id``, ``status`` (the response's status
#: before erasure: "complete" or "partial"), ``submitted_at`` (datetime or None) and
#: ``version_id``. Anything that keeps its own copy or aggregate of responses (running
#: totals of the dashboard, moment tables, search indexes) connects here and takes the
#: response out, e.g. ``response_erased.connect(on_response_erased)``. Not a webhook event.
response_erased = _events.signal("response-erased")
