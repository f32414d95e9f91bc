"""The analysis job's chunked loader equals the one-query loader (responses_frame)."""
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from surveyapp.models import Role
from surveyapp.services.analysis import analysis_frame
from surveyapp.services.responses import ResponseFilter, responses_frame, submit_response
from surveyapp.services.surveys import create_survey, open_survey


@pytest.fixture
def answered_survey(db, make_user):
    owner = make_user("owner", Role.RESEARCHER)
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "servqual_layout": "blocks",
              "instruments": [{"id": "overall"}, {"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "profile", "items": ["PR_CHANNEL"]}]}
    survey = create_survey(owner, "loader", "加载", "Loader", design)
    version = open_survey(survey)
    rng = np.random.default_rng(3)
    base = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    for i in range(23):
        values = {"SQ01_E": int(rng.integers(1, 8)), "SQ01_P": int(rng.integers(1, 8)),
                  "PR_CHANNEL": int(rng.integers(1, 3))}
        if i % 4:
            values["SQ02_E"] = int(rng.integers(1, 8))
        submit_response(version, values, submitted_at=base + timedelta(hours=i), started_at=base)
    return survey


@pytest.mark.parametrize("filters", [None, ResponseFilter(segments={"PR_CHANNEL": [1]}),
                                     ResponseFilter(start=datetime(2026, 3, 2, 20, tzinfo=timezone.utc))])
def test_chunked_loader_equals_responses_frame(db, answered_survey, filters):
    expected = responses_frame(answered_survey, filters).sort_values("response_id", ignore_index=True)
    for chunk_size in (1, 5, 100):
        got = analysis_frame(answered_survey, filters, chunk_size=chunk_size)
        # The answers are held as float32 (exact for answer codes), the same numbers.
        answers = [c for c in expected.columns if expected[c].dtype == np.float64
                   and c != "duration_seconds"]
        assert (got[answers].dtypes == np.float32).all()
        pd.testing.assert_frame_equal(got.astype({c: "float64" for c in answers}), expected)


def test_chunked_loader_of_an_empty_survey(db, answered_survey):
    nothing = ResponseFilter(start=datetime(2030, 1, 1, tzinfo=timezone.utc))
    pd.testing.assert_frame_equal(analysis_frame(answered_survey, nothing),
                                  responses_frame(answered_survey, nothing))
