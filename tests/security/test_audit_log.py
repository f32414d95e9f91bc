"""Finding 7: no audit trail. Each test performs the act and finds it in the log (and nothing secret)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from surveyapp.models import AuditEvent, Role
from surveyapp.services import audit


def _entries(db, action=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.execute(query).scalars().all()


def test_failed_login_records_the_name_tried_never_the_password(client, db, make_user):
    make_user("rita")
    secret = "my-real-bank-pin-4711"
    reply = client.post("/auth/login", data={"username": "rita", "password": secret},
                        environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert reply.status_code == 401
    client.post("/auth/login", data={"username": "nobody-here", "password": secret})
    failed = _entries(db, audit.LOGIN_FAILED)
    assert [entry.target for entry in failed] == ["rita", "nobody-here"]
    assert failed[0].address == "198.51.100.23" and failed[0].user_id is None
    for entry in _entries(db):
        assert secret not in repr((entry.target, entry.detail, entry.username))


def test_login_and_logout_are_recorded_with_the_user(client, db, make_user, login):
    user = make_user("rita")
    assert login("rita").status_code == 302
    client.post("/auth/logout")
    assert [(e.action, e.user_id) for e in _entries(db)] == [("login", user.id), ("logout", user.id)]


def test_password_reset_and_user_creation_by_an_admin_are_recorded(client, db, make_user, login):
    make_user("ada", Role.ADMIN)
    victim = make_user("victor")
    login("ada")
    client.post(f"/admin/users/{victim.id}/password", data={f"user{victim.id}-password": "new-password-123"})
    client.post("/admin/users", data={"username": "newbie", "role": "manager",
                                      "password": "long-enough-1", "email": ""})
    reset, created = _entries(db, audit.PASSWORD_RESET), _entries(db, audit.USER_CREATED)
    assert [(e.username, e.target) for e in reset] == [("ada", f"user:{victim.id}")]
    assert "new-password-123" not in repr(reset[0].detail)
    assert created[0].username == "ada" and created[0].detail["username"] == "newbie"


def test_every_export_job_is_recorded_with_who_started_it(client, db, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    started = client.get(f"/admin/surveys/{seeded_survey.slug}/export?format=csv",
                         environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert started.status_code == 302
    (entry,) = _entries(db, audit.EXPORT)
    assert (entry.username, entry.survey_slug, entry.address) == ("demo-researcher", seeded_survey.slug,
                                                                  "192.0.2.44")
    assert entry.detail["format"] == "csv" and entry.detail["contact_details"] is False


def test_the_links_file_with_e_mail_addresses_is_an_audited_export_of_contact_details(
        client, db, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    upload = client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/upload",
                         data={"contacts": (io.BytesIO(b"id,email\nc1,c1@example.com\n"), "c.csv")},
                         content_type="multipart/form-data")
    assert upload.status_code == 302
    assert client.get(f"/admin/surveys/{seeded_survey.slug}/invitations.csv").status_code == 200
    (imported,) = _entries(db, audit.IMPORT)
    assert imported.detail == {"kind": "contacts", "imported": 1}
    (exported,) = _entries(db, audit.EXPORT)
    assert exported.detail["format"] == "links-csv" and exported.detail["contact_details"] is True
    assert "c1@example.com" not in repr(exported.detail)


@pytest.mark.parametrize("who", [Role.RESEARCHER, Role.MANAGER])
def test_only_admins_see_the_audit_log_others_get_404(client, make_user, login, who):
    make_user("someone", who)
    login("someone")
    assert client.get("/admin/audit").status_code == 404
    assert client.get("/admin/audit.csv").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    reply = client.get("/admin/audit")
    assert reply.status_code == 302 and "/auth/login" in reply.location


def test_admin_page_filters_pages_and_links_from_the_admin_navigation(client, db, make_user, login,
                                                                      seeded_survey):
    make_user("ada", Role.ADMIN)
    bob = make_user("bob")
    for n in range(55):
        audit.record(audit.LOGIN_FAILED, target=f"guess{n:02d}")
    audit.record(audit.EXPORT, user=bob, survey=seeded_survey, detail={"format": "sav"})
    login("ada")
    first = client.get("/admin/audit?lang=en").get_data(as_text=True)
    assert 'href="/admin/audit"' in first  # the admin navigation
    # Newest first: ada's log-in, bob's export, then the failures from the last one down.
    rows = first.split('<tbody>')[1]
    assert rows.index("ada") < rows.index("bob") < rows.index("guess54") < rows.index("guess10")
    assert "guess03" not in rows and "Page 1 of 2" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "guess03" in second and "guess54" not in second
    only_bob = client.get("/admin/audit?user=bob").get_data(as_text=True).split('<tbody>')[1]
    assert "bob" in only_bob and "guess" not in only_bob
    by_survey = client.get(f"/admin/audit?survey={seeded_survey.slug}&action=export").get_data(as_text=True)
    assert "sav" in by_survey and "guess" not in by_survey.split('<tbody>')[1]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    future = client.get(f"/admin/audit?from={tomorrow}").get_data(as_text=True)
    assert "guess" not in future.split('<tbody>')[1]
    assert client.get("/admin/audit?from=yesterday").status_code == 400


def test_csv_download_is_filtered_and_safe_to_open_in_a_spreadsheet(client, db, make_user, login):
    make_user("ada", Role.ADMIN)
    # An attacker chooses the user name a failed log-in records.
    client.post("/auth/login", data={"username": '=HYPERLINK("http://evil.example","x")',
                                     "password": "whatever"})
    client.post("/auth/login", data={"username": "@SUM(1+1)", "password": "whatever"})
    login("ada")
    reply = client.get("/admin/audit.csv?action=login_failed")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    targets = [row[audit.CSV_COLUMNS.index("target")] for row in rows[1:]]
    assert targets == ["'@SUM(1+1)", "'=HYPERLINK(\"http://evil.example\",\"x\")"]
    assert {row[2] for row in rows[1:]} == {"login_failed"}
    # Downloading the log is itself recorded.
    assert _entries(db, audit.EXPORT)[-1].detail["format"] == "audit-csv"


def test_no_route_changes_or_deletes_an_entry(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_role_change_ends_sessions_and_is_recorded(client, db, make_user, login):
    make_user("ada", Role.ADMIN)
    victim = make_user("victor")
    version = victim.session_version
    login("ada")
    assert "Change role" in client.get("/admin/users?lang=en").get_data(as_text=True)
    reply = client.post(f"/admin/users/{victim.id}/role", data={f"role{victim.id}-role": "manager"})
    assert reply.status_code == 302
    db.session.refresh(victim)
    assert victim.role == "manager"
    assert victim.session_version == version + 1  # every cookie issued before is void
    (entry,) = _entries(db, audit.ROLE_CHANGED)
    assert entry.username == "ada" and entry.detail == {"username": "victor", "old": "researcher",
                                                        "new": "manager"}


def test_last_admin_keeps_the_role_and_nobody_changes_their_own(client, db, make_user, login):
    ada = make_user("ada", Role.ADMIN)
    login("ada")
    client.post(f"/admin/users/{ada.id}/role", data={f"role{ada.id}-role": "manager"})
    client.post(f"/admin/users/{ada.id}/delete")
    db.session.refresh(ada)
    assert ada.role == "admin"
    assert _entries(db, audit.ROLE_CHANGED) == [] and _entries(db, audit.USER_DELETED) == []


def test_user_deletion_is_recorded_and_refused_for_survey_owners(client, db, make_user, login,
                                                                 seeded_survey):
    from surveyapp.models import User
    make_user("ada", Role.ADMIN)
    leaver = make_user("leaver", Role.MANAGER)
    audit.record(audit.LOGIN, user=leaver)
    login("ada")
    client.post(f"/admin/users/{seeded_survey.owner_id}/delete")
    assert db.session.get(User, seeded_survey.owner_id) is not None  # owns the demo survey
    assert client.post(f"/admin/users/{leaver.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, leaver.id) is None
    (deleted,) = _entries(db, audit.USER_DELETED)
    assert deleted.detail == {"username": "leaver", "role": "manager"}
    # The leaver's own entries stay, still naming them (the link to the account is gone).
    (old_login,) = [e for e in _entries(db, audit.LOGIN) if e.username == "leaver"]
    assert old_login.user_id is None
