"""Login, roles, survey access, and the `flask users` command."""
import pytest
from flask import Blueprint

from surveyapp.access import accessible_survey_or_404, can_access_survey, role_required
from surveyapp.models import Role, Survey, SurveyShare, User


def test_login_page_renders(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert b'name="username"' in response.data


def test_login_with_right_password(client, make_user, login):
    make_user("rita")
    response = login("rita")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session.get("_user_id")


def test_login_with_wrong_password_is_refused(client, make_user, login):
    make_user("rita")
    response = client.post("/auth/login?lang=en",
                           data={"username": "rita", "password": "wrong password"})
    assert response.status_code == 401
    assert b"wrong password" in response.data
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_passwords_are_hashed(make_user):
    user = make_user("rita", password="s3cret-password")
    assert "s3cret-password" not in user.password_hash
    assert user.check_password("s3cret-password") and not user.check_password("other")


def test_login_refuses_offsite_next(client, make_user):
    make_user("rita")
    response = client.post("/auth/login?next=https://evil.example/",
                           data={"username": "rita", "password": "correct horse battery"})
    assert response.headers["Location"] == "/"


def test_logout_needs_post(client, make_user, login):
    make_user("rita")
    login("rita")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.fixture
def guarded_app(app):
    bp = Blueprint("guarded", __name__)

    @bp.route("/guarded/researcher")
    @role_required(Role.RESEARCHER)
    def researcher_only():
        return "ok"

    @bp.route("/guarded/survey/<slug>")
    @role_required(Role.MANAGER, Role.RESEARCHER)
    def survey_page(slug):
        return accessible_survey_or_404(slug).slug

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("role,status", [(Role.RESEARCHER, 200), (Role.ADMIN, 200),
                                         (Role.MANAGER, 403)])
def test_role_required(guarded_app, client, make_user, login, role, status):
    make_user("u", role)
    login("u")
    assert client.get("/guarded/researcher").status_code == status


def test_role_required_redirects_anonymous_to_login(guarded_app, client):
    response = client.get("/guarded/researcher")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_survey_access_owner_share_admin(guarded_app, client, db, make_user, login):
    owner = make_user("owner")
    manager = make_user("manager", Role.MANAGER)
    stranger = make_user("stranger", Role.MANAGER)
    admin = make_user("admin", Role.ADMIN)
    survey = Survey(slug="s1", title_zh="问卷", title_en="Survey", owner=owner, design={})
    db.session.add(survey)
    db.session.commit()
    db.session.add(SurveyShare(survey_id=survey.id, user_id=manager.id))
    db.session.commit()
    assert can_access_survey(owner, survey)
    assert can_access_survey(manager, survey)
    assert can_access_survey(admin, survey)
    assert not can_access_survey(stranger, survey)

    login("stranger")
    assert client.get("/guarded/survey/s1").status_code == 404  # as if absent
    assert client.get("/guarded/survey/missing").status_code == 404
    client.post("/auth/logout")
    login("manager")
    assert client.get("/guarded/survey/s1").status_code == 200


def test_cli_users_create(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "boss", "--role", "admin",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User).where(User.username == "boss")).scalar_one()
    assert user.role == "admin" and user.check_password("a-long-password")
    again = runner.invoke(args=["users", "create", "boss", "--password", "a-long-password"])
    assert again.exit_code != 0 and "is taken" in again.output
    short = runner.invoke(args=["users", "create", "tiny", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output


def test_csrf_is_enforced_outside_tests(monkeypatch):
    from surveyapp import create_app
    app = create_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        from surveyapp.extensions import db
        db.create_all()
        response = app.test_client().post("/auth/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
