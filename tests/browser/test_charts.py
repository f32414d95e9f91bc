"""Issue 11 part 5 and issue 10's "few responses" mark in Chromium, on a phone in Chinese and a
desktop in English: the rendered plotly figures are read back and checked against the codebook and
the analysis; KANO labels' boxes never overlap; every R² is on the page; the filter summary appears
and "clear" removes it; few responses are marked; axe finds nothing. Screenshots in tests/artifacts/."""
from __future__ import annotations

import itertools
import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from analysis.common import MIN_N
from analysis.report import ReportOptions, analyse_survey
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.charts.kano import KANO_MIN_PLOT
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.demo import DEMO_SLUG
from surveyapp.services.responses import ResponseFilter, responses_frame

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
COMPUTE_TIMEOUT_MS = 180_000
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "wcag22aa", "best-practice"]}}
CASES = [("zh-CN", "zh", PHONE, "phone-zh"), ("en-US", "en", DESKTOP, "desktop-en")]


def _survey():
    return db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()


def _analysis(live_app, filters: ResponseFilter):
    with live_app.app_context():
        survey = _survey()
        options = ReportOptions(n_boot=live_app.config["DASHBOARD_MEDIATION_BOOT"],
                                csi_boot=live_app.config["DASHBOARD_CSI_BOOT"])
        result = analyse_survey(responses_frame(survey, filters), survey_codebook(survey), options)
        db.session.remove()
        return result


def _item_texts(live_app, lang: str) -> dict[str, str]:
    """The codebook's text of each SERVQUAL item (its perception statement) in ``lang``."""
    with live_app.app_context():
        codebook = survey_codebook(_survey())
        db.session.remove()
    return {v.item: v.text[lang] for v in codebook if v.facet == "P" and v.item.startswith("SQ")}


def _few_responses_filter(live_app) -> dict[str, str]:
    """One segment answer (else two together) that selects between 12 and 25 complete responses."""
    with live_app.app_context():
        frame = responses_frame(_survey(), ResponseFilter())
        db.session.remove()
    columns = [c for c in ("PR_TYPE", "PR_CHANNEL", "PR_TENURE", "PR_FREQ") if c in frame]
    for size in (1, 2):
        for chosen in itertools.combinations(columns, size):
            for values, n in frame.groupby(list(chosen)).size().items():
                values = values if isinstance(values, tuple) else (values,)
                if 12 <= n <= 25:
                    return {f"segment.{c}": f"{v:g}" for c, v in zip(chosen, values)}
    raise AssertionError("the demo has no segment answers with 12-25 responses")


def _open(page, url: str) -> None:
    # The first look at a filter computes its analysis (on a loaded machine, longer than 30 s).
    page.goto(url, timeout=COMPUTE_TIMEOUT_MS)
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=COMPUTE_TIMEOUT_MS)


def _no_space(text: str) -> str:
    return re.sub(r"\s|<br>", "", text)


def _axe(page) -> list[str]:
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']}: {v['help']} {v['nodes'][0]['target']}" for v in found]


