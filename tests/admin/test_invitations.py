"""Invitation pages and ``flask invite``: generate, upload with line errors, status, links CSV."""
import csv
import io

import pytest

from surveyapp.models import Invitation, Role
from surveyapp.services.responses import submit_response


@pytest.fixture
def researcher_client(client, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    client.get("/?lang=en")  # the session keeps English, so messages can be compared
    return client


def invitation_count(db):
    return db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one()


def read_links(response):
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_generate_and_download(researcher_client, db, seeded_survey):
    url = f"/admin/surveys/{seeded_survey.slug}/invitations"
    assert researcher_client.post(url + "/generate", data={"count": "3"}).status_code == 302
    assert invitation_count(db) == 3
    page = researcher_client.get(url).get_data(as_text=True)
    assert "Not started: 3 · In progress: 0 · Completed: 0" in " ".join(page.split())

    response = researcher_client.get(url.replace("/invitations", "/invitations.csv"))
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_links(response)
    assert len(rows) == 3
    assert all(row["link"].startswith(f"http://localhost/s/{seeded_survey.slug}?t=") for row in rows)


@pytest.mark.parametrize("count", ["0", "10001", "x", ""])
def test_generate_rejects_bad_counts(researcher_client, db, seeded_survey, count):
    response = researcher_client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/generate",
                                      data={"count": count})
    assert response.status_code == 400
    assert invitation_count(db) == 0


def upload(client, slug, data: bytes):
    return client.post(f"/admin/surveys/{slug}/invitations/upload",
                       data={"contacts": (io.BytesIO(data), "contacts.csv")},
                       content_type="multipart/form-data")


def test_upload_contacts_creates_one_link_each(researcher_client, db, seeded_survey):
    data = "\ufeffid,email,branch\nc1,a@example.com,东城\nc2,b@example.com,西城\n".encode()
    assert upload(researcher_client, seeded_survey.slug, data).status_code == 302
    invitations = db.session.execute(db.select(Invitation).order_by(Invitation.id)).scalars().all()
    assert [(i.external_id, i.email, i.segment) for i in invitations] == [
        ("c1", "a@example.com", {"branch": "东城"}), ("c2", "b@example.com", {"branch": "西城"})]
    rows = read_links(researcher_client.get(f"/admin/surveys/{seeded_survey.slug}/invitations.csv"))
    assert [(row["id"], row["branch"]) for row in rows] == [("c1", "东城"), ("c2", "西城")]


def test_upload_errors_list_lines_and_store_nothing(researcher_client, db, seeded_survey):
    response = upload(researcher_client, seeded_survey.slug,
                      b"id,email\nc1,a@example.com\nc2,not-mail\nc1,b@example.com\n")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "line 3, column email" in page and "line 4, column id" in page
    assert invitation_count(db) == 0


def test_upload_needs_a_file(researcher_client, seeded_survey):
    response = researcher_client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/upload",
                                      data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a CSV file." in response.get_data(as_text=True)


def test_status_column_follows_responses(researcher_client, db, seeded_survey):
    researcher_client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/generate",
                           data={"count": "2"})
    first, second = db.session.execute(db.select(Invitation).order_by(Invitation.id)).scalars()
    submit_response(seeded_survey.current_version, {}, complete=False, invitation_id=first.id)
    page = researcher_client.get(f"/admin/surveys/{seeded_survey.slug}/invitations").get_data(as_text=True)
    assert page.count('class="status-in_progress"') == 1
    assert page.count('class="status-not_started"') == 1
    rows = read_links(researcher_client.get(f"/admin/surveys/{seeded_survey.slug}/invitations.csv"))
    assert [row["status"] for row in rows] == ["in_progress", "not_started"]


def test_other_researchers_cannot_see_or_download(client, seeded_survey, make_user, login):
    make_user("otto", Role.RESEARCHER)
    login("otto")
    for url in (f"/admin/surveys/{seeded_survey.slug}/invitations",
                f"/admin/surveys/{seeded_survey.slug}/invitations.csv"):
        assert client.get(url).status_code == 404
    assert client.post(f"/admin/surveys/{seeded_survey.slug}/invitations/generate",
                       data={"count": "2"}).status_code == 404


def test_cli_generates_links(app, db, seeded_survey, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invite", seeded_survey.slug, "-n", "2",
                                 "--base-url", "https://surveys.example.org/"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[0]["link"] == f"https://surveys.example.org/s/{seeded_survey.slug}?t={rows[0]['token']}"

    contacts = tmp_path / "contacts.csv"
    contacts.write_text("email,tier\nz@example.com,gold\n", encoding="utf-8")
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["invite", seeded_survey.slug, "--contacts", str(contacts),
                                 "--base-url", "https://s.example.org", "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    written = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(written) == 3 and written[2]["email"] == "z@example.com" and written[2]["tier"] == "gold"


def test_cli_reports_bad_contacts_with_lines(app, db, seeded_survey, tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("id,email\nc1,nope\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["invite", seeded_survey.slug, "--contacts",
                                                str(contacts), "--base-url", "https://s.example.org"])
    assert result.exit_code == 1
    assert f"{contacts}:2: email:" in result.output
    assert invitation_count(db) == 0


@pytest.mark.parametrize("args", [[], ["-n", "2", "--contacts", "x.csv"]])
def test_cli_needs_exactly_one_source(app, seeded_survey, args, tmp_path):
    if "--contacts" in args:
        (tmp_path / "x.csv").write_text("id\n1\n")
        args = [a if a != "x.csv" else str(tmp_path / "x.csv") for a in args]
    result = app.test_cli_runner().invoke(args=["invite", seeded_survey.slug, *args,
                                                "--base-url", "https://s.example.org"])
    assert result.exit_code == 2


def test_cli_unknown_survey(app, seeded_survey):
    result = app.test_cli_runner().invoke(args=["invite", "nope", "-n", "1",
                                                "--base-url", "https://s.example.org"])
    assert result.exit_code == 1 and "no survey" in result.output
