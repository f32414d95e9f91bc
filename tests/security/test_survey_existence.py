"""Finding 8: 403 for "not yours" and 404 for "no such survey" told a stranger which link names
exist. Every researcher, manager and API route now answers both the same way (404)."""
from __future__ import annotations

import re

import pytest

from surveyapp.models import Role

PAGES = ["/admin/surveys/{slug}", "/admin/surveys/{slug}/edit", "/admin/surveys/{slug}/preview",
         "/admin/surveys/{slug}/invitations", "/admin/surveys/{slug}/invitations.csv",
         "/admin/surveys/{slug}/export?format=csv", "/admin/surveys/{slug}/webhooks",
         "/admin/surveys/{slug}/erase?response=1",
         "/dashboard/{slug}", "/dashboard/{slug}/follow-up", "/dashboard/{slug}/follow-up.csv",
         "/dashboard/{slug}/chart/servqual_dimensions.csv",
         "/cases/{slug}/", "/cases/{slug}/rule", "/cases/{slug}/recovery"]
POSTS = ["/admin/surveys/{slug}/close", "/admin/surveys/{slug}/open", "/admin/surveys/{slug}/import",
         "/admin/surveys/{slug}/invitations/generate", "/admin/surveys/{slug}/erase"]
API = ["/api/v1/surveys/{slug}", "/api/v1/surveys/{slug}/codebook", "/api/v1/surveys/{slug}/responses",
       "/api/v1/surveys/{slug}/analysis", "/api/v1/surveys/{slug}/cases"]


def _same(reply_a, reply_b, slug_a, slug_b):
    """Status and body alike once the slug itself is blanked."""
    text_a = reply_a.get_data(as_text=True).replace(slug_a, "SLUG")
    text_b = reply_b.get_data(as_text=True).replace(slug_b, "SLUG")
    return reply_a.status_code == reply_b.status_code and text_a == text_b


@pytest.mark.parametrize("who", [Role.RESEARCHER, Role.MANAGER])
def test_stranger_cannot_tell_a_foreign_survey_from_a_missing_one(client, make_user, login,
                                                                  seeded_survey, who):
    make_user("mallory", who)
    login("mallory")
    real, missing = seeded_survey.slug, "no-such-bank"
    for template in PAGES:
        a, b = client.get(template.format(slug=real)), client.get(template.format(slug=missing))
        assert a.status_code in (403, 404) and _same(a, b, real, missing), (template, a.status_code)
        if who is Role.RESEARCHER:
            assert a.status_code == 404, template
    for template in POSTS:
        a, b = client.post(template.format(slug=real)), client.post(template.format(slug=missing))
        assert _same(a, b, real, missing), (template, a.status_code, b.status_code)


def test_api_answers_404_for_a_foreign_survey_like_a_missing_one(client, db, make_user, seeded_survey):
    stranger = make_user("mallory")
    token = stranger.new_api_token()
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    real, missing = seeded_survey.slug, "no-such-bank"
    for template in API:
        a = client.get(template.format(slug=real), headers=headers)
        b = client.get(template.format(slug=missing), headers=headers)
        assert a.status_code == 404 and _same(a, b, real, missing), (template, a.get_json())
    from sqlalchemy import select
    from surveyapp.models import Case
    case = db.session.execute(select(Case).limit(1)).scalar_one()
    a = client.get(f"/api/v1/cases/{case.id}", headers=headers)
    b = client.get("/api/v1/cases/999999", headers=headers)
    assert a.status_code == b.status_code == 404
    assert re.sub(r"\d+", "N", a.get_data(as_text=True)) == re.sub(r"\d+", "N", b.get_data(as_text=True))
