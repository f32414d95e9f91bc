"""A manager opens the demo dashboard in Chromium: every chart drawn with data, numbers equal to
the analysis for the same filter, a filter changes the charts, full-page screenshots saved."""
from __future__ import annotations

import pytest

from analysis.report import ReportOptions, analyse_survey
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.demo import DEMO_SLUG
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.responses import ResponseFilter, responses_frame

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
#: The first look at a survey computes its analysis in the background; the page polls.
COMPUTE_TIMEOUT_MS = 180_000


def _analysis(live_app, filters: ResponseFilter):
    with live_app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        frame = responses_frame(survey, filters)
        options = ReportOptions(n_boot=live_app.config["DASHBOARD_MEDIATION_BOOT"],
                                csi_boot=live_app.config["DASHBOARD_CSI_BOOT"])
        result = analyse_survey(frame, survey_codebook(survey), options)
        db.session.remove()
        return result


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=COMPUTE_TIMEOUT_MS)


def _plots(page) -> dict:
    """Every drawn plot: its id -> number of points in its traces (from plotly's own data)."""
    return page.evaluate("""() => Object.fromEntries(
        Array.from(document.querySelectorAll('[data-plot][data-drawn=true]')).map(el => [
          el.getAttribute('data-plot'),
          el.data.reduce((n, trace) => n + ((trace.x || trace.y || []).length), 0)]))""")


def _tiles(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('[data-tile]'))
        .map(el => [el.getAttribute('data-tile'), parseFloat(el.getAttribute('data-value'))]))""")


def _gap_bars(page) -> dict:
    return page.evaluate("""() => { const t = document.querySelector('[data-plot=servqual_dimensions]').data[0];
        return Object.fromEntries(Array.from(t.y).map((name, i) => [name, t.x[i]])); }""")


def test_manager_reads_the_dashboard_and_filters_it(make_page, live_server, live_app, login_as, artifacts,
                                                    external_requests):
    page = make_page(locale="en-US", viewport=DESKTOP)
    login_as(page, "manager")
    _open(page, f"{live_server}/dashboard/{DEMO_SLUG}?lang=en")

    # Every chart has rendered, with data; none is hidden behind "not enough data".
    plots = _plots(page)
    expected_plots = {"servqual_dimensions", "servqual_items", "servqual_scores", "ratio_distribution",
                      "ratio_dimensions", "kano_map", "ipa_stated", "ipa_derived", "relationship_model",
                      "mediation", "emotions", "emotions_satisfaction", "csi_index", "csi_model",
                      "trend_ratio", "trend_gap"}
    assert expected_plots <= set(plots), sorted(expected_plots - set(plots))
    assert all(points > 0 for points in plots.values()), plots
    assert page.locator("[data-empty]").count() == 0
    assert page.locator(".modebar-btn[data-title='Download plot as a PNG']").count() >= len(expected_plots)

    # The numbers shown are the analysis's numbers for the same (empty) filter.
    everyone = _analysis(live_app, ResponseFilter())
    tiles = _tiles(page)
    assert tiles["responses"] == everyone.n_total
    assert tiles["gap"] == pytest.approx(everyone.servqual.overall["mean_gap"].iloc[0])
    assert tiles["ratio"] == pytest.approx(everyone.satisfaction["servqual"].survey["ratio_of_means"].iloc[0])
    gaps = _gap_bars(page)
    assert sorted(gaps.values()) == pytest.approx(sorted(everyone.servqual.dimensions["mean_gap"]))
    page.screenshot(path=str(artifacts / "dashboard-desktop-en.png"), full_page=True)

    # A filter (one branch) changes every tile and chart, and lands in the URL.
    page.click(".filters summary")
    page.check("input[name='segment.PR_TYPE'][value='2']")  # one customer type (everyone is asked)
    with page.expect_navigation():
        page.click(".filter-form button[type=submit]")
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=COMPUTE_TIMEOUT_MS)
    assert "segment.PR_TYPE=2" in page.url
    branch = _analysis(live_app, ResponseFilter(segments={"PR_TYPE": [2.0]}))
    filtered_tiles = _tiles(page)
    assert filtered_tiles["responses"] == branch.n_total < everyone.n_total
    assert filtered_tiles["gap"] == pytest.approx(branch.servqual.overall["mean_gap"].iloc[0])
    filtered_gaps = _gap_bars(page)
    assert sorted(filtered_gaps.values()) == pytest.approx(sorted(branch.servqual.dimensions["mean_gap"]))
    assert filtered_gaps != gaps

    # The shared link reproduces the view.
    shared = make_page(locale="en-US", viewport=DESKTOP)
    login_as(shared, "manager")
    _open(shared, page.url)
    assert _tiles(shared) == filtered_tiles
    assert external_requests == []


def test_phone_dashboard_in_chinese(make_page, live_server, login_as, artifacts, external_requests):
    page = make_page(locale="zh-CN")
    login_as(page, "manager")
    _open(page, f"{live_server}/dashboard/{DEMO_SLUG}?lang=zh")
    # Charts stack in one column and fit the phone's width.
    widths = page.evaluate("""() => Array.from(document.querySelectorAll('.chart-card'))
        .filter(el => !el.hidden).map(el => el.getBoundingClientRect().width)""")
    viewport = page.viewport_size["width"]
    assert widths and all(width <= viewport for width in widths)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    page.screenshot(path=str(artifacts / "dashboard-phone-zh.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts / "dashboard-print-zh.png"), full_page=True)
    assert external_requests == []
