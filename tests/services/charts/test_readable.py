"""Issue 11 part 5 on the demo's charts (en and zh): full item texts, KANO numbers that never
overlap, arrows ending on the boxes, every model's R², bars from zero, date ticks, "few responses"."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from analysis.common import MIN_N
from surveyapp.services.charts.common import DIAGRAM_MIN_WIDTH, point_label_size
from surveyapp.services.charts.ipa import IPA_MIN_PLOT
from surveyapp.services.charts.kano import KANO_MIN_PLOT, KANO_RANGE
from surveyapp.services.charts.layout import Box, overlapping_pairs, text_size, unwrap_label
from surveyapp.services.charts.paths import COEFFICIENT_FONT, diagram_scale
from surveyapp.services.charts.trends import MAX_TICKS

LANGS = ["en", "zh"]


def _drawn(demo, lang):
    return demo if lang == "en" else demo["zh"]


@pytest.mark.parametrize("lang", LANGS)
def test_expectation_vs_perception_labels_are_the_full_item_texts(demo, lang):
    drawn = _drawn(demo, lang)
    figure = drawn["charts"]["servqual_items"].figure
    perception = figure["data"][2]
    for label, (hover_text, _gap) in zip(perception["y"], perception["customdata"]):
        code = label.split(" ")[0]
        text = drawn["labels"].item(code)
        joined = unwrap_label(label)
        if lang == "en":
            assert joined == f"{code} {text}"
            assert unwrap_label(hover_text) == f"{code} {text}"
        else:  # Chinese lines break between characters: nothing is lost or added but line breaks
            assert re.sub(r"\s", "", label.replace("<br>", "")) == re.sub(r"\s", "", f"{code}{text}")
            assert re.sub(r"\s", "", hover_text.replace("<br>", "")) == re.sub(r"\s", "", f"{code}{text}")
    # SQ11, SQ12 and SQ13 (all about the staff) are told apart by their whole text.
    texts = {label.split(" ")[0]: unwrap_label(label) for label in perception["y"]}
    assert len({texts["SQ11"], texts["SQ12"], texts["SQ13"]}) == 3
    assert "…" not in "".join(perception["y"])


def _point_label_boxes(figure, scale):
    """Pixel boxes of a chart's point labels at ``scale`` (px per unit)."""
    return [Box.around(note["ax"] * scale[0], note["ay"] * scale[1], *point_label_size(note["text"]))
            for note in figure["layout"]["annotations"] if note.get("showarrow")]


@pytest.mark.parametrize("lang", LANGS)
def test_kano_numbers_never_overlap_and_match_the_table(demo, lang):
    drawn = _drawn(demo, lang)
    figure = drawn["charts"]["kano_map"].figure
    span = KANO_RANGE[1] - KANO_RANGE[0]
    smallest = (KANO_MIN_PLOT[0] / span, KANO_MIN_PLOT[1] / span)
    for widening in (1.0, 1.5, 2.5):
        boxes = _point_label_boxes(figure, (smallest[0] * widening, smallest[1]))
        assert len(boxes) == len(drawn["kano"])
        assert overlapping_pairs(boxes) == []
    # Each number points at its feature's point, and the table below gives that number to that feature.
    points = {}
    for trace in figure["data"]:
        for (code, *_rest), x, y in zip(trace["customdata"], trace["x"], trace["y"]):
            points[code] = (x, y)
    numbers = {row["number"]: row["feature"] for row in drawn["kano"]}
    for note in (n for n in figure["layout"]["annotations"] if n.get("showarrow")):
        assert points[numbers[int(note["text"])]] == pytest.approx((note["x"], note["y"]))
    # The hover gives the feature's full text.
    hovers = [h for trace in figure["data"] for h in (c[2] for c in trace["customdata"])]
    for row in drawn["kano"]:
        assert any(unwrap_label(h).replace(" ", "").endswith(row["label"].replace(" ", "")) for h in hovers)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["stated", "derived"])
def test_importance_performance_names_never_overlap(demo, lang, kind):
    figure = _drawn(demo, lang)["charts"][f"ipa_{kind}"].figure
    x0, x1 = figure["layout"]["xaxis"]["range"]
    y0, y1 = figure["layout"]["yaxis"]["range"]
    smallest = (IPA_MIN_PLOT[0] / (x1 - x0), IPA_MIN_PLOT[1] / (y1 - y0))
    names = {note["text"].replace("<br>", " ") for note in figure["layout"]["annotations"] if note.get("showarrow")}
    assert names == {_drawn(demo, lang)["labels"].dimension(code)
                     for code in demo["analysis"].ipa[kind].table["item"]}
    for widening in (1.0, 2.0):
        assert overlapping_pairs(_point_label_boxes(figure, (smallest[0] * widening, smallest[1]))) == []


def _diagram(chart):
    layout = chart.figure["layout"]
    shapes = {s["name"].removeprefix("node:"): s for s in layout["shapes"] if s.get("name", "").startswith("node:")}
    arrows = [a for a in layout["annotations"] if a.get("showarrow")]
    labels = [a for a in layout["annotations"] if not a.get("showarrow") and not a.get("name")]
    return shapes, arrows, labels


