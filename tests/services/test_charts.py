"""Dashboard charts: every drawn number is the analysis's number, and sparse data say so."""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from flask_babel import force_locale

from analysis.report import ReportOptions, analyse_survey, compare_segments
from analysis.synthetic import synthetic_frame
from surveyapp import create_app
from surveyapp.services import charts
from surveyapp.services.demo import demo_design
from surveyapp.services.surveys import compose, instrument_library


def test_every_section_has_its_charts_drawn(demo):
    assert set(demo["sections"]) == {section for section, _title in charts.SECTIONS}
    for chart_id in ("servqual_dimensions", "servqual_items", "servqual_scores", "ratio_distribution",
                     "ratio_dimensions", "kano_map", "ipa_stated", "ipa_derived", "relationship_model",
                     "mediation", "emotions", "emotions_satisfaction", "csi_index", "csi_model",
                     "trend_ratio", "trend_gap"):
        chart = demo["charts"][chart_id]
        assert chart.empty is None, (chart_id, chart.empty)
        assert chart.figure["data"], chart_id
        assert chart.table is not None and len(chart.table), chart_id


def test_gap_chart_draws_the_dimension_gaps_and_their_intervals(demo):
    dims = demo["analysis"].servqual.dimensions.set_index("dimension")
    bar = demo["charts"]["servqual_dimensions"].figure["data"][0]
    names = {demo["labels"].dimension(code): code for code in dims.index}
    drawn = dict(zip(bar["y"], bar["x"]))
    assert {names[name]: value for name, value in drawn.items()} == pytest.approx(dims["mean_gap"].to_dict())
    assert bar["x"] == sorted(bar["x"])  # worst dimension first
    for name, plus, minus in zip(bar["y"], bar["error_x"]["array"], bar["error_x"]["arrayminus"]):
        row = dims.loc[names[name]]
        assert row["mean_gap"] + plus == pytest.approx(row["ci_high"])
        assert row["mean_gap"] - minus == pytest.approx(row["ci_low"])
    for value, low, high, colour in zip(bar["x"], dims.loc[[names[n] for n in bar["y"]], "ci_low"],
                                        dims.loc[[names[n] for n in bar["y"]], "ci_high"],
                                        bar["marker"]["color"]):
        if high < 0:
            assert colour == charts.BAD
        elif low > 0:
            assert colour == charts.GOOD


def test_dumbbell_shows_each_items_expectation_and_perception_worst_on_top(demo):
    items = demo["analysis"].servqual.items.set_index("item")
    figure = demo["charts"]["servqual_items"].figure
    expectation, perception = figure["data"][1], figure["data"][2]
    codes = [label.split(" ")[0] for label in perception["y"]]
    assert sorted(codes) == sorted(items.index)
    assert perception["x"] == pytest.approx(items.loc[codes, "mean_P"].tolist())
    assert expectation["x"] == pytest.approx(items.loc[codes, "mean_E"].tolist())
    # plotly draws the first category at the bottom: the largest shortfall comes last.
    gaps = items.loc[codes, "mean_gap"].tolist()
    assert gaps == sorted(gaps, reverse=True)


def test_ratio_histogram_counts_every_defined_ratio_and_marks_one(demo):
    chart = demo["charts"]["ratio_distribution"]
    ratios = demo["analysis"].satisfaction["servqual"].respondents["ratio"].dropna()
    assert sum(chart.figure["data"][0]["y"]) == len(ratios)
    assert chart.table["customers"].sum() == len(ratios)
    assert any(shape.get("x0") == 1 for shape in chart.figure["layout"]["shapes"])


def test_kano_map_places_every_feature_by_better_and_worse(demo):
    kano = demo["analysis"].kano
    points = {}
    for trace in demo["charts"]["kano_map"].figure["data"]:
        for (code, *_details), x, y in zip(trace["customdata"], trace["x"], trace["y"]):
            points[code] = (x, y)
    assert set(points) == set(kano.index)
    for code, (x, y) in points.items():
        assert x == pytest.approx(abs(kano.loc[code, "worse"]))
        assert y == pytest.approx(kano.loc[code, "better"])
    rows = {row["feature"]: row for row in demo["kano"]}
    assert {code: row["fong_significant"] for code, row in rows.items()} == \
        kano["fong_significant"].astype(bool).to_dict()


