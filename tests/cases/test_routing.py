"""Round robin per segment: owners per value of a segment variable, the survey's pool otherwise."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from analysis.followup import UnhappinessRule
from surveyapp.models import Case
from surveyapp.services import cases as service
from surveyapp.services.responses import submit_response


@pytest.fixture
def branch_survey(make_case_survey):
    """A survey asking the contact channel (a segment variable: 1 counter, 2 telephone, 3 app, 4 web)."""
    return make_case_survey("routed", [{"id": "profile", "items": ["PR_CHANNEL"]},
                                       {"id": "overall", "items": None}], "分区回访", "Routed")


def _unhappy(survey, channel):
    values = {"OVS1": 1} if channel is None else {"OVS1": 1, "PR_CHANNEL": channel}
    return submit_response(survey.current_version, values, complete=True, language="zh")


def _owners(db, survey):
    return [c.owner.username if c.owner else None for c in db.session.execute(
        select(Case).where(Case.survey_id == survey.id).order_by(Case.id)).scalars()]


def test_cases_go_round_the_owners_of_their_segment(db, people, branch_survey):
    routing = service.SegmentRouting("PR_CHANNEL", {1: [people["manager2"].id],
                                                     2: [people["owner"].id, people["manager"].id]})
    service.save_settings(branch_survey, UnhappinessRule(), sla_hours=48, suppression_days=90,
                          routing=routing)
    for channel in (1, 2, 1, 2, 2):
        _unhappy(branch_survey, channel)
    # Counter customers all go to manager2; telephone ones alternate owner, manager, owner.
    assert _owners(db, branch_survey) == ["manager2", "owner", "manager2", "manager", "owner"]
    # Unlisted value and no answer: the survey's pool (its managers), fewest cases first.
    _unhappy(branch_survey, 3)
    _unhappy(branch_survey, None)
    assert _owners(db, branch_survey)[5:] == ["manager", "manager"]
    # Routing survives a save without it; an empty routing puts everything back in the pool.
    service.save_settings(branch_survey, UnhappinessRule(), sla_hours=24, suppression_days=90)
    assert service.survey_routing(branch_survey) == routing
    service.save_settings(branch_survey, UnhappinessRule(), sla_hours=24, suppression_days=90,
                          routing=service.SegmentRouting())
    _unhappy(branch_survey, 2)  # routed, this would go to the owner
    assert _owners(db, branch_survey)[-1] == "manager2"  # managers: manager2 has 2 cases, manager 3

def test_routing_is_checked(db, people, branch_survey, survey):
    with pytest.raises(service.CaseError, match="not a segment variable"):
        service.check_routing(branch_survey, service.SegmentRouting("OVS1", {1: [people["manager"].id]}))
    with pytest.raises(service.CaseError, match="no value 9"):
        service.check_routing(branch_survey, service.SegmentRouting("PR_CHANNEL", {9: [people["manager"].id]}))
    with pytest.raises(service.CaseError, match="shared with"):
        service.check_routing(branch_survey, service.SegmentRouting("PR_CHANNEL", {1: [people["stranger"].id]}))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""


def test_routing_in_the_rule_form(client, db, people, branch_survey, login):
    login("owner")
    page = client.get("/cases/routed/rule?lang=en").get_data(as_text=True)
    assert 'id="case-routing"' in page and '<option value="PR_CHANNEL">' in page
    form = {"csrf_token": _csrf(page), "combine": "any", "sla_hours": "48", "suppression_days": "90",
            "enabled": "y", "route_by": "PR_CHANNEL"}
    bad = client.post("/cases/routed/rule", data={**form, "route_owners": "1: manager2\nfax: manager\n2: stranger"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Line 2: start with a value of PR_CHANNEL" in text and "Line 3: stranger is not on" in text
    # Codes or labels (zh or en), full-width colon and comma.
    saved = client.post("/cases/routed/rule", data={**form, "route_owners": "1: manager2\n电话：owner，manager\n"})
    assert saved.status_code == 302
    assert service.survey_routing(branch_survey) == service.SegmentRouting(
        "PR_CHANNEL", {1: [people["manager2"].id], 2: [people["owner"].id, people["manager"].id]})
    again = client.get("/cases/routed/rule?lang=en").get_data(as_text=True)
    assert '<option selected value="PR_CHANNEL">' in again and "2: owner, manager" in again
    # A manager the survey is shared with sees the routing but cannot change it.
    client.post("/auth/logout")
    login("manager")
    assert client.post("/cases/routed/rule", data={**form, "route_by": ""}).status_code == 403
