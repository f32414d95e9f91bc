"""Migrations, atomic submission and the loader on a real PostgreSQL server and on a
file SQLite database with concurrent writers (WAL + busy timeout)."""
from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from surveyapp.extensions import db
from surveyapp.models import Contact, Invitation, Response, Role, User
from surveyapp.services.responses import ContactDetails, responses_frame, submit_response
from surveyapp.services.surveys import create_survey, open_survey





@pytest.fixture
def migrated_app(database_app):
    """A migrated file SQLite or PostgreSQL app (tests/conftest.py)."""
    return database_app


@pytest.fixture
def survey_version(migrated_app):
    owner = User(username="owner", role=Role.RESEARCHER.value)
    owner.set_password("a-long-password")
    db.session.add(owner)
    db.session.commit()
    survey = create_survey(owner, "db-test", "数据库", "Database", {
        "firm": {"zh": "测试", "en": "Test"}, "languages": ["zh", "en"],
        "servqual_layout": "blocks", "instruments": [{"id": "overall"}, {"id": "profile"}]})
    return survey, open_survey(survey)


def test_migrations_match_models(migrated_app):
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []


def test_atomic_submission_and_loader(migrated_app, survey_version, monkeypatch):
    survey, version = survey_version
    submit_response(version, {"OV01_E": 8, "OV01_P": 6, "PR_CHANNEL": 1},
                    contact=ContactDetails(email="c@example.com"))

    def broken_contact(**kwargs):
        raise RuntimeError("contact table unavailable")
    from surveyapp.services import responses as module
    with monkeypatch.context() as patch:
        patch.setattr(module, "Contact", broken_contact)
        with pytest.raises(RuntimeError):
            submit_response(version, {"OV01_E": 1}, contact=ContactDetails(email="x@example.com"))
    assert db.session.execute(select(func.count(Response.id))).scalar_one() == 1
    assert db.session.execute(select(func.count(Contact.id))).scalar_one() == 1
    frame = responses_frame(survey)
    assert frame.loc[0, ["OV01_E", "OV01_P", "PR_CHANNEL"]].tolist() == [8.0, 6.0, 1.0]
    assert bool(frame.loc[0, "contact_ok"])


def test_concurrent_writers_all_land(migrated_app, survey_version):
    """Eight threads, each with its own session, submit at once: no 'database is locked'."""
    app = migrated_app
    _, version = survey_version
    version_id = version.id
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(k: int) -> None:
        with app.app_context():
            try:
                from surveyapp.models import SurveyVersion
                mine = db.session.get(SurveyVersion, version_id)
                barrier.wait(timeout=10)
                for i in range(5):
                    submit_response(mine, {"OV01_E": 1 + (k + i) % 10})
            except BaseException as error:  # reported below, with the thread's error
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert db.session.execute(select(func.count(Response.id))).scalar_one() == 40


def test_one_response_per_invitation_under_race(migrated_app, survey_version):
    """Two simultaneous first submissions with one token: exactly one is stored."""
    app = migrated_app
    survey, version = survey_version
    invitation = Invitation(survey_id=survey.id, token="race-token")
    db.session.add(invitation)
    db.session.commit()
    ids = (version.id, invitation.id)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker(value: int) -> None:
        with app.app_context():
            from surveyapp.models import SurveyVersion
            mine = db.session.get(SurveyVersion, ids[0])
            barrier.wait(timeout=10)
            try:
                submit_response(mine, {"OV01_E": value}, invitation_id=ids[1])
                outcomes.append("stored")
            except IntegrityError:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(v,)) for v in (3, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "stored"]
    assert db.session.execute(select(func.count(Response.id)).where(
        Response.invitation_id == invitation.id)).scalar_one() == 1


def test_csv_read_ahead_gives_the_file_of_a_plain_read_and_stops_with_its_reader(
        migrated_app, survey_version):
    """On a database with a connection per thread the CSV export reads the next chunk on a
    second thread (services.exports.read_ahead_raw_frames): same bytes as reading in one
    thread, chunk by chunk; an export stopped early leaves no reader behind."""
    from surveyapp.services import exports
    from surveyapp.services.responses import ResponseFilter

    survey, version = survey_version
    for number in range(25):
        submit_response(version, {"OV01_E": number % 10 + 1, "OV01_P": (number * 3) % 10 + 1,
                                  "PR_CHANNEL": number % 3 + 1},
                        comment=f"=cmd|' /C calc'!A{number}" if number % 7 == 0 else None)
    every = ResponseFilter(complete_only=False)
    read_ahead = b"".join(exports.csv_chunks(survey, every, chunk_size=4))
    assert read_ahead.count(b"\r\n") == 1 + 25
    threads_before = {thread.name for thread in threading.enumerate()}
    frames = exports.read_ahead_raw_frames(survey, every, chunk_size=4)
    first = next(frames)
    assert len(first) == 4
    assert [thread for thread in threading.enumerate()
            if thread.name.startswith("export-read-ahead") and thread.is_alive()]
    frames.close()
    assert not [thread for thread in threading.enumerate()
                if thread.name.startswith("export-read-ahead") and thread.name not in threads_before]
    # The same bytes as the export written from a one-thread read.
    original = exports.read_ahead_raw_frames
    try:
        exports.read_ahead_raw_frames = exports.iter_raw_frames
        assert b"".join(exports.csv_chunks(survey, every, chunk_size=4)) == read_ahead
    finally:
        exports.read_ahead_raw_frames = original
