"""surveyapp: survey and satisfaction measurement (Flask application factory)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import CONFIGS, Config, ProductionConfig, config_from_env

from .extensions import babel, csrf, db, login_manager, migrate


def create_app(config: type[Config] | str | Mapping[str, Any] | None = None) -> Flask:
    """Build the app.

    ``config`` is a config class, the name of one ("development", "testing",
    "production"), or a mapping of overrides on top of the environment's
    config (handy in tests). ``None`` reads ``SURVEYAPP_CONFIG``.
    """
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

    app = Flask(__name__, instance_relative_config=True,
                instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config_cls)
    app.config.update(config_cls.from_environment())
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from . import security
    security.init_app(app)

    # One blueprint per audience.
    from . import auth, main, survey
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(survey.bp)
    from . import admin
    app.register_blueprint(admin.bp)
    from . import api
    app.register_blueprint(api.bp)
    from . import dashboard
    dashboard.init_app(app)

    from .cli import register_cli
    register_cli(app)

    @app.context_processor
    def inject_language() -> dict[str, Any]:
        return {"lang": select_locale(), "languages": app.config["LANGUAGES"]}

    return app


def select_locale() -> str:
    """``?lang=`` (remembered in the session), else the browser's Accept-Language."""
    from flask import current_app, has_request_context
    if not has_request_context():
        # CLI commands and services run outside requests translate to the default language.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets readers run beside a writer; busy_timeout makes writers wait, not fail."""
    import sqlite3
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
