"""Response import: exports import back as the same responses; bad files change nothing."""
from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from surveyapp.models import Response
from surveyapp.services.demo import demo_design
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.exports import export_to_file
from surveyapp.services.imports import ImportRejected, import_responses
from surveyapp.services.responses import ResponseFilter, responses_frame
from surveyapp.services.surveys import create_survey, open_survey

ALL = ResponseFilter(complete_only=False)
HEADER = "response_id,SQ01_E,SQ01_P,SQ02_E,SQ02_P,PR_CHANNEL"


def _count(db) -> int:
    return db.session.execute(select(func.count(Response.id))).scalar_one()


@pytest.fixture
def demo_copy(db, seeded_survey):
    """An empty survey with the demo's design: where the demo's exports are imported."""
    survey = create_survey(seeded_survey.owner, "demo-copy", "副本", "Copy", demo_design())
    open_survey(survey)
    return survey


@pytest.fixture
def small(db, make_user):
    design = {"firm": {"zh": "乙", "en": "B"}, "languages": ["zh", "en"], "servqual_layout": "blocks",
              "instruments": [{"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "profile", "items": ["PR_CHANNEL"]}]}
    survey = create_survey(make_user("importer"), "small-import", "小", "Small", design)
    open_survey(survey)
    return survey


def _comparable(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    columns = ["status", "started_at", "submitted_at", "duration_seconds", *names]
    return frame.sort_values("submitted_at", kind="stable")[columns].reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_of_an_export_reproduces_the_responses(db, seeded_survey, demo_copy, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    export_to_file(seeded_survey, fmt, ALL, path)
    result = import_responses(demo_copy, path.name, path.read_bytes())
    original, imported = responses_frame(seeded_survey, ALL), responses_frame(demo_copy, ALL)
    assert result.imported == len(original) == len(imported) == 60
    names = survey_codebook(seeded_survey).names
    left, right = _comparable(original, names), _comparable(imported, names)
    np.testing.assert_array_equal(left[names].to_numpy(), right[names].to_numpy())
    assert list(left["status"]) == list(right["status"])
    tolerance = pd.Timedelta(microseconds=0 if fmt == "csv" else 1000)
    for column in ("started_at", "submitted_at"):
        gap = (left[column] - right[column]).abs().max()
        assert pd.isna(gap) or gap <= tolerance
    np.testing.assert_allclose(left["duration_seconds"], right["duration_seconds"], rtol=0, atol=1e-3)
    stored = db.session.execute(select(Response).where(Response.survey_id == demo_copy.id)
                                .order_by(Response.id)).scalars().all()
    assert {r.source for r in stored} == {"import"}
    originals = db.session.execute(select(Response).where(Response.survey_id == seeded_survey.id)
                                   .order_by(Response.id)).scalars().all()
    assert [r.client_key for r in stored] == [f"import:{r.id}" for r in originals]
    assert [r.language for r in stored] == [r.language for r in originals]


def test_two_version_export_imports_into_matching_versions(db, two_version_survey, make_user, tmp_path):
    path = tmp_path / "two.csv"
    export_to_file(two_version_survey, "csv", ALL, path)
    copy = create_survey(make_user("copier"), "two-copy", "副本", "Copy", two_version_survey.versions[0].design)
    open_survey(copy)
    copy.design = two_version_survey.versions[1].design
    open_survey(copy)
    result = import_responses(copy, "two.csv", path.read_bytes())
    assert result.by_version == {1: 2, 2: 2}
    original, imported = responses_frame(two_version_survey, ALL), responses_frame(copy, ALL)
    names = survey_codebook(two_version_survey).names
    np.testing.assert_array_equal(original[names].to_numpy(), imported[names].to_numpy())
    assert list(original["version"]) == list(imported["version"])
    comments = db.session.execute(select(Response.comment).where(Response.survey_id == copy.id)
                                  .order_by(Response.id)).scalars().all()
    # Chinese survives; a formula-like comment comes back with the apostrophe the export added.
    assert comments[1] == "服务很好，谢谢" and comments[0].startswith("'=HYPERLINK")


def test_minimal_file_and_defaults(db, small):
    body = "SQ01_E,SQ01_P,PR_CHANNEL,status,submitted_at,language,comment\n" \
           "7,6,2,,2026-03-01T10:00:00+08:00,en,  fine \n" \
           "4,,,partial,,,\n"
    result = import_responses(small, "answers.csv", body.encode())
    assert result.imported == 2
    first, second = db.session.execute(select(Response).order_by(Response.id)).scalars().all()
    assert first.status == "complete" and first.language == "en" and first.comment == "fine"
    assert pd.Timestamp(first.submitted_at).tz_localize(None) == pd.Timestamp("2026-03-01T02:00:00")
    assert first.client_key is None and first.source == "import"
    assert second.status == "partial" and second.submitted_at is None and second.language == "zh"


def _rejected(survey, body: bytes, name: str = "answers.csv") -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        import_responses(survey, name, body)
    return caught.value


@pytest.mark.parametrize("body,expected", [
    (f"{HEADER},SQ99_E\n1,7,7,7,7,1,\n", "line 1, column SQ99_E: unknown column"),
    ("response_id,SQ01_e\n1,7\n", "line 1, column SQ01_e: unknown column: not a question of this "
                                   "survey nor one of response_id, external_id, version, status, "
                                   "started_at, submitted_at, duration_seconds, contact_ok, "
                                   "language, comment - did you mean SQ01_E?"),
    (f"{HEADER}\n1,8,7,7,7,1\n", "line 2, column SQ01_E: '8': must be a whole number from 1 to 7"),
    (f"{HEADER}\n1,7,7,7,7,9\n", "line 2, column PR_CHANNEL: '9': must be one of [1, 2, 3, 4]"),
    (f"{HEADER}\n1,7,x,7,7,1\n", "line 2, column SQ01_P: 'x' is not a number"),
    (f"{HEADER}\n1,7,7,7,7,1\n1,6,6,6,6,2\n", "line 3, column response_id: id '1' occurs twice "
                                              "(also on line 2)"),
    ("", "line 1: the file is empty"),
    ("\ufeff\r\n", "line 1: the file is empty"),
    (f"{HEADER}\n", "line 2: the file has a header but no responses"),
    (f"{HEADER}\n1,7,7\n", "line 2: 3 cells, the header has 6"),
    (f"{HEADER},SQ01_E\n1,7,7,7,7,1,7\n", "line 1, column SQ01_E: this column occurs twice"),
    ("response_id;SQ01_E\n1;7\n", "line 1: the columns must be separated by commas"),
    (f"{HEADER},external_id\n1,7,7,7,7,1,a\n", "line 1: give the respondent id in response_id or "
                                               "in external_id, not both"),
    ("response_id,comment\n1,hi\n", "line 1: no column is a question of this survey"),
    (f"{HEADER},version\n1,7,7,7,7,1,2\n", "line 2, column version: '2' is not a version of this "
                                           "survey (versions: 1)"),
    (f"{HEADER},status\n1,7,7,7,7,1,done\n", "line 2, column status: 'done' is not complete or partial"),
    (f"{HEADER},submitted_at\n1,7,7,7,7,1,yesterday\n", "line 2, column submitted_at: 'yesterday' "
                                                        "is not a date and time"),
    (f"{HEADER},language\n1,7,7,7,7,1,fr\n", "line 2, column language: 'fr' is not one of zh, en"),
    (f"{HEADER}\n,7,7,7,7,1\n", "line 2, column response_id: the respondent id is empty"),
    (f'{HEADER}\n1,7,7,7,7,1\n"2,7\n', "line 3: malformed CSV"),
])
def test_bad_files_are_rejected_with_where_and_why(db, small, body, expected):
    before = _count(db)
    rejected = _rejected(small, body.encode())
    assert any(str(problem).startswith(expected) for problem in rejected.problems), rejected.problems
    assert _count(db) == before


def test_every_problem_is_listed_and_nothing_stored(db, small):
    body = f"{HEADER}\n1,7,7,7,7,1\n2,0,7,7,7,1\n3,7,7,7,7,7\n4,7,7,7,7,1\n"
    rejected = _rejected(small, body.encode())
    assert [str(p) for p in rejected.problems] == [
        "line 3, column SQ01_E: '0': must be a whole number from 1 to 7",
        "line 4, column PR_CHANNEL: '7': must be one of [1, 2, 3, 4]"]
    assert "2 problem(s); nothing was imported" in str(rejected)
    assert _count(db) == 0


def test_bad_encoding_names_the_byte_and_line(db, small):
    body = f"{HEADER}\n1,7,7,7,7,1\n".encode() + "2,7,7,7,7,1,很好\n".encode("gbk")
    problem = _rejected(small, body).problems[0]
    assert problem.line == 3
    assert str(problem).startswith("line 3: the file is not UTF-8 text: byte 0xba at byte offset 75")
    assert _count(db) == 0


def test_ids_imported_before_are_rejected(db, small):
    import_responses(small, "first.csv", f"{HEADER}\n1,7,7,7,7,1\n2,6,6,6,6,2\n".encode())
    rejected = _rejected(small, f"{HEADER}\n3,7,7,7,7,1\n2,5,5,5,5,2\n".encode())
    assert [str(p) for p in rejected.problems] == [
        "line 3, column response_id: id '2' was imported into this survey before"]
    assert _count(db) == 2


def test_too_large_files_are_refused_before_parsing(app, db, small):
    app.config["MAX_IMPORT_BYTES"] = 100
    body = (f"{HEADER}\n" + "1,7,7,7,7,1\n" * 20).encode()
    rejected = _rejected(small, body)
    assert str(rejected.problems[0]) == (f"the file has {len(body):,} bytes; the limit is 100 bytes "
                                         "- split it into several files")
    assert _count(db) == 0


def test_too_many_problems_are_capped(db, small):
    body = HEADER + "\n" + "".join(f"{i},9,7,7,7,1\n" for i in range(1, 301))
    rejected = _rejected(small, body.encode())
    assert rejected.total == 300 and len(rejected.problems) == 200
    assert "300 problem(s) (first 200 listed)" in str(rejected)


def test_xlsx_import_and_its_errors(db, small, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "SQ01_E", "SQ01_P", "PR_CHANNEL", "submitted_at"])
    sheet.append([101, 7, 5, 1, pd.Timestamp("2026-03-01 08:00").to_pydatetime()])
    sheet.append(["B-2", 3, None, 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert import_responses(small, "data.xlsx", buffer.getvalue()).imported == 2
    keys = db.session.execute(select(Response.client_key).order_by(Response.id)).scalars().all()
    assert keys == ["import:101", "import:B-2"]
    sheet.append(["C-3", 9, 5, 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rejected = _rejected(small, buffer.getvalue(), "data.xlsx")
    assert [str(p) for p in rejected.problems] == [
        "line 2, column external_id: id '101' was imported into this survey before",
        "line 3, column external_id: id 'B-2' was imported into this survey before",
        "line 4, column SQ01_E: 9: must be a whole number from 1 to 7"]
    assert _count(db) == 2


@pytest.mark.parametrize("name,body,expected", [
    ("data.xlsx", b"not a zip at all", "the file is not an .xlsx workbook"),
    ("data.pdf", b"%PDF-1.4", "upload a .csv (UTF-8) or .xlsx file"),
])
def test_unreadable_files(db, small, name, body, expected):
    assert str(_rejected(small, body, name).problems[0]) == expected


def test_workbook_that_unpacks_too_far_is_refused(app, db, small):
    app.config["MAX_IMPORT_BYTES"] = 2_000
    buffer = io.BytesIO()
    import zipfile
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 100_000)
    assert "unpacks to 100,000 bytes" in str(_rejected(small, buffer.getvalue(), "bomb.xlsx").problems[0])


def test_a_never_opened_survey_cannot_import(db, make_user):
    design = {"firm": {"zh": "丙", "en": "C"}, "languages": ["zh", "en"], "servqual_layout": "blocks",
              "instruments": [{"id": "overall"}]}
    survey = create_survey(make_user("drafty"), "never-opened", "草稿", "Draft", design)
    assert "has never been opened" in str(_rejected(survey, b"OV01_E\n5\n").problems[0])


def test_a_failed_insert_rolls_back_every_row(db, small, monkeypatch):
    from surveyapp.services import imports
    monkeypatch.setattr(imports, "INSERT_BATCH", 1)
    calls = {"n": 0}
    original = db.session.execute

    def failing_second_insert(statement, *args, **kwargs):
        if args and isinstance(args[0], list):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")
        return original(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", failing_second_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        import_responses(small, "a.csv", f"{HEADER}\n1,7,7,7,7,1\n2,6,6,6,6,2\n".encode())
    monkeypatch.undo()
    assert calls["n"] == 2 and _count(db) == 0


# --- CLI -----------------------------------------------------------------------

def test_cli_import(app, db, small, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(f"{HEADER}\n1,7,7,7,7,1\n", encoding="utf-8")
    bad.write_text(f"{HEADER}\n2,8,7,7,7,1\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-responses", "small-import", str(good)])
    assert result.exit_code == 0 and "imported 1 responses into small-import (version 1: 1)" in result.output
    result = runner.invoke(args=["import-responses", "small-import", str(bad)])
    assert result.exit_code == 1
    assert "line 2, column SQ01_E: '8': must be a whole number from 1 to 7" in result.output
    app.config["MAX_IMPORT_BYTES"] = 10
    result = runner.invoke(args=["import-responses", "small-import", str(good)])
    assert result.exit_code == 1 and "the limit (MAX_IMPORT_BYTES) is 10" in result.output
    assert _count(db) == 1


# --- allocations and missing-value codes ---------------------------------------

WEIGHTS = "SQW_TAN,SQW_REL,SQW_RES,SQW_ASS,SQW_EMP"


@pytest.fixture
def weighted(db, make_user):
    design = {"firm": {"zh": "乙", "en": "B"}, "languages": ["zh", "en"], "servqual_layout": "blocks",
              "instruments": [{"id": "servqual", "items": ["SQ01", *WEIGHTS.split(",")]},
                              {"id": "profile", "items": ["PR_CHANNEL", "PR_BRANCH"]}]}
    survey = create_survey(make_user("allocator"), "weighted-import", "权重", "Weights", design)
    open_survey(survey)
    return survey


def test_allocation_must_add_up_as_on_the_survey_page(db, weighted, tmp_path):
    body = (f"response_id,SQ01_E,{WEIGHTS}\n"
            "1,5,20,20,20,20,20\n"
            "2,5,30,30,30,20,20\n"       # 130, the case
            "3,5,,,,,\n"                 # no allocation given: unanswered, not wrong
            "4,5,50,50,,,\n")            # blanks count 0, as on the page: 100
    rejected = _rejected(weighted, body.encode())
    assert [str(p) for p in rejected.problems] == [
        f"line 3, column SQW_TAN: the allocation {WEIGHTS.replace(',', ', ')} must add up to 100 "
        "(now 130), as on the survey page"]
    good = body.replace("2,5,30,30,30,20,20", "2,5,10,10,10,10,60")
    assert import_responses(weighted, "answers.csv", good.encode()).imported == 4
    # The same rule in a workbook, reported at its sheet row.
    workbook = openpyxl.Workbook()
    workbook.active.append(["external_id", "SQ01_E", *WEIGHTS.split(",")])
    workbook.active.append(["x1", 5, 99, 0, 0, 0, 0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rejected = _rejected(weighted, buffer.getvalue(), "data.xlsx")
    assert [str(p) for p in rejected.problems] == [
        f"line 2, column SQW_TAN: the allocation {WEIGHTS.replace(',', ', ')} must add up to 100 "
        "(now 99), as on the survey page"]


def test_allocation_rule_is_the_form_rule(app, weighted):
    """The page and the import call one function: the page's error uses its numbers."""
    from werkzeug.datastructures import MultiDict
    from surveyapp.questionnaire.forms import build_form
    from surveyapp.services.responses import allocation_problems, codebook_of

    codebook = codebook_of(weighted.current_version)
    variables = [v for v in codebook if v.scale["type"] == "constant_sum"]
    posted = MultiDict({v.name: n for v, n in zip(variables, ["30", "30", "30", "20", "20"])})
    with app.test_request_context(method="POST", data=posted, headers={"Accept-Language": "en"}):
        form = build_form(variables, "en", formdata=posted)
        assert not form.validate()
        assert "(now 130)" in form.group_errors["servqual"]
    [problem] = allocation_problems(variables, {v.name: 26.0 for v in variables})
    assert (problem.total, problem.given) == (100, 130)


def test_missing_value_codes_import_as_what_they_mean(db, weighted):
    from surveyapp.services.responses import codebook_of, not_applicable_in, not_asked_in

    body = ("response_id,SQ01_E,PR_CHANNEL,PR_BRANCH\n"
            "1,-98,3,-99\n"     # not applicable; branch not asked of an app user
            "2,,1,-99\n")       # -99 on a question the condition shows: no answer, asked
    import_responses(weighted, "answers.csv", body.encode())
    first, second = db.session.execute(select(Response).order_by(Response.id)).scalars().all()
    codebook = codebook_of(weighted.current_version)
    assert not_applicable_in(codebook, first.answers) == {"SQ01_E"}
    assert not_asked_in(codebook, first.answers) == {"PR_BRANCH"}
    assert not_applicable_in(codebook, second.answers) == set()
    assert not_asked_in(codebook, second.answers) == set()
    rejected = _rejected(weighted, b"response_id,PR_CHANNEL\n9,-98\n")
    assert [str(p) for p in rejected.problems] == [
        "line 2, column PR_CHANNEL: '-98': -98 means 'not applicable', which this question does "
        "not offer"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_keeps_the_three_kinds_of_missing(db, weighted, make_user, tmp_path, fmt):
    from surveyapp.services.responses import submit_response

    version = weighted.current_version
    submit_response(version, {"SQ01_E": -98.0, "PR_CHANNEL": 3})
    submit_response(version, {"SQ01_E": 4, "PR_CHANNEL": 1, "PR_BRANCH": 2})
    copy = create_survey(make_user("copier"), "weighted-copy", "副本", "Copy", weighted.design)
    open_survey(copy)
    path = tmp_path / f"export.{fmt}"
    export_to_file(weighted, fmt, ALL, path)
    import_responses(copy, path.name, path.read_bytes())
    names = survey_codebook(weighted).names
    bits = [responses_frame(s, ALL).sort_values("response_id")[names].to_numpy().view(np.uint64)
            for s in (weighted, copy)]
    np.testing.assert_array_equal(bits[0], bits[1])
