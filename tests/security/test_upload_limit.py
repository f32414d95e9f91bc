"""Finding 8 (oversize upload): a body over MAX_CONTENT_LENGTH showed a bare 413; now its message
with the limit in MB, on the upload's page (JSON on the API). The global CSRF check reads the
form first, so this is tested with CSRF on, as in production."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Invitation, Response, User


@pytest.fixture
def owner_session(csrf_app):
    """A researcher with a survey, logged in through the CSRF-protected form."""
    from surveyapp.services.surveys import create_survey, open_survey
    csrf_app.config["MAX_CONTENT_LENGTH"] = 2**20
    owner = User(username="owner", role="researcher")
    owner.set_password("correct horse battery")
    db.session.add(owner)
    db.session.commit()
    survey = create_survey(owner, "limits", "限制", "Limits", {
        "firm": {"zh": "银行", "en": "Bank"}, "languages": ["zh", "en"],
        "instruments": [{"id": "overall", "items": None}]})
    open_survey(survey)
    client = csrf_app.test_client()
    client.post("/auth/login", data={"username": "owner", "password": "correct horse battery",
                                     "csrf_token": _token(client.get("/auth/login"))})
    return client


def _token(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


TOO_BIG = b"OVS1\n" + b"7\n" * (2**19 + 10)  # just over 1 MB


def test_oversize_response_import_shows_the_limit_on_the_import_page(owner_session):
    token = _token(owner_session.get("/admin/surveys/limits?lang=en"))
    reply = owner_session.post("/admin/surveys/limits/import", content_type="multipart/form-data",
                               data={"csrf_token": token, "responses": (io.BytesIO(TOO_BIG), "big.csv")})
    assert reply.status_code == 303 and reply.location.endswith("/admin/surveys/limits#exports")
    page = owner_session.get(reply.location).get_data(as_text=True)
    assert "larger than the upload limit of 1 MB" in page and 'id="import-form"' in page
    assert db.session.execute(select(func.count(Response.id))).scalar_one() == 0


def test_oversize_contacts_file_shows_the_limit_on_the_invitations_page(owner_session):
    token = _token(owner_session.get("/admin/surveys/limits/invitations?lang=en"))
    reply = owner_session.post("/admin/surveys/limits/invitations/upload", content_type="multipart/form-data",
                               data={"csrf_token": token, "contacts": (io.BytesIO(TOO_BIG), "c.csv")})
    assert reply.status_code == 303
    page = owner_session.get(reply.location).get_data(as_text=True)
    assert "larger than the upload limit of 1 MB" in page
    assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0


def test_oversize_body_elsewhere_gets_a_page_with_the_message(owner_session):
    reply = owner_session.post("/auth/login?lang=en", data={"username": "x" * (2**20 + 10)})
    assert reply.status_code == 413
    assert 'id="too-large"' in reply.get_data(as_text=True) and "1 MB" in reply.get_data(as_text=True)


def test_oversize_api_body_gets_json_413(app, client, seeded_survey):
    from surveyapp.models import Case
    app.config["MAX_CONTENT_LENGTH"] = 2**20
    case = db.session.execute(select(Case).limit(1)).scalar_one()
    token = seeded_survey.owner.new_api_token()
    db.session.commit()
    reply = client.patch(f"/api/v1/cases/{case.id}", data=b"{" + b" " * (2**20 + 10) + b"}",
                         content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 413 and reply.is_json
    assert reply.get_json()["error"]["status"] == 413
