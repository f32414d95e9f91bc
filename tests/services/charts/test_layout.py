"""Chart text and geometry: wrapped labels keep every character, labels never overlap at any plot
size from the smallest up, arrows end on the boxes' edges, trend ticks stay few and upright."""
from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta

import pytest

from surveyapp.services.charts.layout import (CLOSING, LINE_BREAK, Box, arrow_between, edge_point,
                                              label_along, overlapping_pairs, place_labels, text_size,
                                              unwrap_label, wrap_label)
from surveyapp.services.charts.paths import coefficient_places
from surveyapp.services.charts.trends import DAY_MS, MAX_TICKS, TICK_STEPS, date_axis
from surveyapp import create_app
from surveyapp.services.demo import demo_design
from surveyapp.services.surveys import compose, instrument_library


def _columns(line: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in line)


@pytest.fixture(scope="module")
def item_texts() -> dict[str, list[str]]:
    """Every question and KANO feature text of the demo survey, per language."""
    app = create_app("testing")
    with app.app_context():
        codebook = compose(demo_design())
        features = [f["feature"] for i in instrument_library().values() if i.kind == "kano" for f in i.features]
    texts = {lang: [v.text[lang] for v in codebook if (v.text or {}).get(lang)] + [f[lang] for f in features]
             for lang in ("en", "zh")}
    assert len(texts["en"]) > 40 and len(texts["zh"]) > 40
    return texts


def test_english_labels_break_at_spaces_and_read_the_same(item_texts):
    for text in item_texts["en"]:
        wrapped = wrap_label(text, 30)
        assert unwrap_label(wrapped) == " ".join(text.split())
        for line in wrapped.split(LINE_BREAK):
            # A line is over the width only when it is one word longer than the width.
            assert len(line) <= 30 or " " not in line, line


def test_chinese_labels_break_by_width_and_lose_no_character(item_texts):
    for text in item_texts["zh"]:
        wrapped = wrap_label(text, 26)
        lines = wrapped.split(LINE_BREAK)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for index, line in enumerate(lines):
            # closing punctuation may overhang the width by one character: it never starts a line
            assert _columns(line) <= 26 + 2, line
            if index:
                assert line[0] not in CLOSING, wrapped


def test_wrapping_a_short_label_changes_nothing_and_a_bad_width_is_refused():
    assert wrap_label("Tangibles", 30) == "Tangibles"
    assert wrap_label("有形性", 30) == "有形性"
    with pytest.raises(ValueError):
        wrap_label("x", 0)


def test_text_size_grows_with_lines_and_counts_chinese_wider():
    one_line = text_size("Trust", 11)
    assert text_size("Trust<br>in firm", 11)[1] == pytest.approx(2 * one_line[1])
    assert text_size("信任", 11)[0] > text_size("ab", 11)[0]
    assert text_size("<b>Trust</b>", 11) == one_line


def _boxes(centres, sizes, scale):
    return [Box.around(x * scale[0], y * scale[1], w, h) for (x, y), (w, h) in zip(centres, sizes)]


@pytest.mark.parametrize("seed", range(5))
def test_labels_of_crowded_points_never_overlap_at_any_larger_plot(seed):
    rng = random.Random(seed)
    # Ten points in two tight clumps, like must-be and attractive features on a KANO map.
    points = [(0.85 + rng.uniform(-0.02, 0.02), 0.05 + rng.uniform(-0.02, 0.02)) for _ in range(5)]
    points += [(0.03 + rng.uniform(-0.02, 0.02), 0.9 + rng.uniform(-0.03, 0.03)) for _ in range(5)]
    sizes = [(20.0, 20.0)] * len(points)
    scale = (230 / 1.2, 260 / 1.2)
    area = Box(-0.1 * scale[0], -0.1 * scale[1], 1.1 * scale[0], 1.1 * scale[1])
    markers = [Box.around(x * scale[0], y * scale[1], 14, 14) for x, y in points]
    centres = place_labels(points, sizes, scale, area, markers)
    for factor in (1.0, 1.3, 2.0, 3.0):
        grown = (scale[0] * factor, scale[1])  # a wider plot: x stretches, the height is fixed
        labels = _boxes(centres, sizes, grown)
        assert overlapping_pairs(labels) == []
        grown_markers = [Box.around(x * grown[0], y * grown[1], 14, 14) for x, y in points]
        assert not any(label.overlaps(marker) for label in labels for marker in grown_markers)
    assert all(box.inside(area) for box in _boxes(centres, sizes, scale))


def test_place_labels_refuses_mismatched_input():
    with pytest.raises(ValueError):
        place_labels([(0, 0)], [], (1, 1), Box(0, 0, 1, 1))
    with pytest.raises(ValueError):
        place_labels([(0, 0)], [(1, 1)], (0, 1), Box(0, 0, 1, 1))


def _on_edge(point, centre, half, tol=1e-9) -> bool:
    dx, dy = abs(point[0] - centre[0]), abs(point[1] - centre[1])
    inside = dx <= half[0] + tol and dy <= half[1] + tol
    return inside and (abs(dx - half[0]) < tol or abs(dy - half[1]) < tol)


