import pytest

import config
from surveyapp import create_app


def test_database_url_selects_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.internal/survey")
    assert config._database_url("x.sqlite") == "postgresql+psycopg://u:p@db.internal/survey"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/d")
    assert config._database_url("x.sqlite") == "postgresql+psycopg://u:p@h/d"


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = config._database_url("surveyapp.sqlite")
    assert url.startswith("sqlite:///") and url.endswith("instance/surveyapp.sqlite")


@pytest.mark.parametrize("name,debug,testing", [("development", True, False),
                                                ("testing", False, True)])
def test_named_configs(name, debug, testing):
    app = create_app(name)
    assert app.config["DEBUG"] is debug
    assert app.config["TESTING"] is testing


def test_config_from_environment(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_CONFIG", "testing")
    assert create_app().config["TESTING"] is True
    monkeypatch.setenv("SURVEYAPP_CONFIG", "staging")
    with pytest.raises(RuntimeError, match="choose one of"):
        create_app()


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "short-but-not-empty"])
def test_production_refuses_weak_secret_key(monkeypatch, key):
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_real_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "f" * 64)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_unknown_config_name():
    with pytest.raises(ValueError, match="unknown config"):
        create_app("nope")


def test_wsgi_exposes_app(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_CONFIG", "testing")
    import importlib
    import wsgi
    importlib.reload(wsgi)
    assert wsgi.app.name == "surveyapp"


@pytest.mark.parametrize("url", ["mysql+pymysql://user:secret@db/survey", "mssql+pyodbc://u:secret@dsn"])
def test_an_unsupported_database_is_refused_at_start_up_without_its_password(url):
    with pytest.raises(ValueError, match="runs on SQLite .* or PostgreSQL") as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": url})
    assert "secret" not in str(refused.value)


def test_a_malformed_database_url_is_refused_at_start_up():
    with pytest.raises(ValueError, match="not a database URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "not a url"})
