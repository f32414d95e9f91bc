"""Finding 8: the home page listed every open survey to anonymous visitors; now only those marked public."""
from __future__ import annotations

from surveyapp.services.surveys import create_survey, open_survey

DESIGN = {"firm": {"zh": "银行", "en": "Bank"}, "languages": ["zh", "en"],
          "instruments": [{"id": "overall", "items": None}]}


def _open(owner, slug, title, public=False):
    survey = create_survey(owner, slug, title, title, DESIGN)
    survey.is_public = public
    open_survey(survey)
    return survey


def test_anonymous_home_lists_only_public_open_surveys(client, db, make_user, seeded_survey):
    owner = make_user("owner")
    _open(owner, "staff-only", "Internal staff survey")
    _open(owner, "everyone", "Open to everyone", public=True)
    draft = create_survey(owner, "draft-public", "Draft but public", "Draft but public", DESIGN)
    draft.is_public = True
    db.session.commit()
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "/s/everyone" in html
    assert "/s/staff-only" not in html and "Internal staff survey" not in html
    assert "/s/draft-public" not in html
    assert f"/s/{seeded_survey.slug}" in html  # the demo survey is public
    # The unlisted survey still answers on its link.
    assert client.get("/s/staff-only").status_code == 200


def test_new_surveys_are_not_public_and_the_builder_sets_it(client, db, make_user, login):
    owner = make_user("owner")
    survey = _open(owner, "unlisted", "Unlisted")
    assert survey.is_public is False
    login("owner")
    page = client.get("/admin/surveys/unlisted/edit?lang=en").get_data(as_text=True)
    assert 'name="is_public"' in page and "public start page" in page
    from tests.admin.test_builder import builder_post
    assert builder_post(client, "unlisted", is_public="y").status_code == 302
    db.session.refresh(survey)
    assert survey.is_public is True
    client.post("/auth/logout")
    assert "/s/unlisted" in client.get("/").get_data(as_text=True)
    login("owner")
    builder_post(client, "unlisted", is_public=[])  # unticked: the browser sends nothing
    db.session.refresh(survey)
    assert survey.is_public is False