def test_arrows_start_and_end_on_the_box_edges_along_the_centre_line():
    rng = random.Random(3)
    for _ in range(200):
        a, b = (rng.uniform(0, 1), rng.uniform(0, 1)), (rng.uniform(0, 1), rng.uniform(0, 1))
        ha, hb = (rng.uniform(0.01, 0.1), rng.uniform(0.01, 0.1)), (rng.uniform(0.01, 0.1), rng.uniform(0.01, 0.1))
        if abs(a[0] - b[0]) < ha[0] + hb[0] and abs(a[1] - b[1]) < ha[1] + hb[1]:
            continue  # overlapping boxes have no arrow between them
        start, end = arrow_between(a, ha, b, hb)
        assert _on_edge(start, a, ha) and _on_edge(end, b, hb)
        # both ends lie on the line through the centres, in order a -> start -> end -> b
        cross = (b[0] - a[0]) * (end[1] - start[1]) - (b[1] - a[1]) * (end[0] - start[0])
        assert abs(cross) < 1e-9
        assert math.dist(a, start) < math.dist(a, end) < math.dist(a, b)
    with pytest.raises(ValueError):
        edge_point((0, 0), (1, 1), (0, 0))


def test_a_label_beside_an_arrow_is_offset_to_its_left():
    start, end, scale = (0.0, 0.0), (1.0, 1.0), (500.0, 400.0)
    x, y = label_along(start, end, 0.5, 10, scale)
    # distance from the line in pixels is the offset, on the left of the direction of travel
    px, py = x * scale[0], y * scale[1]
    dx, dy = scale[0], scale[1]
    distance = (dx * py - dy * px) / math.hypot(dx, dy)
    assert distance == pytest.approx(10)
    back = label_along(end, start, 0.5, 10, scale)
    assert back != (x, y)


def test_coefficients_of_crossing_and_opposite_arrows_do_not_coincide():
    scale = (660.0, 417.0)
    arrows = [((0.0, 0.0), (1.0, 1.0)), ((0.0, 1.0), (1.0, 0.0)),  # cross at their midpoints
              ((0.2, 0.5), (0.8, 0.5)), ((0.8, 0.5), (0.2, 0.5))]  # the same pair both ways
    sizes = [(50.0, 18.0)] * len(arrows)
    centres = coefficient_places(arrows, sizes, scale, [])
    assert overlapping_pairs(_boxes(centres, sizes, scale)) == []


@pytest.mark.parametrize("days", [0, 3, 10, 30, 60, 100, 200, 400, 800, 2000, 4000])
def test_trend_axis_has_few_upright_ticks(days):
    first = date(2026, 1, 5)
    axis = date_axis(first, first + timedelta(days=days), "en")
    step = next(s for s in TICK_STEPS if s[0] == axis["dtick"])
    assert axis["tickangle"] == 0
    assert days / step[1] <= MAX_TICKS - 1 or step is TICK_STEPS[-1]
    # the step is the shortest that fits: the one before it would give too many ticks
    index = TICK_STEPS.index(step)
    if index:
        assert days / TICK_STEPS[index - 1][1] > MAX_TICKS - 1
    assert date_axis(first, first + timedelta(days=days), "zh")["tickformat"] != axis["tickformat"] \
        or "%b" not in axis["tickformat"]


def test_weekly_ticks_fall_on_the_periods_first_days():
    axis = date_axis(date(2026, 1, 1), date(2026, 2, 5), anchor=date(2026, 1, 5))
    assert axis["dtick"] == 7 * DAY_MS and axis["tick0"] == "2026-01-05"
    with pytest.raises(ValueError):
        date_axis(date(2026, 2, 1), date(2026, 1, 1))


@pytest.mark.parametrize("module", ["surveyapp.services.charts.layout", "surveyapp.services.charts.trends"])
def test_docstring_examples_are_true(module):
    import doctest
    import importlib
    failed, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failed == 0


def test_category_ticks_share_a_phone_width_and_keep_every_word():
    from surveyapp.services.charts.common import CATEGORY_AXIS_COLUMNS, category_ticks
    names = ["Mainly looking for a good price", "Mainly looking for good service", "Both", "Neither"]
    ticks = category_ticks(names)
    assert [unwrap_label(t) for t in ticks] == names
    width = CATEGORY_AXIS_COLUMNS // len(names)
    assert all(len(line) <= width for t in ticks for line in t.split(LINE_BREAK))
    assert category_ticks(["有形性"]) == ["有形性"]


def test_a_coefficient_keeps_off_other_arrows_when_it_can():
    scale = (660.0, 417.0)
    # A vertical arrow with another arrow running close beside it on its left.
    arrows = [((0.5, 0.1), (0.5, 0.9)), ((0.45, 0.1), (0.45, 0.9))]
    sizes = [(50.0, 18.0)] * 2
    centres = coefficient_places(arrows, sizes, scale, [])
    boxes = _boxes(centres, sizes, scale)
    lines = [((x0 * scale[0], y0 * scale[1]), (x1 * scale[0], y1 * scale[1])) for (x0, y0), (x1, y1) in arrows]
    assert not boxes[0].crosses(*lines[1]) and not boxes[1].crosses(*lines[0])
    assert Box(0, 0, 2, 2).crosses((1, -1), (1, 3)) and not Box(0, 0, 2, 2).crosses((2, -1), (2, 3))