def _on_rectangle(x, y, shape, tol=1e-9) -> bool:
    inside = shape["x0"] - tol <= x <= shape["x1"] + tol and shape["y0"] - tol <= y <= shape["y1"] + tol
    on_side = min(abs(x - shape["x0"]), abs(x - shape["x1"]), abs(y - shape["y0"]), abs(y - shape["y1"])) < tol
    return inside and on_side


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("chart_id, source, target", [("relationship_model", "predictor", "outcome"),
                                                      ("csi_model", "source", "target")])
def test_path_arrows_meet_the_boxes_and_labels_stay_apart(demo, lang, chart_id, source, target):
    chart = _drawn(demo, lang)["charts"][chart_id]
    assert chart.diagram and chart.wide
    shapes, arrows, labels = _diagram(chart)
    table = chart.table
    assert len(arrows) == len(labels) == len(table)
    for arrow, (start, end) in zip(arrows, zip(table[source], table[target])):
        assert _on_rectangle(arrow["x"], arrow["y"], shapes[end]), (start, end)
        assert _on_rectangle(arrow["ax"], arrow["ay"], shapes[start]), (start, end)
    scale = diagram_scale(chart.figure["layout"]["height"])
    label_boxes = [Box.around(a["x"] * scale[0], a["y"] * scale[1], *text_size(a["text"], COEFFICIENT_FONT))
                   for a in labels]
    node_boxes = [Box(s["x0"] * scale[0], s["y0"] * scale[1], s["x1"] * scale[0], s["y1"] * scale[1])
                  for s in shapes.values()]
    assert overlapping_pairs(label_boxes) == []
    assert overlapping_pairs(node_boxes) == []
    assert not any(label.overlaps(node) for label in label_boxes for node in node_boxes)
    assert scale[0] * (chart.figure["layout"]["xaxis"]["range"][1] - chart.figure["layout"]["xaxis"]["range"][0]) \
        == pytest.approx(DIAGRAM_MIN_WIDTH - 20)


def test_every_models_r2_is_shown_and_named_in_the_note(demo):
    chart = demo["charts"]["relationship_model"]
    boxes = {a["name"].removeprefix("node:"): a["text"] for a in chart.figure["layout"]["annotations"]
             if a.get("name", "").startswith("node:")}
    paths = demo["analysis"].paths
    models = paths.groupby(["outcome", "path"], sort=False)["r2"].first()
    several = 0
    for outcome, values in models.groupby(level=0, sort=False):
        shown = boxes[outcome].split("R² = ")[1].split(" · ")
        assert shown == [f"{v:.2f}" for v in values]
        several += len(values) > 1
    assert several >= 2  # the demo has outcomes with several models
    assert "R² = " in chart.note and "the last one" not in chart.note


def test_ratio_and_segment_bars_start_at_zero(demo):
    assert demo["charts"]["ratio_dimensions"].figure["layout"]["xaxis"]["range"][0] == 0
    for chart in demo["sections"]["segments"]:
        if chart.figure is not None:
            low, high = chart.figure["layout"]["yaxis"]["range"]
            assert low <= 0 <= high, chart.id


@pytest.mark.parametrize("lang", LANGS)
def test_trend_axis_is_a_date_axis_with_few_upright_ticks(demo, lang):
    for score in ("ratio", "gap"):
        axis = _drawn(demo, lang)["charts"][f"trend_{score}"].figure["layout"]["xaxis"]
        assert axis["type"] == "date" and axis["tickangle"] == 0
        first, last = (axis["range"][0], axis["range"][1])
        span = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days
        step_days = axis["dtick"] / 86_400_000 if isinstance(axis["dtick"], (int, float)) \
            else 30.44 * int(axis["dtick"][1:])
        assert span / step_days <= MAX_TICKS
        if lang == "zh":
            assert "%b" not in axis["tickformat"]  # no English month names on a Chinese page


def test_few_responses_are_marked_on_tiles_and_charts(demo, sparse_demo):
    assert not any(c.few for c in demo["charts"].values() if c.figure)  # 263 responses: enough everywhere
    n = sparse_demo["analysis"].servqual.methods.n_used
    assert n < MIN_N["means"]
    expected = f"Few responses: n = {n} (stated minimum {MIN_N['means']})"
    assert sparse_demo["charts"]["servqual_dimensions"].few == expected
    assert sparse_demo["charts"]["servqual_items"].few == expected
    assert sparse_demo["tiles"]["gap"].few == expected
    assert sparse_demo["tiles"]["ratio"].few.startswith("Few responses: n = ")
    assert sparse_demo["tiles"]["responses"].few == ""
    assert sparse_demo["charts"]["servqual_items"].to_payload()["few"] == expected
    if sparse_demo["analysis"].paths is not None:
        assert f"stated minimum {MIN_N['paths']}" in sparse_demo["charts"]["relationship_model"].few
