"""JSON API /api/v1: token auth, access, JSON errors, paging and filters, codebook, analysis."""
from __future__ import annotations

import pytest

from surveyapp.models import Response, Role, SurveyShare
from surveyapp.services.analysis import report_options
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.responses import ResponseFilter, codebook_of, decode_answers, responses_frame


@pytest.fixture
def owner_token(db, seeded_survey):
    token = seeded_survey.owner.new_api_token()
    db.session.commit()
    return token


def _get(client, url, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers, **kwargs)


def _error(response, status):
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()["error"]
    assert body["status"] == status
    return body["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer not-a-token"}])
def test_401_without_a_valid_token(client, seeded_survey, headers):
    response = client.get("/api/v1/surveys", headers=headers)
    assert "token" in _error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_document_is_public(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/openapi.json", "/surveys", "/surveys/{slug}",
                                      "/surveys/{slug}/codebook", "/surveys/{slug}/responses",
                                      "/surveys/{slug}/analysis", "/surveys/{slug}/cases",
                                      "/cases/{case_id}", "/jobs/{job_id}",
                                      "/jobs/{job_id}/result"}


def test_surveys_listed_are_those_the_user_may_see(client, db, seeded_survey, make_user, owner_token):
    assert [s["slug"] for s in _get(client, "/api/v1/surveys", owner_token).get_json()["surveys"]] \
        == [seeded_survey.slug]
    outsider = make_user("outsider")
    outsider_token = outsider.new_api_token()
    reader = make_user("reader", Role.MANAGER)
    reader_token = reader.new_api_token()
    db.session.add(SurveyShare(survey_id=seeded_survey.id, user_id=reader.id))
    db.session.commit()
    assert _get(client, "/api/v1/surveys", outsider_token).get_json() == {"surveys": []}
    listed = _get(client, "/api/v1/surveys", reader_token).get_json()["surveys"]
    assert listed[0]["responses"] == {"complete": len(responses_frame(seeded_survey)),
                                      "partial": 60 - len(responses_frame(seeded_survey))}
    assert "not yours" in _error(
        _get(client, f"/api/v1/surveys/{seeded_survey.slug}", outsider_token), 404)
    assert _get(client, f"/api/v1/surveys/{seeded_survey.slug}", reader_token).status_code == 200


def test_survey_detail(client, seeded_survey, owner_token):
    body = _get(client, f"/api/v1/surveys/{seeded_survey.slug}", owner_token).get_json()
    assert body["design"] == seeded_survey.design
    assert body["versions"][0]["number"] == 1
    assert body["versions"][0]["variables"] == len(codebook_of(seeded_survey.versions[0]))
    assert body["title"]["en"] == seeded_survey.title_en
    assert "no survey 'nope'" in _error(_get(client, "/api/v1/surveys/nope", owner_token), 404)


def test_codebook(client, seeded_survey, owner_token):
    url = f"/api/v1/surveys/{seeded_survey.slug}/codebook"
    body = _get(client, url, owner_token).get_json()
    assert [v["name"] for v in body["variables"]] == survey_codebook(seeded_survey).names
    assert _get(client, url + "?version=1", owner_token).get_json() == body
    _error(_get(client, url + "?version=2", owner_token), 404)
    _error(_get(client, url + "?version=x", owner_token), 400)


def test_responses_are_paged_in_id_order(client, db, seeded_survey, owner_token, monkeypatch):
    url = f"/api/v1/surveys/{seeded_survey.slug}/responses"
    # Without a segment filter a page reads only its own rows, never the whole survey.
    import surveyapp.api.views as api_views
    monkeypatch.setattr(api_views, "iter_raw_frames", lambda *args, **kwargs: pytest.fail(
        "an unsegmented page streamed every response"))
    expected = responses_frame(seeded_survey, ResponseFilter(complete_only=False)).sort_values("response_id")
    seen = []
    for page in (1, 2, 3):
        body = _get(client, f"{url}?partial=true&per_page=25&page={page}", owner_token).get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 25, 60, 3)
        seen += body["responses"]
    assert [r["id"] for r in seen] == list(expected["response_id"])
    first = seen[0]
    stored = db.session.get(Response, first["id"])
    assert first["answers"] == decode_answers(codebook_of(stored.version), stored.answers)
    assert first["submitted_at"].endswith("+00:00")
    beyond = _get(client, f"{url}?page=99", owner_token).get_json()
    assert beyond["responses"] == [] and beyond["total"] == len(responses_frame(seeded_survey))


