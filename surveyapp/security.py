"""Cross-cutting protections wired in by :func:`init_app` (one line in the app factory).

* every submitted form value loses its control characters before any view,
  form or service sees it (:func:`surveyapp.services.text_safety.clean_text`);
* rate limits (Flask-Limiter; the limit strings are config keys read per
  request, see :func:`configured_limit`; the survey pages' limits are
  checked by :func:`respondent_limits` on the same storage) and a
  progressive lock-out of user names after failed log-ins, kept in the
  limiter's storage so every worker sees the same counts;
* a login check that costs one password hash whether or not the user exists;
* security headers on every response (:func:`add_security_headers`);
* a body over ``MAX_CONTENT_LENGTH`` answered with its limit in MB on the
  upload's page (JSON on the API), not a bare 413 (:func:`request_too_large`).
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Callable

from flask import Flask, Request, after_this_request, current_app, request
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, limiter
from .models import User
from .services.text_safety import clean_text


class CleanFormRequest(Request):
    """A request whose ``form`` values are cleaned of control characters once, when parsed.

    One place for every form of the app (survey answers, comments, titles,
    KANO features, account fields): a NUL or ``\\x01`` can no longer reach
    the database or an export. Uploaded files are left alone (the import
    service cleans the cells it keeps).
    """

    def _load_form_data(self) -> None:
        already_parsed = "form" in self.__dict__
        super()._load_form_data()
        if already_parsed:
            return
        form = self.__dict__["form"]
        self.__dict__["form"] = self.parameter_storage_class(
            [(clean_text(key), clean_text(value)) for key, value in form.items(multi=True)])


def configured_limit(key: str) -> Callable[[], str]:
    """A Flask-Limiter limit value read from ``app.config[key]`` at each request."""
    return lambda: current_app.config[key]


def survey_key() -> str:
    """Rate-limit key of the survey a request is for (a limit shared by all its respondents)."""
    return "survey:" + str((request.view_args or {}).get("slug", ""))


def answered_unknown_link(response) -> bool:
    """Count a request against the unknown-link limit only when it was refused as unknown."""
    return response.status_code == 404


@dataclass(frozen=True)
class RespondentLimit:
    """One rate limit of the answer path: a config key of limit strings, a key, a scope.

    ``counted_when`` (a response -> bool) counts a request only after it is
    answered (as Flask-Limiter's ``deduct_when``); the limit is still tested
    before, so a client past it is refused.
    """

    config_key: str
    scope: str
    key: Callable[[], str] = get_remote_address
    counted_when: Callable[[object], bool] | None = None


@lru_cache(maxsize=64)
def _parsed_limits(value: str) -> tuple:
    return tuple(parse_many(value))


def check_respondent_limits(*limits: RespondentLimit) -> None:
    """Count this request against ``limits``; a 429 with ``Retry-After`` if one is exceeded.

    The survey pages' limits, checked with Flask-Limiter's own storage and
    strategy (so every worker sees the same counts) but without its
    per-request machinery, which was a tenth of a page save's server time:
    resolving decorated limits, parsing their strings on every request,
    exemption scopes and headers. Off when the limiter is (``RATELIMIT_ENABLED``).
    """
    if not limiter.enabled:
        return
    strategy = limiter.limiter
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "surveyapp"
    deferred = []
    for limit in limits:
        identifiers = (prefix, "respondent", limit.scope, limit.key())
        for item in _parsed_limits(current_app.config[limit.config_key]):
            if limit.counted_when is not None:
                if not strategy.test(item, *identifiers):
                    _refuse(strategy, item, identifiers)
                deferred.append((limit, item, identifiers))
            elif not strategy.hit(item, *identifiers):
                _refuse(strategy, item, identifiers)
    if deferred:
        @after_this_request
        def count_answered(response):
            for limit, item, identifiers in deferred:
                if limit.counted_when(response):
                    strategy.hit(item, *identifiers)
            return response


def respondent_limits(*limits: RespondentLimit):
    """A view decorator: :func:`check_respondent_limits` before the view runs."""
    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            check_respondent_limits(*limits)
            return view(*args, **kwargs)
        limited.respondent_limited = True
        return limited
    return decorate


@limiter.request_filter
def _has_respondent_limits() -> bool:
    """Flask-Limiter's request filter: a view with :func:`respondent_limits` is limited by them
    alone (the app has no default limits), so Flask-Limiter skips its per-request work for it."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "respondent_limited", False))


#: A client trying invitation tokens (or survey addresses) that do not exist.
UNKNOWN_LINK_LIMIT = RespondentLimit("UNKNOWN_LINK_RATE_LIMIT", "unknown-link",
                                     counted_when=answered_unknown_link)
#: Page saves of one client, and of all clients of one survey.
PAGE_SAVE_LIMIT = RespondentLimit("SURVEY_POST_RATE_LIMIT", "page-save")
SURVEY_PAGE_SAVE_LIMIT = RespondentLimit("SURVEY_POST_PER_SURVEY_RATE_LIMIT", "page-save",
                                         key=survey_key)


def _refuse(strategy, item, identifiers) -> None:
    reset_at, _remaining = strategy.get_window_stats(item, *identifiers)
    raise TooManyRequests(f"Too many requests: {item}. Please wait a moment and try again.",
                          retry_after=max(1, math.ceil(reset_at - time.time())))


# --- log-in ---------------------------------------------------------------

@lru_cache(maxsize=1)
def _decoy_password_hash() -> str:
    # Same method and cost as real hashes (werkzeug's default), made once per process.
    return generate_password_hash("no user has this password")


def authenticate(username: str, password: str) -> User | None:
    """The user named ``username`` if ``password`` is theirs.

    An unknown name is checked against a decoy hash, so the answer takes as long
    as for a wrong password and the timing does not tell which names exist.
    """
    user = db.session.execute(db.select(User).where(User.username == username)
                              ).scalar_one_or_none()
    if user is None:
        check_password_hash(_decoy_password_hash(), password)
        return None
    return user if user.check_password(password) else None


def _lockout_keys(username: str) -> tuple[str, str]:
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return f"{prefix}/login-failures/{digest}", f"{prefix}/login-locked/{digest}"


def _lockout_on() -> bool:
    return bool(current_app.config.get("LOGIN_LOCKOUT_ENABLED"))


def login_locked_for(username: str) -> int:
    """Seconds until ``username`` may try again (0: not locked)."""
    if not _lockout_on():
        return 0
    _, locked_key = _lockout_keys(username)
    if not limiter.storage.get(locked_key):
        return 0
    return max(1, math.ceil(limiter.storage.get_expiry(locked_key) - time.time()))


def note_failed_login(username: str) -> None:
    """Count a failure; from the threshold on, lock the name for twice as long each time."""
    if not _lockout_on():
        return
    config = current_app.config
    failures_key, locked_key = _lockout_keys(username)
    failures = limiter.storage.incr(failures_key, config["LOGIN_FAILURE_MEMORY_SECONDS"])
    over = failures - config["LOGIN_LOCKOUT_THRESHOLD"]
    if over >= 0:
        seconds = min(config["LOGIN_LOCKOUT_BASE_SECONDS"] * 2 ** min(over, 30),
                      config["LOGIN_LOCKOUT_MAX_SECONDS"])
        limiter.storage.clear(locked_key)
        limiter.storage.incr(locked_key, seconds)


def note_successful_login(username: str) -> None:
    if _lockout_on():
        for key in _lockout_keys(username):
            limiter.storage.clear(key)


# --- headers ----------------------------------------------------------------

# No inline script and no eval: scripts are files under static/js (the dashboard's figures
# travel as a JSON data block, which is never executed), plotly.min.js is served by the app.
# Plotly sets style attributes and injects a <style> element, hence 'unsafe-inline' for
# styles only. frame-ancestors 'none' (and X-Frame-Options for old browsers): no framing.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


HSTS_HEADER = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def add_security_headers(response):
    """The headers above on every response; HSTS when ``SECURITY_HSTS`` (production, HTTPS).

    A header the view set itself is kept. (One pass over the response's headers:
    ``Headers.setdefault`` scans them all for each name.)
    """
    present = {name.lower() for name in response.headers.keys()}
    wanted = [*SECURITY_HEADERS.items(), HSTS_HEADER] if current_app.config.get("SECURITY_HSTS") \
        else SECURITY_HEADERS.items()
    response.headers.extend([(name, value) for name, value in wanted
                             if name.lower() not in present])
    return response


# --- uploads over MAX_CONTENT_LENGTH ----------------------------------------

# Where an upload form lives: the page that shows the refusal (its view args are the request's).
UPLOAD_PAGES = {"admin.import_data": ("admin.survey_overview", "exports"),
                "admin.upload_contacts_view": ("admin.invitations", None)}


def upload_limit_mb() -> str:
    """``MAX_CONTENT_LENGTH`` in MB (MiB), as people read it: "20", "0.5"."""
    return f"{current_app.config['MAX_CONTENT_LENGTH'] / 2**20:.3g}"


def request_too_large(error):
    """A body over ``MAX_CONTENT_LENGTH`` (raised wherever the form is first read, often by the
    global CSRF check before any view): the message on the upload's page, JSON on the API."""
    from flask import flash, redirect, render_template, url_for
    from flask_babel import gettext as _

    message = _("Nothing was uploaded: the file is larger than the upload limit of %(limit)s MB; "
                "split it into several files.", limit=upload_limit_mb())
    if request.path.startswith("/api/"):
        # The API's error shape (surveyapp/api), built here: this module imports no blueprint.
        from flask import jsonify
        return jsonify({"error": {"status": 413, "title": "Request Entity Too Large",
                                  "message": f"the request body is larger than the limit of "
                                             f"{upload_limit_mb()} MB"}}), 413
    page = UPLOAD_PAGES.get(request.endpoint or "")
    if page is not None and request.view_args is not None:
        endpoint, anchor = page
        flash(message, "error")
        return redirect(url_for(endpoint, **request.view_args, _anchor=anchor), code=303)
    return render_template("too_large.html", message=message), 413


def init_app(app: Flask) -> None:
    """Install the protections of this module on ``app``."""
    from werkzeug.exceptions import RequestEntityTooLarge

    app.request_class = CleanFormRequest
    limiter.init_app(app)
    app.after_request(add_security_headers)
    app.register_error_handler(RequestEntityTooLarge, request_too_large)
