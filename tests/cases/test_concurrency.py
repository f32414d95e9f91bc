"""A case is opened exactly once when many workers check the same response at the same time."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db as _db
from surveyapp.models import Case



@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_checks_open_one_case(backend, tmp_path):
    if backend == "postgresql":
        url = os.environ.get("TEST_POSTGRES_URL")
        if not url:
            pytest.skip("TEST_POSTGRES_URL is not set")
    else:
        url = f"sqlite:///{tmp_path}/cases.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        from surveyapp.models import Role, SurveyShare, User
        from surveyapp.services import cases
        from surveyapp.services.responses import submit_response
        from surveyapp.services.surveys import create_survey, open_survey
        from surveyapp import queue
        owner = User(username="owner", role=Role.RESEARCHER.value)
        owner.set_password("x")
        _db.session.add(owner)
        _db.session.commit()
        survey = create_survey(owner, "conc", "并发", "Concurrent",
                               {"firm": {"zh": "银行", "en": "Bank"}, "languages": ["zh", "en"],
                                "instruments": [{"id": "overall", "items": None}]})
        version = open_survey(survey)
        queue.huey.immediate = False  # nothing runs at submission: the threads below race
        try:
            responses = [submit_response(version, {"OVS1": 1}).id for _ in range(5)]
        finally:
            queue.huey.immediate = True
        errors = []
        barrier = threading.Barrier(8)

        def check(response_id: int) -> None:
            with app.app_context():
                try:
                    barrier.wait()
                    cases.open_case_for_response(response_id)
                except Exception as error:  # noqa: BLE001  (reported below)
                    errors.append(error)
                finally:
                    _db.session.remove()

        for response_id in responses:
            threads = [threading.Thread(target=check, args=(response_id,)) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            barrier.reset()
        assert errors == []
        counts = dict(_db.session.execute(select(Case.response_id, func.count()).group_by(Case.response_id)).all())
        assert counts == {rid: 1 for rid in responses}
        # Repeated delivery later changes nothing either.
        for response_id in responses:
            assert cases.open_case_for_response(response_id).response_id == response_id
        assert _db.session.execute(select(func.count()).select_from(Case)).scalar() == len(responses)
        # End this session's transaction first: on PostgreSQL, DROP TABLE waits for its locks.
        _db.session.remove()
        _db.drop_all()
