"""Admin survey pages: access, creating, building, previewing, opening, closing, sharing, users."""
import re

import pytest

from surveyapp.models import Response, Role, Survey, SurveyShare, SurveyStatus, User


@pytest.fixture
def researcher(client, make_user, login):
    user = make_user("rita", Role.RESEARCHER)
    login("rita")
    client.get("/?lang=en")  # the session keeps English, so messages can be compared
    return user


def create(client, slug="study", instruments=("servqual", "kano")):
    return client.post("/admin/surveys/new", data={
        "slug": slug, "title_zh": "服务调查", "title_en": "Service study",
        "firm_zh": "快乐银行", "firm_en": "Happy Bank", "instruments": list(instruments)})


def survey_named(db, slug):
    return db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one()


def builder_post(client, slug, **changes):
    """The builder form as the browser would send it for the current design, plus ``changes``."""
    page = client.get(f"/admin/surveys/{slug}/edit").get_data(as_text=True)
    data: dict[str, list[str]] = {}
    for tag in re.finditer(r"<input ([^>]*)>", page):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "submit":
            continue
        if kind in ("checkbox", "radio"):
            if "checked" in tag.group(1):
                data.setdefault(name, []).append(attrs.get("value", "y"))
        else:
            data.setdefault(name, []).append(attrs.get("value", ""))
    data.update({key: value if isinstance(value, list) else [value] for key, value in changes.items()})
    return client.post(f"/admin/surveys/{slug}/edit", data=data)


