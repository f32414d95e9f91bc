"""The migrations build the schema from nothing and agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from surveyapp import create_app
from surveyapp.extensions import db


def _migrated_app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"})


def test_upgrade_builds_empty_database_from_nothing(tmp_path):
    app = _migrated_app(tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
    assert {"user", "instrument", "item", "survey", "survey_version", "survey_share",
            "invitation", "response", "contact", "alembic_version"} <= tables


def test_models_and_migrations_agree(tmp_path):
    app = _migrated_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"


def test_downgrade_to_base_and_back(tmp_path):
    app = _migrated_app(tmp_path)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "response" in inspect(db.engine).get_table_names()