def test_ipa_quadrants_follow_the_analysis(demo):
    result = demo["analysis"].ipa["stated"]
    trace = demo["charts"]["ipa_stated"].figure["data"][0]
    assert trace["x"] == pytest.approx(result.table["performance"].tolist())
    assert trace["y"] == pytest.approx(result.table["importance"].tolist())
    shapes = demo["charts"]["ipa_stated"].figure["layout"]["shapes"]
    assert {round(s["x0"], 9) for s in shapes if s["x0"] == s["x1"]} == {round(result.performance_split, 9)}
    labels = [a["text"] for a in demo["charts"]["ipa_stated"].figure["layout"]["annotations"]]
    assert {"Concentrate here", "Keep up the good work", "Low priority", "Possible overkill"} <= set(labels)


def test_path_diagram_labels_each_path_with_its_coefficient(demo):
    paths = demo["analysis"].paths
    texts = [a["text"] for a in demo["charts"]["relationship_model"].figure["layout"]["annotations"]
             if a.get("text")]
    for beta, p in zip(paths["beta"], paths["p"]):
        assert f"{beta:.2f}{charts._stars(p)}" in texts
    # Every model's R², also of an outcome with several models, in its box.
    boxes = {a["name"].removeprefix("node:"): a["text"]
             for a in demo["charts"]["relationship_model"].figure["layout"]["annotations"]
             if a.get("name", "").startswith("node:")}
    for (outcome, _model), rows in paths.groupby(["outcome", "path"]):
        assert f"{rows['r2'].iloc[0]:.2f}" in boxes[outcome].split("R² = ")[1], (outcome, _model)
    assert demo["charts"]["relationship_model"].wide


def test_csi_index_bars_are_the_index_scores(demo):
    index = demo["analysis"].csi.index
    bar = demo["charts"]["csi_index"].figure["data"][0]
    assert bar["y"] == pytest.approx(index["index"].tolist())
    assert "No bootstrap" in demo["charts"]["csi_index"].note


def test_segment_comparison_bars_are_the_group_means(demo):
    scores = demo["analysis"].respondent_scores
    segment = next(iter(demo["labels"].segments))
    chart = demo["charts"][f"segment_{segment}_ratio"]
    expected = compare_segments(scores, segment, "ratio").groups
    assert chart.figure["data"][0]["y"] == pytest.approx(expected["mean"].tolist())
    assert chart.group == segment
    assert "Welch ANOVA" in chart.note


def test_tiles_are_the_headline_results(demo):
    analysis, tiles = demo["analysis"], demo["tiles"]
    assert tiles["responses"].raw == analysis.n_total
    assert "completion rate 90%" in tiles["responses"].detail
    assert tiles["ratio"].raw == pytest.approx(analysis.satisfaction["servqual"].survey["ratio_of_means"].iloc[0])
    overall = analysis.servqual.overall.iloc[0]
    assert tiles["gap"].raw == pytest.approx(overall["mean_gap"])
    assert f"{overall['ci_low']:+.2f}" in tiles["gap"].detail
    assert tiles["below"].raw == pytest.approx(overall["share_negative"])
    summary = analysis.servqual_reliability.summary
    assert tiles["alpha"].raw == pytest.approx(summary.loc[summary["score"] == "P", "alpha"].min())


def test_too_few_responses_give_reasons_not_charts(demo):
    few = demo["frame"].head(4)
    analysis = analyse_survey(few, demo["codebook"], ReportOptions(n_boot=200, csi_boot=0))
    with demo["app"].test_request_context(), force_locale("en"):
        drawn = {c.id: c for cs in charts.dashboard_charts(analysis, demo["labels"]).values() for c in cs}
    for chart_id, section in (("csi_index", "csi"), ("ipa_derived", "ipa_derived")):
        assert drawn[chart_id].figure is None
        assert analysis.skipped[section] in drawn[chart_id].empty
    assert all(chart.figure is None or chart.empty is None for chart in drawn.values())


def test_chart_csv_neutralises_formulas_and_keeps_numbers():
    table = pd.DataFrame({"label": ["=HYPERLINK(\"x\")", "plain"], "gap": [-1.25, np.nan]})
    rows = list(csv.reader(io.StringIO(charts.chart_csv(table))))
    assert rows == [["label", "gap"], ["'=HYPERLINK(\"x\")", "-1.25"], ["plain", ""]]

