"""Finding 1: control characters typed by a respondent or researcher broke every Excel export
(openpyxl ``IllegalCharacterError`` -> 500) and, on PostgreSQL, the final Submit (NUL in a text
column). They are removed on input and neutralised on every export path."""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Response, ResponseStatus, Survey
from surveyapp.services.demo import ensure_demo
from surveyapp.services.spreadsheet_safety import neutralise_cell
from surveyapp.services.text_safety import clean_text
from tests.survey.helpers import complete_survey

HOSTILE = "bad\x01news\x00from\x1bme\x7f\x0b"
CLEANED = "badnewsfromme"


def test_clean_text_keeps_layout_and_drops_controls():
    assert clean_text(HOSTILE) == CLEANED
    assert clean_text("line one\nline two\r\n\tindented 你好") == "line one\nline two\r\n\tindented 你好"
    assert clean_text(None) is None
    assert clean_text("\ud800lone surrogate") == "lone surrogate"


def test_neutralise_cell_removes_what_openpyxl_refuses():
    assert neutralise_cell("=1+1\x00") == "'=1+1"
    assert neutralise_cell("\x01=cmd") == "'=cmd", "a stripped control must not unmask a formula"
    assert neutralise_cell(-2.5) == -2.5


def _web_comment(client, survey, comment) -> Response:
    last = complete_survey(client, survey, final={"comment": comment})
    assert last.headers["Location"].endswith("/thanks")
    return db.session.execute(select(Response).where(
        Response.survey_id == survey.id, Response.source == "web")).scalar_one()


def test_comment_is_cleaned_on_input(client, seeded_survey):
    stored = _web_comment(client, seeded_survey, HOSTILE)
    assert stored.comment == CLEANED and stored.status == ResponseStatus.COMPLETE.value


@pytest.mark.parametrize("key", ["xlsx", "codebook-xlsx", "stats-xlsx", "csv", "sav", "dta"])
def test_exports_survive_control_characters_already_stored(client, login, seeded_survey, key):
    """Rows stored before the fix (or written by a script) still export: nothing 500s."""
    survey = seeded_survey
    row = db.session.execute(select(Response).where(Response.survey_id == survey.id)
                             .order_by(Response.id).limit(1)).scalar_one()
    row.comment = HOSTILE
    survey.title_en = "Title\x02 with control"
    version = survey.current_version
    codebook = [dict(entry) for entry in version.codebook]
    codebook[0] = {**codebook[0], "label": {"zh": "标签\x03", "en": "label\x00"}}
    version.codebook = codebook
    db.session.commit()
    login("demo-researcher", "demo-researcher-2026")
    response = client.get(f"/admin/surveys/{survey.slug}/export?format={key}&partial=1")
    if response.status_code == 302 and "/admin/jobs/" in response.location:
        # Exports run as jobs (the test queue runs them at once): the file is on the job page.
        state = client.get(response.location + ".json").get_json()
        assert state["status"] == "done", state
        response = client.get(response.location + "/download")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_data()
    if key.endswith("xlsx"):
        cells = [cell for sheet in openpyxl.load_workbook(io.BytesIO(body)).worksheets
                 for line in sheet.iter_rows(values_only=True) for cell in line]
        texts = [cell for cell in cells if isinstance(cell, str)]
        assert not any(ch in text for text in texts for ch in "\x00\x01\x02\x03\x1b")
        if key == "xlsx":
            assert CLEANED in texts
    elif key == "csv":
        frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
        assert CLEANED in set(frame["comment"].dropna())


def test_title_and_kano_features_are_cleaned_on_input(owner_client):
    created = owner_client.post("/admin/surveys/new", data={
        "slug": "ctl", "title_zh": "服务\x00调查", "title_en": "Service\x01 study",
        "firm_zh": "快乐\x1b银行", "firm_en": "Happy Bank", "instruments": ["kano"]})
    assert created.status_code == 302, created.get_data(as_text=True)[:1000]
    page = owner_client.get("/admin/surveys/ctl/edit").get_data(as_text=True)
    import re
    data: dict[str, list[str]] = {}
    for tag in re.finditer(r"<input ([^>]*)>", page):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "submit" or (kind in ("checkbox", "radio") and "checked" not in tag.group(1)):
            continue
        data.setdefault(name, []).append(attrs.get("value", "y"))
    data.update({"features-0-code": ["K01"], "features-0-feature_zh": ["免费\x00停车"],
                 "features-0-feature_en": ["free\x01 parking"],
                 **{f"features-{n}-{part}": [""] for n in range(1, 13)
                    for part in ("code", "feature_zh", "feature_en")}})
    saved = owner_client.post("/admin/surveys/ctl/edit", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    survey = db.session.execute(select(Survey).where(Survey.slug == "ctl")).scalar_one()
    db.session.refresh(survey)
    assert (survey.title_zh, survey.title_en) == ("服务调查", "Service study")
    assert survey.design["firm"]["zh"] == "快乐银行"
    kano = next(entry for entry in survey.design["instruments"] if entry["id"] == "kano")
    assert kano["features"][0]["feature"] == {"zh": "免费停车", "en": "free parking"}


def test_nul_in_comment_does_not_break_submit(database_app):
    """On PostgreSQL a NUL in a text column raised ``DataError`` and the response never completed."""
    survey = ensure_demo(3, seed=1).survey
    client = database_app.test_client()
    stored = _web_comment(client, survey, "thanks\x00 a lot\x01")
    assert stored.comment == "thanks a lot" and stored.status == ResponseStatus.COMPLETE.value


def test_imported_comment_is_cleaned(two_version_survey):
    from surveyapp.services.imports import import_responses
    body = "SQ01_E,PR_CHANNEL,comment\n7,2,from\x01 a\x00 file\n".encode()
    assert import_responses(two_version_survey, "answers.csv", body).imported == 1
    stored = db.session.execute(select(Response).where(Response.source == "import")).scalar_one()
    assert stored.comment == "from a file"
