"""The public survey page (foundation level: render, submit, refuse bad input)."""
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from surveyapp.models import Invitation, Response
from surveyapp.services.responses import codebook_of, responses_frame


def _complete_answers(survey):
    data = {}
    for variable in codebook_of(survey.current_version):
        scale = variable.scale
        if scale["type"] == "rating":
            data[variable.name] = str(scale["max"])
        elif scale["type"] == "choice":
            data[variable.name] = str(scale["options"][0]["value"])
        elif scale["type"] == "constant_sum":
            data[variable.name] = "20"
    return data


def test_home_and_demo_survey_pages(client, seeded_survey):
    assert client.get("/").status_code == 200
    page = client.get(f"/s/{seeded_survey.slug}")
    assert page.status_code == 200
    assert "SQ01_E".encode() in page.data


def test_submit_full_survey_stores_values(client, db, seeded_survey):
    before = len(responses_frame(seeded_survey))
    data = _complete_answers(seeded_survey)
    response = client.post(f"/s/{seeded_survey.slug}", data=data)
    assert response.status_code == 302, response.data[:500]
    frame = responses_frame(seeded_survey)
    assert len(frame) == before + 1
    last = frame.iloc[-1]
    assert all(last[name] == float(value) for name, value in data.items())


def test_tampered_posts_store_nothing(client, db, seeded_survey):
    count = db.session.execute(select(func.count(Response.id))).scalar_one()
    data = _complete_answers(seeded_survey)
    assert client.post(f"/s/{seeded_survey.slug}", data={**data, "SQ01_E": "9"}).status_code == 200
    assert client.post(f"/s/{seeded_survey.slug}", data={**data, "EVIL": "1"}).status_code == 400
    doubled = MultiDict(list(data.items()) + [("SQ01_E", "1")])
    assert client.post(f"/s/{seeded_survey.slug}", data=doubled).status_code == 400
    assert db.session.execute(select(func.count(Response.id))).scalar_one() == count


def test_invitation_answers_once(client, db, seeded_survey):
    invitation = Invitation(survey_id=seeded_survey.id, token="tok-123")
    db.session.add(invitation)
    db.session.commit()
    data = {**_complete_answers(seeded_survey), "t": "tok-123"}
    assert client.post(f"/s/{seeded_survey.slug}?t=tok-123", data=data).status_code == 302
    second = client.post(f"/s/{seeded_survey.slug}?t=tok-123", data=data)
    assert second.status_code == 409
    assert db.session.execute(select(func.count(Response.id)).where(
        Response.invitation_id == invitation.id)).scalar_one() == 1
    assert client.get(f"/s/{seeded_survey.slug}?t=unknown").status_code == 404


def test_closed_survey_page(client, db, seeded_survey):
    from surveyapp.services.surveys import close_survey
    close_survey(seeded_survey)
    page = client.get(f"/s/{seeded_survey.slug}")
    assert page.status_code == 403 and b"closed" in page.data
