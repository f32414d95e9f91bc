"""Settings for surveyapp: one class per environment.

``DATABASE_URL`` selects the database: unset means an SQLite file under
``instance/``; PostgreSQL is ``postgresql+psycopg://user:pass@host/db``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Production refuses to start with any of these (or with no key at all).
INSECURE_SECRET_KEYS = frozenset({"", "dev", "change-me", "development-only-secret-key"})


def _database_url(default_name: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / default_name}"
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = "development-only-secret-key"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    INSTRUMENTS_DIR = str(BASE_DIR / "instruments")
    BABEL_DEFAULT_LOCALE = "zh"
    LANGUAGES = ("zh", "en")
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # uploads (response imports) above this are refused
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    DEMO_RESPONSES = 400
    DEMO_SEED = 20261123
    # A second browser on one invitation link is refused while the first saved within this
    # many seconds; after it, the link may be continued elsewhere (phone, then laptop).
    INVITATION_HANDOVER_SECONDS = 10 * 60

    # Rate limits (Flask-Limiter strings, per client address unless said otherwise). The
    # counters live in RATELIMIT_STORAGE_URI: swept-memory:// (limits' memory:// with a
    # cheaper sweep, surveyapp/limiter_storage.py) is per process; set it to
    # redis://host:6379/0 (environment variable of the same name) so every gunicorn worker
    # and app server shares them.
    RATELIMIT_ENABLED = True
    # Reverse proxies in front of the app (nginx = 1). Their X-Forwarded-For/-Proto are
    # trusted for that many hops, so rate limits and the audit see the customer's address,
    # not the proxy's. 0 = the app faces clients directly (headers ignored: they are forgeable).
    TRUSTED_PROXIES = 0
    RATELIMIT_STORAGE_URI = "swept-memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "surveyapp"
    LOGIN_RATE_LIMIT = "20 per minute;200 per hour"
    PASSWORD_RESET_RATE_LIMIT = "10 per minute;60 per hour"
    # Only requests answered "unknown link" (404) count: guessing tokens, not answering.
    UNKNOWN_LINK_RATE_LIMIT = "20 per minute;100 per hour"
    # Page saves on survey links: ~10 per completed questionnaire. A kiosk or an office
    # behind one address needs more; raise these there.
    SURVEY_POST_RATE_LIMIT = "120 per minute;1200 per hour"
    # Per survey, whatever the address: a ceiling against a distributed flood, set above
    # what 2 cores serve (~20 complete questionnaires/s = ~20,000 page saves a minute).
    SURVEY_POST_PER_SURVEY_RATE_LIMIT = "30000 per minute"
    # After LOGIN_LOCKOUT_THRESHOLD failed log-ins for one user name (existing or not),
    # it is locked for BASE seconds, doubled at each further failure up to MAX.
    LOGIN_LOCKOUT_ENABLED = True
    LOGIN_LOCKOUT_THRESHOLD = 5
    LOGIN_LOCKOUT_BASE_SECONDS = 60
    LOGIN_LOCKOUT_MAX_SECONDS = 3600
    LOGIN_FAILURE_MEMORY_SECONDS = 24 * 3600
    # Dashboard cache (Flask-Caching), shared by the web workers and the queue worker:
    # files under instance/cache on one machine, Redis (REDIS_URL) across machines.
    CACHE_TYPE = "FileSystemCache"
    CACHE_DIR = str(INSTANCE_DIR / "cache")
    CACHE_DEFAULT_TIMEOUT = 24 * 3600
    CACHE_THRESHOLD = 64
    # Under a second: a page never waits longer; bigger surveys get the polling page.
    DASHBOARD_WAIT_SECONDS = 0.5
    DASHBOARD_WORKERS = 2
    DASHBOARD_MEDIATION_BOOT = 200
    DASHBOARD_CSI_BOOT = 0
    # E-mail (services/mailer.py): no MAIL_SERVER, no e-mail (in-app alerts and webhooks still work).
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "surveyapp@localhost"
    MAIL_TIMEOUT_SECONDS = 10.0
    # Alerts (services/alerts.py, services/webhooks.py).
    ALERT_EMAIL_EVENTS = ("case.opened", "case.overdue")
    WEBHOOK_TIMEOUT_SECONDS = 5.0
    WEBHOOK_MAX_ATTEMPTS = 6            # then the delivery is marked failed (and can be replayed)
    WEBHOOK_RETRY_BASE_SECONDS = 10.0   # waits of 10 s, 20 s, 40 s, ... between attempts
    WEBHOOK_ALLOW_PRIVATE = False       # True only where every endpoint is trusted (tests, one LAN)
    # Responses arriving within this many seconds cause one recomputation per survey.
    DASHBOARD_DEBOUNCE_SECONDS = 2.0
    # Filtered views kept warm per survey (most recently viewed; others compute when opened).
    DASHBOARD_WARM_VIEWS = 8
    # Job queue (surveyapp/queue.py, services/jobs.py): QUEUE_URL / REDIS_URL choose the storage.
    QUEUE_IMMEDIATE = False
    JOB_RESULTS_DIR = ""            # "" = instance/jobs; shared storage when several machines serve
    JOB_HEARTBEAT_SECONDS = 5.0
    JOB_STALL_SECONDS = 60.0        # a running job with no heartbeat this long lost its worker
    JOB_LOST_SECONDS = 600.0        # a queued job not claimed this long is sent again
    JOB_MAX_ATTEMPTS = 3
    JOB_KEEP_DAYS = 7
    # Contact details (name, e-mail, phone; the e-mail of an answered invitation) are purged
    # this many days after their case closed, or after submission when there was no case
    # (services/personal_data.py; daily on the queue and `flask contacts purge`).
    CONTACT_RETENTION_DAYS = 180

    @classmethod
    def from_environment(cls) -> dict[str, object]:
        """Settings read from the environment when the app is created (not at import)."""
        settings: dict[str, object] = {"SQLALCHEMY_DATABASE_URI": _database_url("surveyapp.sqlite")}
        if os.environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            settings["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        settings.update(_shared_services_from_environment())
        return settings


#: Settings an operator may set in the environment, with their types.
ENVIRONMENT_SETTINGS = {
    "CACHE_DIR": str, "REPORT_OPTIONS": json.loads,
    "MAIL_SERVER": str, "MAIL_PORT": int, "MAIL_USERNAME": str, "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str, "MAIL_USE_TLS": lambda text: text.lower() in ("1", "true", "yes"),
    "JOB_RESULTS_DIR": str, "JOB_HEARTBEAT_SECONDS": float, "JOB_STALL_SECONDS": float,
    "JOB_LOST_SECONDS": float, "JOB_MAX_ATTEMPTS": int, "DASHBOARD_WAIT_SECONDS": float,
    "DASHBOARD_DEBOUNCE_SECONDS": float, "TRUSTED_PROXIES": int, "CONTACT_RETENTION_DAYS": int,
}


def _shared_services_from_environment() -> dict[str, object]:
    """Redis for the cache when ``REDIS_URL`` is set, and the operator's job settings."""
    settings: dict[str, object] = {}
    redis_url = os.environ.get("REDIS_URL", "").strip()
    if redis_url:
        settings.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url)
    for name, kind in ENVIRONMENT_SETTINGS.items():
        text = os.environ.get(name, "").strip()
        if text:
            try:
                settings[name] = kind(text)
            except ValueError:
                raise RuntimeError(f"{name}={text!r} cannot be read as {kind.__name__}") from None
    return settings


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    WTF_CSRF_ENABLED = False
    DEMO_RESPONSES = 60
    # Off for the functional tests; tests/security switches them on.
    RATELIMIT_ENABLED = False
    LOGIN_LOCKOUT_ENABLED = False
    QUEUE_IMMEDIATE = True
    CACHE_TYPE = "SimpleCache"

    @classmethod
    def from_environment(cls) -> dict[str, str]:
        # Tests never touch the developer's database: in-memory unless told otherwise.
        return {"SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL", "sqlite://")}


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    SECURITY_HSTS = True  # Strict-Transport-Security: the site is only ever served over HTTPS

    @classmethod
    def check(cls) -> None:
        """Refuse to run production on a guessable key."""
        key = os.environ.get("SECRET_KEY", "")
        if key in INSECURE_SECRET_KEYS or len(key) < 32:
            raise RuntimeError(
                "ProductionConfig needs SECRET_KEY set to a random string of at least 32 "
                "characters, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by ``SURVEYAPP_CONFIG`` (default: development)."""
    name = os.environ.get("SURVEYAPP_CONFIG", "development").strip().lower()
    if name not in CONFIGS:
        raise RuntimeError(f"SURVEYAPP_CONFIG={name!r}: choose one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