@pytest.mark.parametrize("locale, lang, viewport, tag", CASES)
def test_charts_read_back_from_the_page(make_page, live_server, live_app, login_as, artifacts,
                                        external_requests, locale, lang, viewport, tag):
    page = make_page(locale=locale, viewport=viewport)
    login_as(page, "manager")
    _open(page, f"{live_server}/dashboard/{DEMO_SLUG}?lang={lang}")
    assert page.locator("#filter-summary").count() == 0  # nothing filtered, nothing said

    # Expectation vs perception: axis labels and hover texts are the codebook's full item texts.
    items = _item_texts(live_app, lang)
    drawn = page.evaluate("""() => { const el = document.querySelector('[data-plot=servqual_items]');
        const t = el.data[2];
        return {labels: Array.from(t.y), hovers: Array.from(t.customdata).map(c => c[0]),
                ticks: Array.from(el.querySelectorAll('.ytick text')).map(e => e.textContent)}; }""")
    assert len(drawn["labels"]) == len(items)
    for label, hover_text in zip(drawn["labels"], drawn["hovers"]):
        code = label.split(" ")[0]
        if lang == "en":
            assert label.replace("<br>", " ") == f"{code} {items[code]}"
            assert hover_text.replace("<br>", " ") == f"{code} {items[code]}"
        else:
            assert _no_space(label) == _no_space(code + items[code])
            assert _no_space(hover_text) == _no_space(code + items[code])
    expected_ticks = sorted(_no_space(code + text) for code, text in items.items())
    assert sorted(_no_space(t) for t in drawn["ticks"]) == expected_ticks

    # KANO map: the plot is at least as large as the labels were placed for, and no two label boxes
    # (numbers and corner names) overlap on the screen.
    kano = page.evaluate("""() => { const el = document.querySelector('[data-plot=kano_map]');
        const boxes = Array.from(el.querySelectorAll('g.annotation')).map(g => {
            const r = g.querySelector('.annotation-text-g').getBoundingClientRect();
            return {text: g.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; });
        return {w: el._fullLayout._size.w, h: el._fullLayout._size.h, boxes}; }""")
    assert kano["w"] >= KANO_MIN_PLOT[0] and kano["h"] >= KANO_MIN_PLOT[1], kano
    numbers = [b for b in kano["boxes"] if b["text"].isdigit()]
    assert sorted(int(b["text"]) for b in numbers) == list(range(1, len(numbers) + 1)) and numbers
    boxes = kano["boxes"]
    for a, b in itertools.combinations(boxes, 2):
        overlap = (a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5
                   and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5)
        assert not overlap, (a, b)
    table_numbers = page.eval_on_selector_all("#kano-table tbody tr td:first-child",
                                              "els => els.map(e => e.textContent)")
    assert sorted(map(int, table_numbers)) == sorted(int(b["text"]) for b in numbers)

    # Relationship model: every model's R², also several for one outcome, is written on the page.
    everyone = _analysis(live_app, ResponseFilter())
    node_texts = page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-plot=relationship_model] g.annotation')).map(g => g.textContent)""")
    models = everyone.paths.groupby(["outcome", "path"], sort=False)["r2"].first()
    for outcome, values in models.groupby(level=0, sort=False):
        shown = "R² = " + " · ".join(f"{v:.2f}" for v in values)
        assert any(shown in text for text in node_texts), (outcome, shown, node_texts)
    # ... and its arrows end on the boxes' edges (the layout the page drew).
    ends = page.evaluate("""() => {
        const l = document.querySelector('[data-plot=relationship_model]').layout;
        const boxes = l.shapes.filter(s => (s.name || '').startsWith('node:'));
        return l.annotations.filter(a => a.showarrow).map(a => boxes.some(s =>
            a.x >= s.x0 - 1e-9 && a.x <= s.x1 + 1e-9 && a.y >= s.y0 - 1e-9 && a.y <= s.y1 + 1e-9 &&
            Math.min(Math.abs(a.x - s.x0), Math.abs(a.x - s.x1),
                     Math.abs(a.y - s.y0), Math.abs(a.y - s.y1)) < 1e-9)); }""")
    assert ends and all(ends)

    # Trend: a date axis whose tick labels are upright and do not collide.
    ticks = page.evaluate("""() => Array.from(document.querySelectorAll('[data-plot=trend_ratio] .xtick text'))
        .map(e => { const r = e.getBoundingClientRect();
                    return [r.left, r.right, e.getAttribute('transform') || '']; })""")
    assert 2 <= len(ticks) <= 6
    assert all("rotate" not in transform for *_x, transform in ticks)
    ordered = sorted(ticks)
    assert all(left[1] <= right[0] for left, right in zip(ordered, ordered[1:]))

    # Ratio bars start at 0.
    ratio_axis = "document.querySelector('[data-plot=ratio_dimensions]')._fullLayout.xaxis.range[0]"
    assert page.evaluate(ratio_axis) == 0

    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(artifacts / f"charts-{tag}.png"), full_page=True)
    assert _axe(page) == []
    assert external_requests == []


@pytest.mark.parametrize("locale, lang, viewport, tag", CASES)
def test_filter_summary_clear_and_few_responses(make_page, live_server, live_app, login_as, artifacts,
                                                external_requests, locale, lang, viewport, tag):
    page = make_page(locale=locale, viewport=viewport)
    login_as(page, "manager")
    few = _few_responses_filter(live_app)
    query = "&".join(f"{k}={v}" for k, v in few.items())
    _open(page, f"{live_server}/dashboard/{DEMO_SLUG}?lang={lang}")

    # Apply the filter through the form, as a manager does.
    page.click(".filters summary")
    for name, value in few.items():
        page.check(f"input[name='{name}'][value='{value}']")
    page.fill("#f-from", "2020-01-01")
    with page.expect_navigation(timeout=COMPUTE_TIMEOUT_MS):
        page.click(".filter-form button[type=submit]")
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=COMPUTE_TIMEOUT_MS)
    for key, value in few.items():
        assert f"{key}={value}" in page.url
    summary = page.inner_text("#filter-summary")
    assert ("筛选" if lang == "zh" else "Filtered:") in summary
    assert "2020-01-01" in summary
    with live_app.app_context():
        codebook = survey_codebook(_survey())
        db.session.remove()
    for key, value in few.items():
        variable = codebook[key.removeprefix("segment.")]
        option = next(o for o in variable.scale["options"] if float(o["value"]) == float(value))
        assert f"{variable.text[lang]} = {option['label'][lang]}" in summary

    # Few responses: the headline tiles and the charts resting on them say so, with n.
    filtered = _analysis(live_app, ResponseFilter(segments={k.removeprefix("segment."): [float(v)]
                                                            for k, v in few.items()}))
    n = filtered.servqual.methods.n_used
    assert n < MIN_N["means"]
    badge = page.inner_text("[data-few=gap]")
    assert f"n = {n}" in badge and str(MIN_N["means"]) in badge
    assert f"n = {n}" in page.inner_text("#chart-servqual_items .subtitle [data-few]")
    assert page.locator("[data-few]").count() >= 4
    page.screenshot(path=str(artifacts / f"charts-few-{tag}.png"), full_page=True)
    assert _axe(page) == []

    # "Clear" removes every filter and the summary with it; the language stays.
    with page.expect_navigation(timeout=COMPUTE_TIMEOUT_MS):
        page.click("[data-clear-filters]")
    page.wait_for_selector("#dashboard[data-charts-drawn]", timeout=COMPUTE_TIMEOUT_MS)
    assert "segment." not in page.url and "from=" not in page.url and f"lang={lang}" in page.url
    assert page.locator("#filter-summary").count() == 0
    everyone = _analysis(live_app, ResponseFilter())
    assert everyone.servqual.methods.n_used >= MIN_N["means"]
    assert page.locator("[data-few=gap]").count() == 0
    assert query  # the filter was a real one
    assert external_requests == []
