"""Issue 16, finding 8: roles per share, checked in one place for the pages and the API.

Before: a researcher a survey was shared with could re-share and un-share it,
a shared survey did not appear on their list, and a shared manager pulled the
raw responses and comments through the API although the web export was
researcher-only. Now a share is ``viewer`` (dashboard, cases), ``analyst``
(+ exports and the API's response data) or ``editor`` (+ builder and
invitations); only the owner or an admin changes shares; and every survey
page and API endpoint asks ``surveyapp.access.require_survey_access``.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from surveyapp import create_app
from surveyapp.access import may, require_survey_access
from surveyapp.extensions import db as _db
from surveyapp.models import AuditEvent, Case, Role, ShareRole, SurveyShare, User


def _share(db, survey, user, role: str) -> None:
    db.session.add(SurveyShare(survey_id=survey.id, user_id=user.id, role=role))
    db.session.commit()


def _shares(db, survey) -> dict[str, str]:
    rows = db.session.execute(sa.select(User.username, SurveyShare.role).join(
        SurveyShare, SurveyShare.user_id == User.id).where(SurveyShare.survey_id == survey.id))
    return dict(rows.all())


@pytest.fixture
def survey(app, seeded_survey):
    # Jobs are only queued: the check happens before, and running them is another test's job.
    app.config["QUEUE_IMMEDIATE"] = False
    return seeded_survey


# --------------------------------------------------------------------------
# Who changes shares
# --------------------------------------------------------------------------

def test_a_shared_researcher_can_no_longer_reshare_or_unshare(client, db, survey, make_user, login):
    """The finding: an editor share (what a researcher's share was) re-shared and un-shared."""
    colleague = make_user("colleague")
    make_user("friend-of-colleague", Role.MANAGER)
    manager = db.session.execute(sa.select(User).where(User.role == Role.MANAGER.value)).scalars().first()
    _share(db, survey, colleague, ShareRole.EDITOR.value)
    before = _shares(db, survey)
    login("colleague")
    slug = survey.slug
    assert client.post(f"/admin/surveys/{slug}/shares",
                       data={"username": "friend-of-colleague", "role": "editor"}).status_code == 403
    assert client.post(f"/admin/surveys/{slug}/shares/{manager.id}/remove").status_code == 403
    assert client.post(f"/admin/surveys/{slug}/shares/{colleague.id}/role",
                       data={f"share{colleague.id}-role": "editor"}).status_code == 403
    db.session.expire_all()
    assert _shares(db, survey) == before
    assert db.session.execute(sa.select(AuditEvent).where(AuditEvent.action.like("share%"))).first() is None
    # The overview shows the editor the shares but no form to change them.
    page = client.get(f"/admin/surveys/{slug}").get_data(as_text=True)
    assert "colleague" in page and f"/admin/surveys/{slug}/shares\"" not in page


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_or_admin_adds_changes_and_removes_shares_and_each_is_audited(client, db, survey, make_user,
                                                                          login, who):
    if who == "owner":
        survey.owner.set_password("correct horse battery")
        db.session.commit()
        login(survey.owner.username)
    else:
        make_user("root", Role.ADMIN)
        login("root")
    guest = make_user("guest", Role.MANAGER)
    slug = survey.slug
    client.post(f"/admin/surveys/{slug}/shares", data={"username": "guest", "role": "analyst"})
    assert _shares(db, survey)["guest"] == "analyst"
    page = client.get(f"/admin/surveys/{slug}").get_data(as_text=True)
    assert 'name="share%d-role"' % guest.id in page
    client.post(f"/admin/surveys/{slug}/shares/{guest.id}/role", data={f"share{guest.id}-role": "editor"})
    db.session.expire_all()
    assert _shares(db, survey)["guest"] == "editor"
    assert client.post(f"/admin/surveys/{slug}/shares/{guest.id}/role",
                       data={f"share{guest.id}-role": "owner"}).status_code == 400
    client.post(f"/admin/surveys/{slug}/shares/{guest.id}/remove")
    db.session.expire_all()
    assert "guest" not in _shares(db, survey)
    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action.like("share%"))
                                .order_by(AuditEvent.id)).scalars().all()
    actor = survey.owner.username if who == "owner" else "root"
    assert [(e.action, e.target, e.detail, e.username, e.survey_slug) for e in events] == [
        ("share_added", "user:guest", {"role": "analyst"}, actor, slug),
        ("share_changed", "user:guest", {"from": "analyst", "to": "editor"}, actor, slug),
        ("share_removed", "user:guest", {"role": "editor"}, actor, slug)]