@pytest.mark.parametrize("url", ["/admin/", "/admin/surveys/new", "/admin/users",
                                 "/admin/surveys/demo-bank", "/admin/surveys/demo-bank/edit",
                                 "/admin/surveys/demo-bank/preview",
                                 "/admin/surveys/demo-bank/invitations",
                                 "/admin/surveys/demo-bank/invitations.csv"])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_managers_do_not_edit_even_shared_surveys(client, db, seeded_survey, login):
    login_name = "demo-manager"
    manager = db.session.execute(db.select(User).where(User.username == login_name)).scalar_one()
    assert db.session.execute(db.select(SurveyShare).where(SurveyShare.user_id == manager.id)).first()
    client.post("/auth/login", data={"username": login_name, "password": "demo-manager-2026"})
    for url in ("/admin/", f"/admin/surveys/{seeded_survey.slug}",
                f"/admin/surveys/{seeded_survey.slug}/edit"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/surveys/{seeded_survey.slug}/close").status_code == 403


def test_researchers_see_only_their_surveys_admins_all(client, db, seeded_survey, researcher,
                                                       make_user, login):
    assert seeded_survey.slug not in client.get("/admin/").get_data(as_text=True)
    assert client.get(f"/admin/surveys/{seeded_survey.slug}").status_code == 404
    make_user("ada", Role.ADMIN)
    client.post("/auth/logout")
    login("ada")
    assert seeded_survey.slug in client.get("/admin/").get_data(as_text=True)
    assert client.get(f"/admin/surveys/{seeded_survey.slug}/edit").status_code == 200


def test_create_then_build_servqual_and_kano(client, db, researcher):
    response = create(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/surveys/study/edit")
    survey = survey_named(db, "study")
    assert survey.status == SurveyStatus.DRAFT.value
    assert [entry["id"] for entry in survey.design["instruments"]] == ["servqual", "kano"]

    # A new survey's KANO list is empty; the bank example is one click away.
    assert survey.design["instruments"][1] == {"id": "kano", "features": []}
    page = client.get("/admin/surveys/study/edit").get_data(as_text=True)
    assert 'id="kano-empty"' in page and "If Happy Bank offered" not in page
    assert client.get("/admin/surveys/study/preview").status_code == 302  # nothing to ask yet
    assert client.post("/admin/surveys/study/kano-example").status_code == 302
    page = client.get("/admin/surveys/study/edit").get_data(as_text=True)
    # The generated KANO wording is offered as the placeholder of the override fields.
    assert 'placeholder="If Happy Bank offered a text message when your queue number' in page
    assert 'id="kano-empty"' not in page

    response = builder_post(
        client, "study", items_servqual=["SQ01", "SQ02", "SQ05"], servqual_layout="side_by_side",
        target_responses="120", opens_at="2026-01-05T09:00",
        **{"features-0-code": "K01", "features-0-feature_zh": "免费停车",
           "features-0-feature_en": "free parking", "features-0-D_en": "No free parking: how is that?",
           **{f"features-{n}-{part}": "" for n in range(1, 13)
              for part in ("code", "feature_zh", "feature_en")},
           "features-1-code": "K20", "features-1-feature_zh": "热茶", "features-1-feature_en": "hot tea",
           "order_kano": "1", "order_servqual": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    survey = survey_named(db, "study")
    assert survey.design["servqual_layout"] == "side_by_side"
    assert survey.target_responses == 120 and survey.opens_at.hour == 9
    kano, servqual = survey.design["instruments"]
    assert servqual == {"id": "servqual", "items": ["SQ01", "SQ02", "SQ05"]}
    assert kano["features"] == [
        {"code": "K01", "feature": {"zh": "免费停车", "en": "free parking"},
         "wording": {"D": {"en": "No free parking: how is that?"}}},
        {"code": "K20", "feature": {"zh": "热茶", "en": "hot tea"}}]


def test_builder_shows_errors_next_to_fields(client, db, researcher):
    create(client)
    response = builder_post(client, "study", title_en="", items_servqual=[], languages=[])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Choose at least one question" in page and "Choose at least one language" in page
    assert survey_named(db, "study").title_en == "Service study"


def test_new_survey_refuses_a_taken_slug(client, researcher, seeded_survey):
    response = create(client, slug=seeded_survey.slug)
    assert response.status_code == 200 and "exists already" in response.get_data(as_text=True)


def test_preview_pages_the_draft_and_stores_nothing(client, db, researcher):
    create(client)
    client.post("/admin/surveys/study/kano-example")
    first = client.get("/admin/surveys/study/preview?lang=en")
    assert first.status_code == 200
    text = first.get_data(as_text=True)
    assert 'name="SQ01_E"' in text and "never stored" in text
    count = int(re.search(r"Page 1 of (\d+)", text).group(1))
    pages = [client.get(f"/admin/surveys/study/preview?p={n}").get_data(as_text=True)
             for n in range(1, count + 1)]
    kano = next(page for page in pages if 'name="K01_F"' in page)
    assert "If Happy Bank offered a text message" in kano
    assert 'name="comment"' in pages[-1]

    invalid = client.post("/admin/surveys/study/preview", data={"page": "1", "action": "next",
                                                                "SQ01_E": "9"})
    assert invalid.status_code == 200 and "Nothing was stored" in invalid.get_data(as_text=True)
    final = client.post("/admin/surveys/study/preview", data={"page": str(count), "action": "next"})
    assert "Preview finished" in final.get_data(as_text=True)
    # ... with the way back to the builder.
    assert 'id="back-to-builder" href="/admin/surveys/study/edit"' in final.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Response.id))).scalar_one() == 0


def test_preview_next_moves_on_when_the_page_is_valid(client, researcher):
    create(client, instruments=("profile",))
    page = client.get("/admin/surveys/study/preview").get_data(as_text=True)
    names = sorted(set(re.findall(r'name="(PR_[A-Z]+)"', page)))
    response = client.post("/admin/surveys/study/preview",
                           data={"page": "1", "action": "next", **{name: "1" for name in names}})
    assert response.status_code == 302 and response.headers["Location"].endswith("p=2")


def test_open_edit_close_versions(client, db, researcher):
    create(client, instruments=("servqual",))
    assert client.post("/admin/surveys/study/open").status_code == 302
    survey = survey_named(db, "study")
    assert survey.status == SurveyStatus.OPEN.value and len(survey.versions) == 1
    assert client.get("/s/study").status_code == 200

    assert builder_post(client, "study", items_servqual=["SQ01"]).status_code == 302
    db.session.expire_all()
    survey = survey_named(db, "study")
    assert [v.number for v in survey.versions] == [1, 2]
    overview = client.get("/admin/surveys/study").get_data(as_text=True)
    assert "Close survey" in overview and 'id="versions"' in overview

    assert client.post("/admin/surveys/study/close").status_code == 302
    db.session.expire_all()
    assert survey_named(db, "study").status == SurveyStatus.CLOSED.value
    assert client.get("/s/study").status_code == 403


def test_open_close_need_post(client, researcher):
    create(client)
    assert client.get("/admin/surveys/study/open").status_code == 405


def test_overview_counts_responses(client, db, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    page = client.get(f"/admin/surveys/{seeded_survey.slug}").get_data(as_text=True)
    complete = db.session.execute(db.select(db.func.count(Response.id)).where(
        Response.status == "complete")).scalar_one()
    partial = db.session.execute(db.select(db.func.count(Response.id)).where(
        Response.status == "partial")).scalar_one()
    assert f"<td>{complete}</td><td>{partial}</td>" in page


def test_sharing_by_user_name(client, db, researcher, make_user):
    manager = make_user("mo", Role.MANAGER)
    create(client)
    client.post("/admin/surveys/study/shares", data={"username": "mo"})
    survey = survey_named(db, "study")
    assert [share.user_id for share in survey.shares] == [manager.id]
    repeated = client.post("/admin/surveys/study/shares", data={"username": "mo"}, follow_redirects=True)
    assert "already" in repeated.get_data(as_text=True)
    unknown = client.post("/admin/surveys/study/shares", data={"username": "nobody"},
                          follow_redirects=True)
    assert "There is no user" in unknown.get_data(as_text=True)
    client.post(f"/admin/surveys/study/shares/{manager.id}/remove")
    db.session.expire_all()
    assert survey_named(db, "study").shares == []


def test_admin_creates_users_and_resets_passwords(client, db, make_user, login):
    make_user("ada", Role.ADMIN)
    login("ada")
    response = client.post("/admin/users", data={"username": "mia", "role": "manager",
                                                 "password": "long enough pw", "email": ""})
    assert response.status_code == 302
    mia = db.session.execute(db.select(User).where(User.username == "mia")).scalar_one()
    assert mia.role == "manager" and mia.check_password("long enough pw")
    assert client.post("/admin/users", data={"username": "mia", "role": "manager",
                                             "password": "long enough pw"}).status_code == 400
    assert client.post("/admin/users", data={"username": "x", "role": "manager",
                                             "password": "short"}).status_code == 400
    client.post(f"/admin/users/{mia.id}/password", data={f"user{mia.id}-password": "brand new secret"})
    db.session.expire_all()
    assert db.session.get(User, mia.id).check_password("brand new secret")


def test_researchers_cannot_manage_users(client, researcher):
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/1/password", data={"user1-password": "whatever123"}).status_code == 403


def test_csrf_protects_admin_posts(make_user):
    from surveyapp import create_app
    from surveyapp.extensions import db as database
    app = create_app({"WTF_CSRF_ENABLED": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        database.create_all()
        user = User(username="rita", role="researcher")
        user.set_password("correct horse battery")
        database.session.add(user)
        database.session.commit()
        client = app.test_client()
        login_page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/auth/login", data={"username": "rita", "password": "correct horse battery",
                                         "csrf_token": token})
        assert client.post("/admin/surveys/new", data={"slug": "x1", "title_zh": "a", "title_en": "b",
                                                       "instruments": ["servqual"]}).status_code == 400
        database.session.remove()
        database.drop_all()


def test_builder_saves_welcome_texts_and_previews_the_welcome_page(client, db, researcher):
    create(client, instruments=("profile",))
    response = builder_post(client, "study", purpose_zh="了解您对排队时间的看法",
                            purpose_en="How long you wait", privacy_en="Kept for one year.")
    assert response.status_code == 302
    survey = survey_named(db, "study")
    assert survey.design["welcome"] == {"purpose": {"zh": "了解您对排队时间的看法",
                                                    "en": "How long you wait"},
                                        "privacy": {"en": "Kept for one year."}}
    edit = client.get("/admin/surveys/study/edit").get_data(as_text=True)
    assert "How long you wait</textarea>" in edit
    welcome = client.get("/admin/surveys/study/preview?p=0").get_data(as_text=True)
    assert "How long you wait" in welcome and "Kept for one year." in welcome
    assert 'id="start" href="/admin/surveys/study/preview?p=1"' in welcome


def test_builder_flags_a_verb_feature_and_shows_generated_sentences(client, db, researcher):
    create(client)
    client.post("/admin/surveys/study/kano-example")
    edit = client.get("/admin/surveys/study/edit").get_data(as_text=True)
    assert "If Happy Bank offered" in edit and "generated-sentences" in edit
    response = builder_post(client, "study", **{"features-0-feature_zh": "提供免费停车"})
    assert response.status_code == 200 and "noun phrase" in response.get_data(as_text=True)


def test_preview_names_the_display_conditions(client, researcher):
    create(client, instruments=("profile",))
    html = client.get("/admin/surveys/study/preview?p=2&lang=en").get_data(as_text=True)
    assert 'name="PR_BRANCH"' in html
    assert "PR_BRANCH is asked only if PR_CHANNEL = 1." in html
