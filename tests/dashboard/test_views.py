"""Dashboard pages: access, numbers equal to the analysis for the same filter, CSV, follow-up list."""
from __future__ import annotations

import csv
import io
import re

import pytest
from markupsafe import escape

from analysis.report import ReportOptions, analyse_survey, ep_pairs
from surveyapp.models import Case, Contact, Role
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.responses import ResponseFilter, responses_frame


def _tiles(html: str) -> dict[str, float]:
    return {name: float(value) for name, value in
            re.findall(r'data-tile="(\w+)" data-value="([-0-9.e]+)"', html)}


@pytest.fixture
def manager(seeded_survey, login):
    login("demo-manager", "demo-manager-2026")
    return seeded_survey


def _analysis(survey, filters: ResponseFilter):
    frame = responses_frame(survey, filters)
    return analyse_survey(frame, survey_codebook(survey), ReportOptions(n_boot=200, csi_boot=0))


def test_login_is_required(client, seeded_survey):
    response = client.get(f"/dashboard/{seeded_survey.slug}")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_only_users_with_access_see_a_survey(client, db, seeded_survey, make_user, login):
    make_user("outsider", Role.MANAGER)
    login("outsider")
    assert client.get(f"/dashboard/{seeded_survey.slug}").status_code == 404
    assert client.get(f"/dashboard/{seeded_survey.slug}/follow-up").status_code == 404
    assert client.get(f"/dashboard/{seeded_survey.slug}/chart/servqual_dimensions.csv").status_code == 404
    assert client.get("/dashboard/no-such-survey").status_code == 404


def test_tiles_and_charts_equal_the_analysis(client, manager):
    html = client.get(f"/dashboard/{manager.slug}?lang=en").get_data(as_text=True)
    analysis = _analysis(manager, ResponseFilter())
    tiles = _tiles(html)
    assert tiles["responses"] == analysis.n_total
    assert tiles["ratio"] == pytest.approx(analysis.satisfaction["servqual"].survey["ratio_of_means"].iloc[0])
    assert tiles["gap"] == pytest.approx(analysis.servqual.overall["mean_gap"].iloc[0])
    assert tiles["below"] == pytest.approx(analysis.servqual.overall["share_negative"].iloc[0])
    assert 'data-plot="servqual_dimensions"' in html
    assert 'id="kano-table"' in html
    # plotly.js comes from this app, never from a CDN
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert any(src.startswith("/dashboard/assets/plotly.min.js") for src in scripts)
    assert all(src.startswith("/") for src in scripts)


def test_filters_in_the_url_apply_to_every_tile(client, manager):
    html = client.get(f"/dashboard/{manager.slug}?lang=en&segment.PR_BRANCH=1&segment.PR_BRANCH=2&period=M"
                      ).get_data(as_text=True)
    filtered = _analysis(manager, ResponseFilter(segments={"PR_BRANCH": [1.0, 2.0]}))
    everyone = _analysis(manager, ResponseFilter())
    tiles = _tiles(html)
    assert 0 < tiles["responses"] == filtered.n_total < everyone.n_total
    assert tiles["gap"] == pytest.approx(filtered.servqual.overall["mean_gap"].iloc[0])
    # the form shows the filter it applied, so the view can be shared as it is
    assert re.search(r'name="segment.PR_BRANCH"[^>]*value="1"[^>]*checked|checked[^>]*name="segment.PR_BRANCH"[^>]*value="1"',
                     html)


def test_an_impossible_filter_is_explained(client, manager):
    response = client.get(f"/dashboard/{manager.slug}?lang=en&from=2026-10-10&to=2026-01-01")
    assert response.status_code == 400
    assert "The end date is before the start date." in response.get_data(as_text=True)
    assert client.get(f"/dashboard/{manager.slug}?lang=en&period=X").status_code == 400
    assert client.get(f"/dashboard/{manager.slug}?lang=en&segment.PR_BRANCH=99").status_code == 400