def test_an_unknown_share_role_is_refused(client, db, survey, make_user, login):
    survey.owner.set_password("correct horse battery")
    make_user("guest")
    db.session.commit()
    login(survey.owner.username)
    client.post(f"/admin/surveys/{survey.slug}/shares", data={"username": "guest", "role": "owner"})
    assert "guest" not in _shares(db, survey)


# --------------------------------------------------------------------------
# The matrix: each share role (held by a manager and by a researcher) x each route family,
# page and API answering the same.
# --------------------------------------------------------------------------

ALLOWED = {  # route family -> the share roles that may use it (owner and admins: all)
    "dashboard": {"viewer", "analyst", "editor"},
    "cases": {"viewer", "analyst", "editor"},
    "exports": {"analyst", "editor"},
    "responses": {"analyst", "editor"},
    "analysis": {"analyst", "editor"},
    "builder": {"editor"},
    "invitations": {"editor"},
    "shares": set(),
}


def _page(client, family: str, slug: str, case_id: int, user_id: int):
    """The web page of a route family: its answer's status code."""
    return {
        "dashboard": lambda: client.get(f"/dashboard/{slug}"),
        "cases": lambda: client.get(f"/cases/case/{case_id}"),
        "exports": lambda: client.get(f"/admin/surveys/{slug}/export?format=csv"),
        "responses": lambda: client.get(f"/admin/surveys/{slug}/export?format=xlsx"),
        "analysis": lambda: client.get(f"/admin/surveys/{slug}/export?format=stats-xlsx"),
        "builder": lambda: client.get(f"/admin/surveys/{slug}/edit"),
        "invitations": lambda: client.get(f"/admin/surveys/{slug}/invitations"),
        "shares": lambda: client.post(f"/admin/surveys/{slug}/shares/{user_id}/role",
                                      data={f"share{user_id}-role": "editor"}),
    }[family]().status_code


def _api(client, family: str, slug: str, case_id: int, token: str):
    """The API endpoint of a route family (None where the API has none)."""
    url = {"dashboard": f"/api/v1/surveys/{slug}", "cases": f"/api/v1/cases/{case_id}",
           "responses": f"/api/v1/surveys/{slug}/responses",
           "exports": f"/api/v1/surveys/{slug}/responses?per_page=500",
           "analysis": f"/api/v1/surveys/{slug}/analysis"}.get(family)
    if url is None:
        return None
    return client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code


def _allowed(status: int) -> bool:
    if status in (403, 404):
        return False
    assert status in (200, 202, 302), status
    return True


@pytest.mark.parametrize("account_role", [Role.MANAGER, Role.RESEARCHER])
@pytest.mark.parametrize("share_role", ["viewer", "analyst", "editor", None])
def test_pages_and_api_answer_the_same_for_each_role_and_route_family(app, client, db, survey, make_user,
                                                                     login, account_role, share_role):
    user = make_user("holder", account_role)
    if share_role is not None:
        _share(db, survey, user, share_role)
    token = user.new_api_token()
    db.session.commit()
    case_id = db.session.execute(sa.select(Case.id).where(Case.survey_id == survey.id)).scalars().first()
    assert case_id is not None, "the demo survey has cases"
    login("holder")
    for family, roles in ALLOWED.items():
        expected = share_role in roles
        page = _page(client, family, survey.slug, case_id, user.id)
        assert _allowed(page) is expected, (family, share_role, account_role, page)
        api = _api(client, family, survey.slug, case_id, token)
        if api is not None:
            assert _allowed(api) is expected, (family, share_role, account_role, "api", api)


