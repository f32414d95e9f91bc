"""Finding 8 (part): an expired CSRF token on a survey page gave a bare 400 and lost the page,
because the global CSRF check refused before the survey's friendly handler ran. Now the page
comes back with the typed answers and asks to press again; nothing is stored."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services.demo import ensure_demo



def test_expired_token_keeps_the_answers(csrf_app):
    survey = ensure_demo(2, seed=1).survey
    client = csrf_app.test_client()
    page = client.get(f"/s/{survey.slug}?p=1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'name="csrf_token"', page)
    reply = client.post(f"/s/{survey.slug}", headers={"Accept-Language": "en"}, data={
        "page": "1", "action": "next", "PR_CHANNEL": "2", "csrf_token": "expired-or-forged"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200, html[:300]
    assert "please press the button again" in html
    chosen = [tag for tag in re.findall(r'<input[^>]*name="PR_CHANNEL"[^>]*>', html) if "checked" in tag]
    assert len(chosen) == 1 and 'value="2"' in chosen[0], "the typed answer is kept"
    assert db.session.execute(select(func.count()).select_from(Response).where(
        Response.source == "web")).scalar_one() == 0
    # Pressing again with the fresh token (in the page shown) saves.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    from surveyapp.services.pages import survey_pages
    from tests.survey.helpers import page_answers
    answers = {**page_answers(survey_pages(survey.current_version)[0]), "PR_CHANNEL": "2"}
    again = client.post(f"/s/{survey.slug}", data={"page": "1", "action": "next",
                                                  "csrf_token": token, **answers})
    assert again.status_code == 302, re.findall(r"class=\"flash[^<]*<[^<]*", again.get_data(as_text=True))[:3]
