"""The overview's data panel: filtered downloads in every format, and response import with problems listed."""
from __future__ import annotations

import html
import io

import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import func, select

from surveyapp.models import Response, Role, SurveyShare
from surveyapp.services.exports import EXPORT_FORMATS
from surveyapp.services.responses import ResponseFilter, responses_frame


@pytest.fixture
def researcher_client(client, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    client.get("/?lang=en")  # English messages, so they can be compared
    return client


def _count(db) -> int:
    return db.session.execute(select(func.count(Response.id))).scalar_one()


def _job_page(client, response):
    """Follow a request that started a job to the job's page (the test queue runs it at once)."""
    assert response.status_code == 302 and "/admin/jobs/" in response.location, response.status_code
    page = client.get(response.location)
    assert page.status_code == 200
    return response.location, page.get_data(as_text=True)


def _download(client, url):
    """An export: started as a job, then its file downloaded from the job page."""
    location, page = _job_page(client, client.get(url))
    assert 'id="job-download"' in page, page
    state = client.get(location + ".json").get_json()
    assert state["status"] == "done" and state["progress"] == 1.0
    return client.get(location + "/download")


def test_overview_shows_the_panel(researcher_client, seeded_survey):
    html = researcher_client.get(f"/admin/surveys/{seeded_survey.slug}").get_data(as_text=True)
    assert 'id="export-form"' in html and 'id="import-form"' in html
    for key in EXPORT_FORMATS:
        assert f'value="{key}"' in html
    assert 'name="segment.PR_BRANCH"' in html and 'name="from"' in html
    assert 'enctype="multipart/form-data"' in html


def test_csv_download_streams_the_filtered_responses(researcher_client, seeded_survey):
    response = _download(researcher_client,
        f"/admin/surveys/{seeded_survey.slug}/export?format=csv&from=&to=&version="
        "&segment.PR_BRANCH=1&segment.PR_BRANCH=3&download=Download")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename=demo-bank-' in response.headers["Content-Disposition"]
    back = pd.read_csv(io.BytesIO(response.get_data()), encoding="utf-8-sig")
    expected = responses_frame(seeded_survey, ResponseFilter(segments={"PR_BRANCH": [1, 3]}))
    assert list(back["response_id"]) == list(expected["response_id"])


def test_partial_box_adds_unfinished_responses(researcher_client, seeded_survey):
    url = f"/admin/surveys/{seeded_survey.slug}/export?format=csv"
    complete = pd.read_csv(io.BytesIO(_download(researcher_client, url).get_data()), encoding="utf-8-sig")
    everything = pd.read_csv(io.BytesIO(_download(researcher_client, url + "&partial=1").get_data()),
                             encoding="utf-8-sig")
    assert set(complete["status"]) == {"complete"} and len(everything) == 60 > len(complete)


@pytest.mark.parametrize("key", ["xlsx", "sav", "dta", "codebook-csv", "codebook-xlsx"])
def test_file_downloads(researcher_client, seeded_survey, key, tmp_path):
    response = _download(researcher_client, f"/admin/surveys/{seeded_survey.slug}/export?format={key}")
    assert response.status_code == 200
    assert response.mimetype == EXPORT_FORMATS[key].mimetype.split(";")[0]
    assert response.headers["Content-Disposition"].startswith("attachment")
    path = tmp_path / f"download-{EXPORT_FORMATS[key].suffix}"
    path.write_bytes(response.get_data())
    if key == "sav":
        data, _ = pyreadstat.read_sav(str(path))
        assert len(data) == len(responses_frame(seeded_survey))
    elif key.endswith("xlsx"):
        assert path.read_bytes().startswith(b"PK")


@pytest.mark.parametrize("query,message", [
    ("format=pdf", "unknown export format 'pdf'"),
    ("format=csv&from=yesterday", "from: 'yesterday' is not a date"),
    ("format=csv&segment.NOPE=1", "'NOPE' is not a variable of this survey"),
])
def test_bad_download_requests_explain_themselves(researcher_client, seeded_survey, query, message):
    response = researcher_client.get(f"/admin/surveys/{seeded_survey.slug}/export?{query}",
                                     follow_redirects=True)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))


def _upload(client, slug, body: bytes, name="answers.csv"):
    return client.post(f"/admin/surveys/{slug}/import",
                       data={"responses": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def test_import_of_a_download(researcher_client, db, seeded_survey):
    body = _download(researcher_client, f"/admin/surveys/{seeded_survey.slug}/export?format=csv").get_data()
    before, complete = _count(db), len(responses_frame(seeded_survey))
    _location, page = _job_page(researcher_client, _upload(researcher_client, seeded_survey.slug, body))
    assert _count(db) == before + complete
    assert f"{complete} responses imported." in page
    # The same file again: every id was imported before, so nothing is stored twice.
    _location, page = _job_page(researcher_client, _upload(researcher_client, seeded_survey.slug, body))
    assert 'id="import-problems"' in page
    assert _count(db) == before + complete


def test_import_problems_are_listed_and_nothing_stored(researcher_client, db, seeded_survey):
    before = _count(db)
    body = b"response_id,SQ01_E,SQ01_P\nA,8,5\nB,7,x\n"
    _location, html = _job_page(researcher_client, _upload(researcher_client, seeded_survey.slug, body))
    assert 'id="import-problems"' in html
    assert "2 problems - nothing was imported:" in html
    assert "line 2, column SQ01_E: &#39;8&#39;: must be a whole number from 1 to 7" in html
    assert "line 3, column SQ01_P: &#39;x&#39; is not a number" in html
    assert _count(db) == before


def test_import_needs_a_file(researcher_client, db, seeded_survey):
    response = researcher_client.post(f"/admin/surveys/{seeded_survey.slug}/import", data={})
    assert response.status_code == 400 and "Choose a file." in response.get_data(as_text=True)


def test_uploads_over_the_size_limit_are_refused(app, researcher_client, db, seeded_survey):
    app.config["MAX_CONTENT_LENGTH"] = 2**20
    before = _count(db)
    response = _upload(researcher_client, seeded_survey.slug, b"SQ01_E\n" + b"7\n" * 2**19 + b"7\n")
    assert response.status_code == 303
    page = researcher_client.get(response.location).get_data(as_text=True)
    assert "larger than the upload limit of 1 MB" in page
    assert _count(db) == before


def test_only_researchers_with_access_may_download_or_import(client, db, seeded_survey, make_user, login):
    manager = make_user("shared-manager", Role.MANAGER)
    db.session.add(SurveyShare(survey_id=seeded_survey.id, user_id=manager.id))
    db.session.commit()
    make_user("other-researcher", Role.RESEARCHER)
    # The manager's role is refused (403); the other researcher is told there is no such survey.
    for username, status in (("shared-manager", 403), ("other-researcher", 404)):
        login(username)
        assert client.get(f"/admin/surveys/{seeded_survey.slug}/export?format=csv").status_code == status
        assert _upload(client, seeded_survey.slug, b"SQ01_E\n7\n").status_code == status
        client.post("/auth/logout")
    assert client.get(f"/admin/surveys/{seeded_survey.slug}/export?format=csv").status_code == 302
