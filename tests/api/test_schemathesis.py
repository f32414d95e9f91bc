"""Property-based check of /api/v1 against its own OpenAPI document (schemathesis, in-process WSGI).

For every operation schemathesis generates requests from the document and
sends them with a valid token; its default checks then require no 5xx,
documented status codes and content types, bodies matching the response
schemas, and that the token is not ignored. Every other request goes to the
seeded survey (generated slugs alone would only ever meet 404), so the 200
bodies of responses and analysis are checked too. Examples per operation are
bounded so the file runs in well under a minute.

(The operations are driven through ``as_strategy`` and Hypothesis directly:
schemathesis's pytest fixture integration reads a private pytest attribute
that pytest 9 removed.)
"""
from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from surveyapp.models import Role, SurveyShare

EXAMPLES_PER_OPERATION = 30
# The analysis runs every statistic of the survey (seconds per call): fewer examples.
EXAMPLES_OF_ANALYSIS = 6


@pytest.fixture
def api_schema(app, seeded_survey):
    # Bootstrap resamples cost time, not correctness of the API's shape.
    app.config["REPORT_OPTIONS"] = {"csi_boot": 0, "n_boot": 200}
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def token(db, seeded_survey, make_user):
    # A manager the survey is shared with as analyst: the API must serve shared surveys, not only
    # owned ones, and an analyst share opens the response data (a viewer share would get 403s).
    reader = make_user("api-reader", Role.MANAGER)
    db.session.add(SurveyShare(survey_id=seeded_survey.id, user_id=reader.id, role="analyst"))
    issued = reader.new_api_token()
    db.session.commit()
    return issued


def test_every_operation_conforms_to_the_openapi_document(api_schema, token, seeded_survey):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/surveys", "/surveys/{slug}", "/surveys/{slug}/codebook",
        "/surveys/{slug}/responses", "/surveys/{slug}/analysis", "/surveys/{slug}/cases",
        "/cases/{case_id}", "/jobs/{job_id}", "/jobs/{job_id}/result"}
    from surveyapp.models import Case
    from surveyapp.extensions import db
    case_ids = db.session.execute(db.select(Case.id)).scalars().all()
    assert case_ids, "the demo survey has cases"
    turn = itertools.count()
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_OF_ANALYSIS if operation.path.endswith("/analysis")
                  else EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            if case.path_parameters and "slug" in case.path_parameters and next(turn) % 2:
                case.path_parameters["slug"] = seeded_survey.slug
            if case.path_parameters and "case_id" in case.path_parameters and next(turn) % 2:
                case.path_parameters["case_id"] = case_ids[0]
            case.call_and_validate(headers=headers)

        check()
