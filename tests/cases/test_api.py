"""The cases API: same permissions as the pages, contact details only to those allowed."""
from __future__ import annotations

from sqlalchemy import select

from surveyapp.models import Case


def _token(db, user):
    token = user.new_api_token()
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_list_get_patch_and_permissions(client, db, people, submit):
    submit(overall=2, comment="很失望")
    submit(overall=9)
    case = db.session.execute(select(Case)).scalar_one()
    manager, analyst, stranger = (_token(db, people[n]) for n in ("manager", "analyst", "stranger"))
    listed = client.get("/api/v1/surveys/recovery/cases?status=open", headers=manager).get_json()
    assert listed["total"] == 1 and listed["cases"][0]["id"] == case.id
    assert client.get("/api/v1/surveys/recovery/cases?status=resolved", headers=manager).get_json()["total"] == 0
    assert client.get("/api/v1/surveys/recovery/cases?status=nope", headers=manager).status_code == 400
    detail = client.get(f"/api/v1/cases/{case.id}", headers=manager).get_json()
    assert detail["contact"]["email"] == "cu@example.com"
    assert detail["comment"]["label"] == "negative" and detail["comment"]["engine"] == "linear-hashed-ngrams"
    # A researcher the survey is shared with sees the case, not the contact details.
    assert client.get(f"/api/v1/cases/{case.id}", headers=analyst).get_json()["contact"] is None
    assert client.get(f"/api/v1/cases/{case.id}", headers=stranger).status_code == 404
    assert client.patch(f"/api/v1/cases/{case.id}", json={"note": "x"}, headers=stranger).status_code == 404
    bad = client.patch(f"/api/v1/cases/{case.id}", json={"status": "resolved"}, headers=manager)
    assert bad.status_code == 409 and "root_cause" in bad.get_json()["error"]["message"]
    ok = client.patch(f"/api/v1/cases/{case.id}", headers=manager,
                      json={"owner": "manager2", "note": "called", "status": "resolved",
                            "root_cause": "waiting_time", "action_taken": "apologised"})
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["status"] == "resolved" and body["owner"] == "manager2"
    assert [h["kind"] for h in body["history"]][:3] == ["opened", "owner", "note"]
    assert body["resurvey"]["url"]
    again = client.patch(f"/api/v1/cases/{case.id}", json={"status": "closed_unreachable",
                         "root_cause": "other", "action_taken": "x"}, headers=manager)
    assert again.status_code == 409
