"""Settings for surveyapp: one class per environment.

``DATABASE_URL`` selects the database: unset means an SQLite file under
``instance/``; PostgreSQL is ``postgresql+psycopg://user:pass@host/db``.
"""
from __future__ import annotations

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
    # counters live in RATELIMIT_STORAGE_URI: memory:// is per process; set it to
    # redis://host:6379/0 (environment variable of the same name) so every gunicorn worker
    # and app server shares them.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "surveyapp"
    LOGIN_RATE_LIMIT = "20 per minute;200 per hour"
    PASSWORD_RESET_RATE_LIMIT = "10 per minute;60 per hour"
    # Only requests answered "unknown link" (404) count: guessing tokens, not answering.
    UNKNOWN_LINK_RATE_LIMIT = "20 per minute;100 per hour"
    # Page saves on survey links: ~10 per completed questionnaire. A kiosk or an office
    # behind one address needs more; raise these there.
    SURVEY_POST_RATE_LIMIT = "120 per minute;1200 per hour"
    SURVEY_POST_PER_SURVEY_RATE_LIMIT = "3000 per minute"
    # After LOGIN_LOCKOUT_THRESHOLD failed log-ins for one user name (existing or not),
    # it is locked for BASE seconds, doubled at each further failure up to MAX.
    LOGIN_LOCKOUT_ENABLED = True
    LOGIN_LOCKOUT_THRESHOLD = 5
    LOGIN_LOCKOUT_BASE_SECONDS = 60
    LOGIN_LOCKOUT_MAX_SECONDS = 3600
    LOGIN_FAILURE_MEMORY_SECONDS = 24 * 3600

    @classmethod
    def from_environment(cls) -> dict[str, str]:
        """Settings read from the environment when the app is created (not at import)."""
        settings = {"SQLALCHEMY_DATABASE_URI": _database_url("surveyapp.sqlite")}
        if os.environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            settings["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
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