def test_the_owner_and_an_admin_pass_every_family(client, db, survey, make_user, login):
    admin = make_user("root", Role.ADMIN)
    other = make_user("someone", Role.MANAGER)
    _share(db, survey, other, "viewer")
    token = admin.new_api_token()
    db.session.commit()
    case_id = db.session.execute(sa.select(Case.id).where(Case.survey_id == survey.id)).scalars().first()
    login("root")
    for family in ALLOWED:
        assert _allowed(_page(client, family, survey.slug, case_id, other.id)), family
        api = _api(client, family, survey.slug, case_id, token)
        assert api is None or _allowed(api), family
    for need in ("view", "analyse", "edit", "share"):
        assert may(survey.owner, survey, need)


def test_a_shared_manager_gets_no_raw_responses_or_comments_through_the_api(client, db, survey, make_user):
    """The finding: a manager the survey was shared with read every comment via /responses."""
    manager = make_user("branch-manager", Role.MANAGER)
    _share(db, survey, manager, "viewer")
    token = manager.new_api_token()
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.get(f"/api/v1/surveys/{survey.slug}/responses", headers=headers)
    assert refused.status_code == 403
    assert "comment" not in refused.get_data(as_text=True)
    assert "analyse" in refused.get_json()["error"]["message"]
    # An analyst share opens them, as it opens the web export.
    db.session.execute(sa.update(SurveyShare).where(SurveyShare.user_id == manager.id).values(role="analyst"))
    db.session.commit()
    body = client.get(f"/api/v1/surveys/{survey.slug}/responses", headers=headers).get_json()
    assert body["total"] > 0 and "comment" in body["responses"][0]


def test_require_survey_access_refuses_an_unknown_need(app, survey):
    with pytest.raises(ValueError, match="need must be one of"):
        require_survey_access(survey, "delete", user=survey.owner)
    with pytest.raises(ValueError, match="need must be one of"):
        may(survey.owner, survey, "delete")


# --------------------------------------------------------------------------
# Shared surveys on the recipient's lists, with their role
# --------------------------------------------------------------------------

def test_shared_surveys_appear_on_the_recipients_lists_with_their_role(client, db, survey, make_user, login):
    researcher = make_user("colleague")
    _share(db, survey, researcher, "analyst")
    token = researcher.new_api_token()
    db.session.commit()
    login("colleague")
    english = {"Accept-Language": "en"}
    admin_list = client.get("/admin/", headers=english).get_data(as_text=True)
    assert survey.slug in admin_list and '<td class="my-role">analyst</td>' in admin_list
    home = client.get("/", headers=english).get_data(as_text=True)
    assert f'id="home-{survey.slug}"' in home and '<span class="my-role">analyst</span>' in home
    assert f"/admin/surveys/{survey.slug}/edit" not in home  # an analyst does not edit
    listed = client.get("/api/v1/surveys", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert listed["surveys"][0]["access"] == {"role": "analyst", "may": ["analyse", "view"]}


# --------------------------------------------------------------------------
# Contact details of a case: unchanged rule (admins, the owner, managers it is shared with)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("account_role, share_role, sees", [
    (Role.MANAGER, "viewer", True), (Role.MANAGER, "editor", True),
    (Role.RESEARCHER, "editor", False), (Role.RESEARCHER, "analyst", False)])
