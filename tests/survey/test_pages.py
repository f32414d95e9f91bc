"""Splitting a codebook into pages, and form building from every shipped instrument."""
import pytest
from analysis.instruments import NOT_APPLICABLE_CODE
from werkzeug.datastructures import MultiDict

from surveyapp.services.pages import (ANSWERS_PER_PAGE, KANO_FEATURES_PER_PAGE, PAIRED_ANSWERS_PER_PAGE,
                                      balanced_partition, instrument_labels)
from surveyapp.services.pages import split_codebook as split_unlabelled
from surveyapp.services.surveys import compose, default_design, instrument_library
from surveyapp.questionnaire.forms import NOT_APPLICABLE, answers_from_form, build_form


def split_codebook(codebook, layout):
    return split_unlabelled(codebook, layout, instrument_labels(codebook))


def _design(*keys, layout="blocks"):
    design = default_design({"zh": "示例银行", "en": "Example Bank"})
    design["servqual_layout"] = layout
    design["instruments"] = [{"id": key} for key in keys]
    return design


@pytest.mark.parametrize("layout", ["blocks", "side_by_side"])
def test_every_variable_is_asked_exactly_once(app, layout):
    codebook = compose(_design(*instrument_library(), layout=layout))
    pages = split_codebook(codebook, layout)
    asked = [v.name for page in pages for v in page.variables]
    assert sorted(asked) == sorted(codebook.names)
    assert pages[-1].is_final and not pages[-1].variables
    assert len({page.key for page in pages}) == len(pages)


def test_servqual_blocks_ask_all_expectations_then_perceptions(app):
    pages = split_codebook(compose(_design("servqual")), "blocks")
    facets = [page.topic for page in pages]
    assert facets == ["expectation"] * 3 + ["perception"] * 3 + ["allocation", "final"]
    for page in pages[:6]:
        assert len(page.variables) <= ANSWERS_PER_PAGE
        # Dimensions are never split across pages (each has at most five items).
        headings = [section.heading["en"] for section in page.sections]
        assert len(headings) == len(set(headings))
    assert pages[6].layout == "allocation" and len(pages[6].variables) == 5


def test_servqual_side_by_side_keeps_e_and_p_of_an_item_together(app):
    pages = split_codebook(compose(_design("servqual")), "side_by_side")
    for page in pages[:-2]:
        assert page.topic == "pairs" and len(page.variables) <= PAIRED_ANSWERS_PER_PAGE
        for section in page.sections:
            for group in section.groups:
                assert [v.facet for v in group.variables] == ["E", "P"]
                assert {v.item for v in group.variables} == {group.item}
    assert len(pages) == 5 + 2  # one page per dimension, allocation, final


def test_kano_features_are_paged_by_three_each_feature_together(app):
    pages = split_codebook(compose(_design("kano")), "blocks")
    assert [page.layout for page in pages] == ["kano"] * 4 + ["final"]
    per_page = [[group.item for section in page.sections for group in section.groups]
                for page in pages[:-1]]
    # 10 features: no page above KANO_FEATURES_PER_PAGE, loads as even as possible, order kept.
    assert [len(items) for items in per_page] == [3, 3, 2, 2]
    assert max(len(items) for items in per_page) <= KANO_FEATURES_PER_PAGE
    assert [item for items in per_page for item in items] == [f"K{n:02d}" for n in range(1, 11)]
    groups = [group for page in pages[:-1] for section in page.sections for group in section.groups]
    assert all([v.facet for v in group.variables][:2] == ["F", "D"] for group in groups)
    assert len({page.key for page in pages}) == len(pages)


def test_rating_instruments_pack_dimensions_evenly(app):
    pages = split_codebook(compose(_design("relationship")), "blocks")[:-1]
    sizes = [len(page.variables) for page in pages]
    assert max(sizes) <= ANSWERS_PER_PAGE and max(sizes) - min(sizes) <= 3
    assert sum(sizes) == len(compose(_design("relationship")))


@pytest.mark.parametrize("sizes, capacity, expected", [
    ([4, 5, 4, 4, 5], 9, [2, 2, 1]),
    ([3] * 13, 9, [3, 3, 3, 2, 2]),
    ([12, 1], 9, [1, 1]),
    ([], 9, []),
    ([2, 2, 2], 9, [3]),
])
def test_balanced_partition(sizes, capacity, expected):
    assert balanced_partition(sizes, capacity) == expected


@pytest.mark.parametrize("key", sorted(["servqual", "kano", "relationship", "emotions",
                                        "overall", "profile"]))
def test_forms_build_from_every_shipped_instrument(app, key):
    assert key in instrument_library()
    codebook = compose(_design(key))
    for page in split_codebook(codebook, "blocks")[:-1]:
        form = build_form(page.variables, "zh")
        for variable in page.variables:
            field = form[variable.name]
            assert field.label.text == variable.text["zh"]
            scale = variable.scale
            if scale["type"] == "rating":
                values = [choice.value for choice in field.choices]
                expected = [str(p) for p in range(scale["min"], scale["max"] + 1)]
                if scale.get("not_applicable"):
                    expected.append(NOT_APPLICABLE)
                assert values == expected
            elif scale["type"] == "choice":
                assert [c.value for c in field.choices] == [str(o["value"]) for o in scale["options"]]
            else:
                assert field.type == "IntegerField"


def test_form_round_trip_and_not_applicable_as_its_code(app):
    codebook = compose(_design("servqual"))
    page = split_codebook(codebook, "blocks")[0]
    names = [v.name for v in page.variables]
    posted = MultiDict({name: "5" for name in names})
    posted[names[0]] = NOT_APPLICABLE
    with app.test_request_context(method="POST", data=posted):
        form = build_form(page.variables, "en", formdata=posted)
        assert form.validate(), form.errors
        answers, not_applicable = answers_from_form(form, page.variables)
    assert answers[names[0]] == NOT_APPLICABLE_CODE and not_applicable == {names[0]}
    assert all(answers[name] == 5.0 for name in names[1:])


def test_allocation_total_checked_server_side(app):
    codebook = compose(_design("servqual"))
    page = next(p for p in split_codebook(codebook, "blocks") if p.layout == "allocation")
    names = [v.name for v in page.variables]
    for numbers, valid in (([20] * 5, True), ([20, 20, 20, 20, 21], False), ([0, 0, 0, 0, 100], True),
                           ([101, 0, 0, 0, 0], False)):
        posted = MultiDict(dict(zip(names, map(str, numbers))))
        with app.test_request_context(method="POST", data=posted):
            form = build_form(page.variables, "en", formdata=posted)
            assert form.validate() is valid, (numbers, form.errors)
