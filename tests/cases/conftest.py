"""A small survey with a rule, a manager it is shared with, and helpers to submit responses."""
from __future__ import annotations

import pytest

from surveyapp.models import Role, SurveyShare
from surveyapp.services.responses import ContactDetails, submit_response
from surveyapp.services.surveys import create_survey, open_survey


@pytest.fixture
def people(make_user):
    return {"owner": make_user("owner"), "manager": make_user("manager", Role.MANAGER),
            "manager2": make_user("manager2", Role.MANAGER),
            "analyst": make_user("analyst", Role.RESEARCHER),
            "stranger": make_user("stranger", Role.MANAGER)}


@pytest.fixture
def make_case_survey(db, people):
    """``make_case_survey(slug, instruments)``: an open survey of the owner, shared with both
    managers and the analyst."""
    def make(slug: str, instruments: list[dict], title_zh: str = "服务补救", title_en: str = "Recovery"):
        design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
                  "instruments": instruments}
        survey = create_survey(people["owner"], slug, title_zh, title_en, design)
        for name in ("manager", "manager2", "analyst"):
            db.session.add(SurveyShare(survey_id=survey.id, user_id=people[name].id))
        db.session.commit()
        open_survey(survey)
        return survey
    return make


@pytest.fixture
def survey(make_case_survey):
    return make_case_survey("recovery", [{"id": "servqual", "items": ["SQ01", "SQ02"]},
                                         {"id": "overall", "items": None}])


@pytest.fixture
def submit(survey):
    def do(overall: int = 8, comment: str | None = None, email: str | None = "cu@example.com",
           complete: bool = True, response=None, lang: str = "zh", started_at=None):
        values = {"OVS1": overall, "SQ01_E": 5, "SQ01_P": 5, "SQ02_E": 6, "SQ02_P": 6}
        return submit_response(survey.current_version, values, response=response, complete=complete,
                               comment=comment, language=lang, started_at=started_at,
                               contact=ContactDetails(name="Ms Li", email=email)
                               if email and response is None else None)
    return do
