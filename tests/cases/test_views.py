"""Case pages: list, case page forms, who sees contact details, rule, re-survey, recovery, follow-up."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from surveyapp.models import Case, utcnow


def _csrf(html: str, prefix: str = "") -> str:
    """The form's CSRF token (empty when the test config turns CSRF off)."""
    found = re.search(rf'name="{prefix}csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""


def test_contact_details_only_for_owner_and_shared_managers(client, db, submit, login):
    submit(overall=2, comment="排队太久")
    case = db.session.execute(select(Case)).scalar_one()
    for user, sees in (("owner", True), ("manager", True), ("analyst", False)):
        login(user)
        html = client.get(f"/cases/case/{case.id}?lang=en").get_data(as_text=True)
        assert ("cu@example.com" in html) is sees, user
        assert ('id="case-contact-hidden"' in html) is (not sees)
        assert "trained sentiment model" in html and 'id="case-emotion"' in html
        client.post("/auth/logout")
    login("stranger")
    assert client.get(f"/cases/case/{case.id}").status_code == 404
    assert client.get("/cases/recovery/").status_code == 404


def test_list_filters_and_badge(client, db, submit, login):
    submit(overall=2)
    submit(overall=1)
    first, second = db.session.execute(select(Case).order_by(Case.id)).scalars().all()
    second.overdue = True
    db.session.commit()
    login("manager")
    html = client.get("/cases/recovery/?lang=en").get_data(as_text=True)
    assert 'data-cases-total="2"' in html and 'data-open-cases="2"' in html
    overdue = client.get("/cases/recovery/?lang=en&overdue=1").get_data(as_text=True)
    assert re.findall(r'data-case="(\d+)"', overdue) == [str(second.id)]
    assert client.get("/cases/recovery/?status=bogus").status_code == 400


def test_resolve_through_the_page_then_resurvey_then_recovery(client, db, submit, login):
    submit(overall=2)
    case = db.session.execute(select(Case)).scalar_one()
    login("manager")
    page = client.get(f"/cases/case/{case.id}?lang=en").get_data(as_text=True)
    token = _csrf(page, "resolve-")
    missing = client.post(f"/cases/case/{case.id}/resolve", data={
        "resolve-csrf_token": token, "resolve-root_cause": "", "resolve-action_taken": "x",
        "resolve-outcome": "resolved"})
    assert missing.status_code == 400
    done = client.post(f"/cases/case/{case.id}/resolve", data={
        "resolve-csrf_token": token, "resolve-root_cause": "waiting_time",
        "resolve-action_taken": "Apologised", "resolve-outcome": "resolved"})
    assert done.status_code == 302
    db.session.refresh(case)
    assert case.status == "resolved" and case.resurvey_token
    client.post("/auth/logout")
    form = client.get(f"/cases/r/{case.resurvey_token}").get_data(as_text=True)
    csrf = _csrf(form)
    assert client.post(f"/cases/r/{case.resurvey_token}",
                       data={"csrf_token": csrf, "satisfaction": "9", "comment": "ok"}).status_code == 200
    assert "already" in client.get(f"/cases/r/{case.resurvey_token}?lang=en").get_data(as_text=True)
    login("manager")
    recovery = client.get("/cases/recovery/recovery?lang=en").get_data(as_text=True)
    assert 'id="r-opened">1<' in recovery and 'id="r-resolved">100%<' in recovery
    assert 'data-after="9.00"' in recovery
    # Churn-risk bands in the reader's language, never the stored codes.
    assert '<th scope="row">Medium</th>' in recovery
    in_chinese = client.get("/cases/recovery/recovery?lang=zh").get_data(as_text=True)
    bands = in_chinese.split('id="churn-bands"')[1].split("</table>")[0]
    assert ">高<" in bands and ">中<" in bands and ">低<" in bands and "medium" not in bands


def test_screened_unhappy_customer_is_on_the_follow_up_list(client, db, submit, login):
    for _ in range(3):
        submit(overall=9, started_at=utcnow() - timedelta(minutes=10))
    fast = submit(overall=1)  # took no time: screening flags it
    case = db.session.execute(select(Case)).scalar_one()
    assert case.screening_flags
    login("manager")
    html = client.get("/dashboard/recovery/follow-up?lang=en").get_data(as_text=True)
    assert re.findall(r'data-response="(\d+)"', html) == [str(fast.id)]
    page = client.get(f"/cases/case/{case.id}?lang=en").get_data(as_text=True)
    assert 'id="case-screening"' in page and "too_fast" in page


def test_only_the_owner_changes_the_rule(client, db, survey, login):
    login("manager")
    page = client.get("/cases/recovery/rule?lang=en")
    assert page.status_code == 200
    csrf = _csrf(page.get_data(as_text=True))
    assert client.post("/cases/recovery/rule", data={"csrf_token": csrf, "sla_hours": "24",
                                                      "suppression_days": "30"}).status_code == 403
    client.post("/auth/logout")
    login("owner")
    page = client.get("/cases/recovery/rule?lang=en").get_data(as_text=True)
    csrf = _csrf(page)
    saved = client.post("/cases/recovery/rule", data={
        "csrf_token": csrf, "overall_at_most": "3", "keywords": "fee, 收费", "combine": "any",
        "sla_hours": "24", "suppression_days": "30", "enabled": "y"})
    assert saved.status_code == 302
    from surveyapp.services.cases import case_settings, survey_rule
    rule = survey_rule(survey)
    assert rule.overall_at_most == 3 and rule.keywords == ("fee", "收费") and rule.ratio_below is None
    assert case_settings(survey).sla_hours == 24
