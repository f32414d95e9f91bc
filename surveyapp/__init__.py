"""surveyapp: survey and satisfaction measurement (Flask application factory)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from config import CONFIGS, Config, ProductionConfig, config_from_env

from .extensions import babel, csrf, db, login_manager, migrate
from .i18n import select_locale


def create_app(config: type[Config] | str | Mapping[str, Any] | None = None) -> Flask:
    """Build the app.

    ``config`` is a config class, the name of one ("development", "testing",
    "production"), or a mapping of overrides on top of the environment's
    config (handy in tests). ``None`` reads ``SURVEYAPP_CONFIG``.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    load_config(app, config)
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_template_context(app)
    return app


def load_config(app: Flask, config: type[Config] | str | Mapping[str, Any] | None) -> None:
    """Settings from the config class, then the environment, then ``config`` overrides."""
    overrides: Mapping[str, Any] = {}
    if config is None:
        config_cls = config_from_env()
    elif isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"unknown config {config!r}: choose one of {', '.join(CONFIGS)}")
        config_cls = CONFIGS[config]
    elif isinstance(config, Mapping):
        config_cls, overrides = config_from_env(), config
    else:
        config_cls = config
    if issubclass(config_cls, ProductionConfig):
        config_cls.check()
    app.config.from_object(config_cls)
    app.config.update(config_cls.from_environment())
    app.config.update(overrides)
    database_url = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    check_database_url(database_url)
    if database_url.startswith("sqlite"):
        # A database file never drops a connection the way a server does: the pre-ping
        # would be one more statement on every request of the answer path.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            key: value for key, value in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items()
            if key != "pool_pre_ping"}
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


#: The databases the app runs on: the moment store's upserts and the row locks of the answer
#: path and the queue are written for these two (docs/scale.md).
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def check_database_url(url: str) -> None:
    """Refuse at start-up a ``DATABASE_URL`` of a database the app does not run on."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValueError(f"DATABASE_URL {url!r} is not a database URL: {error}") from None
    if parsed.get_backend_name() not in SUPPORTED_DATABASES:
        raise ValueError(
            f"DATABASE_URL {parsed.render_as_string(hide_password=True)}: surveyapp runs on "
            "SQLite (sqlite:///path) or PostgreSQL (postgresql+psycopg://user:password@host/db), "
            f"not {parsed.get_backend_name()}")


def register_proxy(app: Flask) -> None:
    """Trust ``TRUSTED_PROXIES`` reverse-proxy hops for the client address and scheme."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise ValueError(f"TRUSTED_PROXIES must be 0 or more, not {hops}")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def register_extensions(app: Flask) -> None:
    from . import database, queue, tasks  # noqa: F401  (tasks: registers the job runners)
    from .services import alerts, audit, dashboard_cache, moment_store  # noqa: F401  (audit: append-only guard)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from . import security
    security.init_app(app)
    dashboard_cache.init_app(app)
    moment_store.init_app(app)
    queue.init_app(app)
    alerts.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience."""
    from . import admin, api, auth, cases, dashboard, inbox, main, survey

    for blueprint in (main.bp, auth.bp, survey.bp, admin.bp, api.bp, dashboard.bp, inbox.bp, cases.bp):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from .cli import register_cli as register_commands
    register_commands(app)


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def inject_language() -> dict[str, Any]:
        return {"lang": select_locale(), "languages": app.config["LANGUAGES"]}
