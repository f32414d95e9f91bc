"""Invitations: tokens, the contacts CSV (with line/column errors), status, the links CSV."""
import csv
import io

import pytest

from surveyapp.models import Invitation
from surveyapp.services.invitations import (MAX_CONTACTS_BYTES, ContactsError, InvitationStatus,
                                            generate_invitations, import_contacts,
                                            invitation_rows, links_csv, parse_contacts,
                                            status_counts)
from surveyapp.services.responses import submit_response


def problems_of(data: bytes):
    with pytest.raises(ContactsError) as caught:
        parse_contacts(data)
    return [(p.line, p.column) for p in caught.value.problems]


def test_generate_makes_distinct_tokens(seeded_survey, db):
    invitations = generate_invitations(seeded_survey, 5)
    assert len({i.token for i in invitations}) == 5
    assert db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one() == 5


@pytest.mark.parametrize("count", [0, -1, 10_001])
def test_generate_refuses_counts_out_of_range(seeded_survey, count):
    with pytest.raises(ValueError):
        generate_invitations(seeded_survey, count)


def test_contacts_with_bom_id_email_and_segments():
    data = "\ufeffID,Email,branch,渠道\nc1,a@example.com,East,柜台\nc2,,West,\n\n,b@example.org,,\n".encode()
    rows = parse_contacts(data)
    assert [(r.line, r.external_id, r.email) for r in rows] == [
        (2, "c1", "a@example.com"), (3, "c2", None), (5, None, "b@example.org")]
    assert rows[0].segment == {"branch": "East", "渠道": "柜台"}


def test_contacts_errors_name_line_and_column():
    data = b"id,email,branch\nc1,not-an-email,x\nc2,b@example.com\nc1,c@example.com,y\n,,z\n"
    assert problems_of(data) == [(2, "email"), (3, None), (4, "id"), (5, None)]


def test_contacts_line_numbers_count_quoted_newlines():
    data = b'id,note\nc1,"two\nlines"\nc1,x\n'
    assert problems_of(data) == [(4, "id")]


@pytest.mark.parametrize("data, expected", [
    (b"", [(1, None)]),
    (b"name,phone\nx,1\n", [(1, None)]),
    (b"id,id\n1,2\n", [(1, "id")]),
    (b"id,\n1,2\n", [(1, "2")]),
    (b"id\n", [(2, None)]),
    (b"id\nc1\n\xff\xfe\n", [(3, None)]),
])
def test_contacts_file_level_problems(data, expected):
    assert problems_of(data) == expected


def test_contacts_size_limit():
    assert problems_of(b"id\n" + b"x\n" * (MAX_CONTACTS_BYTES // 2)) == [(0, None)]


def test_import_stores_nothing_if_any_row_is_bad(seeded_survey, db):
    with pytest.raises(ContactsError):
        import_contacts(seeded_survey, b"id,email\nc1,a@example.com\nc2,bad\n")
    assert db.session.execute(db.select(db.func.count(Invitation.id))).scalar_one() == 0


def test_import_refuses_ids_invited_before(seeded_survey):
    import_contacts(seeded_survey, b"id\nc1\nc2\n")
    with pytest.raises(ContactsError) as caught:
        import_contacts(seeded_survey, b"id\nc3\nc2\n")
    assert [(p.line, p.column) for p in caught.value.problems] == [(3, "id")]


def test_status_follows_the_response(seeded_survey):
    first, second, third = generate_invitations(seeded_survey, 3)
    version = seeded_survey.current_version
    submit_response(version, {}, complete=False, invitation_id=first.id)
    submit_response(version, {}, complete=True, invitation_id=second.id)
    statuses = {row.invitation.id: row.status for row in invitation_rows(seeded_survey)}
    assert statuses == {first.id: InvitationStatus.IN_PROGRESS,
                        second.id: InvitationStatus.COMPLETED,
                        third.id: InvitationStatus.NOT_STARTED}
    assert status_counts(seeded_survey) == {InvitationStatus.NOT_STARTED: 1,
                                            InvitationStatus.IN_PROGRESS: 1,
                                            InvitationStatus.COMPLETED: 1}


def test_links_csv_is_bom_utf8_absolute_and_formula_safe(app, seeded_survey):
    import_contacts(seeded_survey, "id,email,branch\n=cmd|' /C calc'!A0,a@example.com,东城\nc2,,+1\n"
                    .encode())
    with app.test_request_context(base_url="https://surveys.example.org"):
        text = links_csv(seeded_survey, invitation_rows(seeded_survey))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert list(rows[0]) == ["id", "email", "token", "link", "status", "branch"]
    assert rows[0]["id"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["branch"] == "东城"
    assert rows[1]["branch"] == "'+1"
    assert rows[0]["link"] == f"https://surveys.example.org/s/{seeded_survey.slug}?t={rows[0]['token']}"
    assert {row["status"] for row in rows} == {"not_started"}