def test_responses_filters(client, seeded_survey, owner_token):
    url = f"/api/v1/surveys/{seeded_survey.slug}/responses?per_page=500"
    body = _get(client, url + "&segment.PR_BRANCH=1,2", owner_token).get_json()
    expected = responses_frame(seeded_survey, ResponseFilter(segments={"PR_BRANCH": [1, 2]}))
    assert [r["id"] for r in body["responses"]] == list(expected["response_id"])
    assert {r["answers"]["PR_BRANCH"] for r in body["responses"]} <= {1, 2}
    assert body["filter"] == "complete responses; PR_BRANCH in 1,2"
    # Segment-filtered pages are cut from the streamed frames: the same rows, page by page.
    paged = [r["id"] for page in (1, 2, 3, 4) for r in _get(
        client, f"{url.split('?')[0]}?per_page=7&page={page}&segment.PR_BRANCH=1,2",
        owner_token).get_json()["responses"]]
    assert paged == list(expected["response_id"])[:28]
    middle = expected["submitted_at"].sort_values().iloc[len(expected) // 2]
    day = middle.strftime("%Y-%m-%d")
    body = _get(client, f"{url}&from={day}", owner_token).get_json()
    assert body["total"] == len(responses_frame(seeded_survey, ResponseFilter(start=middle.date())))


@pytest.mark.parametrize("query,status,message", [
    ("from=2026-02-30", 400, "from: '2026-02-30' is not a date"),
    ("version=3", 404, "'3' is not a version of this survey"),
    ("segment.NOPE=1", 400, "'NOPE' is not a variable of this survey"),
    ("per_page=501", 400, "per_page: '501' is not a whole number from 1 to 500"),
    ("page=0", 400, "page: '0' is not a whole number from 1 to 1000000"),
    # Found by the OpenAPI fuzz test: a page past a 64-bit OFFSET was a database error.
    ("page=1912444572284602938696925184", 400,
     "page: '1912444572284602938696925184' is not a whole number from 1 to 1000000"),
])
def test_bad_parameters(client, seeded_survey, owner_token, query, status, message):
    response = _get(client, f"/api/v1/surveys/{seeded_survey.slug}/responses?{query}", owner_token)
    assert message in _error(response, status)


def test_analysis_is_the_report_of_the_filtered_responses(app, client, seeded_survey, owner_token):
    from analysis.report import analyse_survey
    app.config["REPORT_OPTIONS"] = {"csi_boot": 0, "n_boot": 200}
    filters = ResponseFilter(segments={"PR_CHANNEL": [1, 2, 3]})
    started = _get(client, f"/api/v1/surveys/{seeded_survey.slug}/analysis?segment.PR_CHANNEL=1,2,3",
                   owner_token)
    assert started.status_code == 202 and started.headers["Location"] == started.get_json()["url"]
    job = _get(client, started.headers["Location"], owner_token).get_json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["result_url"]
    body = _get(client, job["result_url"], owner_token).get_json()
    expected = analyse_survey(responses_frame(seeded_survey, filters), survey_codebook(seeded_survey),
                              report_options()).to_dict()
    assert body["n_total"] == expected["n_total"] == len(responses_frame(seeded_survey, filters))
    assert body["tables"] == expected["tables"]
    assert "servqual_dimensions" in body["tables"] and body["filter"].endswith("PR_CHANNEL in 1,2,3")


def test_the_csi_intervals_come_from_a_job_of_their_own(app, client, seeded_survey, owner_token, make_user):
    from analysis.report import survey_csi_bootstrap
    app.config["REPORT_OPTIONS"] = {"csi_boot": 50, "n_boot": 0, "seed": 3}
    started = _get(client, f"/api/v1/surveys/{seeded_survey.slug}/analysis?segment.PR_CHANNEL=1,2,3",
                   owner_token)
    job = _get(client, started.headers["Location"], owner_token).get_json()
    body = _get(client, job["result_url"], owner_token).get_json()
    pointer = body["csi_bootstrap"]
    assert pointer["status"] == "pending" and job["result"]["csi_bootstrap"] == pointer
    boot_job = _get(client, pointer["url"], owner_token).get_json()
    assert boot_job["kind"] == "csi-bootstrap" and boot_job["status"] == "done"
    assert boot_job["result"]["computed_at"] and boot_job["result"]["data_changed"] is False
    boot = _get(client, boot_job["result_url"], owner_token).get_json()
    assert boot["computed_at"] == boot_job["result"]["computed_at"] and boot["filter"] == body["filter"]
    # The filtered responses' intervals, computed on their own from the same rows.
    filters = ResponseFilter(segments={"PR_CHANNEL": [1, 2, 3]})
    expected = survey_csi_bootstrap(responses_frame(seeded_survey, filters), survey_codebook(seeded_survey),
                                    report_options())
    assert boot["n"] == expected.n and boot["n_boot"] == 50 and boot["seed"] == 3
    assert [row["ci_high"] for row in boot["tables"]["csi_index"]] == pytest.approx(
        expected.index["ci_high"].tolist(), abs=1e-12)
    # Only who started the analysis sees its bootstrap.
    other = make_user("api-other", Role.RESEARCHER)
    other_token = other.new_api_token()
    from surveyapp.extensions import db
    db.session.commit()
    assert _get(client, pointer["url"], other_token).status_code == 404


def test_unknown_paths_and_methods_answer_json(client, owner_token):
    assert "no such API endpoint" in _error(_get(client, "/api/v1/nothing-here", owner_token), 404)
    response = client.post("/api/v1/surveys", headers={"Authorization": f"Bearer {owner_token}"})
    _error(response, 405)
    assert "GET" in response.headers["Allow"]
    # The rest of the site keeps its HTML error pages.
    assert not client.get("/no-such-page").is_json


def test_api_needs_no_csrf_token(app, client, owner_token):
    app.config["WTF_CSRF_ENABLED"] = True
    assert _get(client, "/api/v1/surveys", owner_token).status_code == 200