def test_case_contact_details_follow_the_account_role_not_the_share_role(client, db, survey, make_user,
                                                                         account_role, share_role, sees):
    user = make_user("holder", account_role)
    _share(db, survey, user, share_role)
    token = user.new_api_token()
    db.session.commit()
    from surveyapp.models import Contact
    case_id = db.session.execute(sa.select(Case.id).join(Contact, Contact.response_id == Case.response_id)
                                 .where(Case.survey_id == survey.id)).scalars().first()
    assert case_id is not None, "the demo survey has a case with contact details"
    body = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (body["contact"] is not None) is sees


# --------------------------------------------------------------------------
# The migration keeps the access shares had
# --------------------------------------------------------------------------

def test_migration_maps_researcher_shares_to_editor_and_manager_shares_to_viewer(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"})
    with app.app_context():
        upgrade(revision="0a565b0bc888")  # the schema before share roles
        with _db.engine.begin() as connection:
            for user_id, role in ((1, "researcher"), (2, "manager"), (3, "researcher"), (4, "admin")):
                connection.execute(sa.text(
                    "INSERT INTO \"user\" (id, username, password_hash, role, created_at, session_version) "
                    "VALUES (:id, :name, 'x', :role, '2026-01-01', 1)"), {"id": user_id, "name": f"u{user_id}",
                                                                         "role": role})
            connection.execute(sa.text(
                "INSERT INTO survey (id, slug, title_zh, title_en, owner_id, status, design, created_at, "
                "is_public) VALUES (1, 's', 's', 's', 1, 'draft', '{}', '2026-01-01', 0)"))
            for share_id, user_id in ((1, 2), (2, 3), (3, 4)):
                connection.execute(sa.text("INSERT INTO survey_share (id, survey_id, user_id) "
                                           "VALUES (:id, 1, :user)"), {"id": share_id, "user": user_id})
        upgrade(revision="5b8e2d1c9a47")
        with _db.engine.connect() as connection:
            roles = dict(connection.execute(sa.text("SELECT user_id, role FROM survey_share")).all())
            assert roles == {2: "viewer", 3: "editor", 4: "editor"}
            with pytest.raises(sa.exc.IntegrityError):
                connection.execute(sa.text("UPDATE survey_share SET role = 'owner' WHERE id = 1"))


@pytest.mark.parametrize("account_role, sees", [(Role.MANAGER, True), (Role.RESEARCHER, False)])
def test_follow_up_list_shows_contact_details_by_the_same_rule(client, db, survey, make_user, login,
                                                               account_role, sees):
    from surveyapp.models import Contact
    user = make_user("holder", account_role)
    _share(db, survey, user, "editor")
    emails = set(db.session.execute(sa.select(Contact.email).where(Contact.email.is_not(None))).scalars())
    login("holder")
    csv = client.get(f"/dashboard/{survey.slug}/follow-up.csv")
    assert csv.status_code == 200
    text = csv.get_data(as_text=True)
    assert text.count("\n") > 1, "the demo survey has customers to follow up"
    assert any(email in text for email in emails) is sees


def test_a_started_job_closes_when_the_share_is_downgraded_or_removed(client, db, survey, make_user):
    """An analyst starts the API analysis; downgraded to viewer, or unshared, its job and file
    are 404 to them (the work is no longer theirs to read)."""
    analyst = make_user("analyst-then-viewer", Role.RESEARCHER)
    _share(db, survey, analyst, "analyst")
    token = analyst.new_api_token()
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    started = client.get(f"/api/v1/surveys/{survey.slug}/analysis", headers=headers)
    assert started.status_code == 202
    job_url = started.headers["Location"]
    assert client.get(job_url, headers=headers).status_code == 200
    db.session.execute(sa.update(SurveyShare).where(SurveyShare.user_id == analyst.id).values(role="viewer"))
    db.session.commit()
    assert client.get(job_url, headers=headers).status_code == 404
    assert client.get(f"{job_url}/result", headers=headers).status_code == 404
    db.session.execute(sa.delete(SurveyShare).where(SurveyShare.user_id == analyst.id))
    db.session.commit()
    assert client.get(job_url, headers=headers).status_code == 404