def test_chart_data_downloads_as_csv(client, manager):
    response = client.get(f"/dashboard/{manager.slug}/chart/servqual_dimensions.csv?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    dims = _analysis(manager, ResponseFilter()).servqual.dimensions.set_index("dimension")
    assert {row["dimension"]: float(row["mean_gap"]) for row in rows} == pytest.approx(dims["mean_gap"].to_dict())
    assert client.get(f"/dashboard/{manager.slug}/chart/no_such_chart.csv").status_code == 404


def test_follow_up_lists_consenting_unhappy_customers_with_contacts(client, db, manager):
    """One rule: the follow-up list is the consenting customers the survey's cases were opened
    for (screened responses included: tests/cases/test_views.py)."""
    html = client.get(f"/dashboard/{manager.slug}/follow-up?lang=en").get_data(as_text=True)
    listed = [int(i) for i in re.findall(r'data-response="(\d+)"', html)]
    assert listed, "the demo has unhappy customers who agreed to be contacted"
    with_case = db.session.execute(db.select(Case.response_id).join(Contact, Contact.response_id ==
                                                                    Case.response_id)
                                   .where(Case.survey_id == manager.id)).scalars().all()
    assert sorted(listed) == sorted(with_case)
    contact = db.session.execute(db.select(Contact).where(Contact.response_id == listed[0])).scalar_one()
    assert contact.email in html
    first = db.session.execute(db.select(Case).where(Case.response_id == listed[0])).scalar_one()
    assert str(escape(first.reasons)) in html


def test_follow_up_rule_comes_from_the_manager(client, manager):
    strict = client.get(f"/dashboard/{manager.slug}/follow-up?lang=en&ratio_below=0.75&gap_below="
                        f"&negative_emotion_at_least=&overall_at_most=&polarity_below=").get_data(as_text=True)
    frame = responses_frame(manager, ResponseFilter())
    codebook = survey_codebook(manager)
    pairs = {i: cols for i, cols in ep_pairs(codebook, "servqual").items()}
    # An independent P/E per customer: sum of P over sum of E of the SERVQUAL pairs.
    ratio = (frame[[p for _, p in pairs.values()]].sum(axis=1, min_count=1)
             / frame[[e for e, _ in pairs.values()]].sum(axis=1, min_count=1))
    expected = frame.assign(ratio=ratio).query("contact_ok and ratio < 0.75").sort_values("ratio")
    assert len(expected)
    assert [int(i) for i in re.findall(r'data-response="(\d+)"', strict)] == expected["response_id"].tolist()
    bad = client.get(f"/dashboard/{manager.slug}/follow-up?lang=en&ratio_below=abc")
    assert bad.status_code == 400


def test_follow_up_csv_has_contacts_and_reasons(client, manager):
    response = client.get(f"/dashboard/{manager.slug}/follow-up.csv?lang=en")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(row["email"].endswith("@example.com") and row["reasons"] for row in rows)


def test_researcher_owner_sees_the_dashboard(client, seeded_survey, login):
    login("demo-researcher", "demo-researcher-2026")
    assert client.get(f"/dashboard/{seeded_survey.slug}").status_code == 200


def test_plotly_js_is_served_from_the_package(client):
    response = client.get("/dashboard/assets/plotly.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"plotly" in response.data[:2000].lower()


def test_active_filters_are_summarised_with_a_clear_link(client, manager):
    url = f"/dashboard/{manager.slug}?lang=en&segment.PR_TYPE=2&from=2026-01-01&period=M"
    html = client.get(url).get_data(as_text=True)
    codebook = survey_codebook(manager)
    variable = codebook["PR_TYPE"]
    option = next(o for o in variable.scale["options"] if float(o["value"]) == 2.0)
    summary = re.search(r'<p class="filter-summary" id="filter-summary">(.*?)</p>', html, re.S).group(1)
    assert "Filtered:" in summary
    assert str(escape(f"{variable.text['en']} = {option['label']['en']}")) in summary
    assert "from 2026-01-01" in summary
    # "Clear" keeps the language and the trend period, and drops every filter.
    clear = re.search(r'href="([^"]+)" data-clear-filters', html).group(1).replace("&amp;", "&")
    assert clear.startswith(f"/dashboard/{manager.slug}?") and "lang=en" in clear and "period=M" in clear
    assert "segment." not in clear and "from=" not in clear
    cleared = client.get(clear).get_data(as_text=True)
    assert 'id="filter-summary"' not in cleared


def test_headline_figures_on_few_responses_are_marked(client, manager):
    html = client.get(f"/dashboard/{manager.slug}?lang=en&segment.PR_TYPE=2").get_data(as_text=True)
    filtered = _analysis(manager, ResponseFilter(segments={"PR_TYPE": [2.0]}))
    n = filtered.servqual.methods.n_used
    marked = dict(re.findall(r'data-few="(\w+)">([^<]+)<', html))
    assert 0 < n < 30  # one customer type of the seeded survey's 60 responses
    assert marked["gap"] == f"Few responses: n = {n} (stated minimum 30)"
    assert marked["servqual_dimensions"] == marked["gap"]
    everyone = client.get(f"/dashboard/{manager.slug}?lang=en").get_data(as_text=True)
    assert 'data-few="gap"' not in everyone  # all 60: enough for the gap
    assert "responses" not in marked  # the count of responses is never "few"
    # The relationship model's minimum (100) is above the seeded survey's size: always marked.
    assert f"n = {filtered.paths.attrs['methods'].n_used} (stated minimum 100)" in marked["relationship_model"]
