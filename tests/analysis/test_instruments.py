"""Instrument files, their loader and the codebook (docs/data-model.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from analysis.instruments import (
    DEFAULT_DIR,
    Codebook,
    Instrument,
    InstrumentError,
    Variable,
    compose_codebook,
    load_instrument,
    load_instruments,
    main,
)

BAD_DIR = Path(__file__).resolve().parent.parent / "data" / "instruments_bad"
SHIPPED = sorted(DEFAULT_DIR.glob("*.yaml"))

# A small valid instrument; the mistake tests edit one line of it, so the
# line numbers in the comments are the ones the assertions expect.
MINI = """\
id: mini
version: 1
title: {zh: 小量表, en: Mini scale}
source:
  citation: Test citation.
  our_additions: Test wording.
kind: rating
placeholders: [firm]
scales:
  agree5:
    type: rating
    min: 1
    max: 5
    anchors:
      1: {zh: 不同意, en: Disagree}
      5: {zh: 同意, en: Agree}
dimensions:
  - code: quality
    label: {zh: 质量, en: Quality}
items:
  - code: MI01
    dimension: quality
    scale: agree5
    text: {zh: "{firm}很好。", en: "{firm} is good."}
  - code: MI02
    dimension: quality
    scale: agree5
    text: {zh: 服务很快。, en: The service is quick.}
"""


def write(tmp_path: Path, text: str, name: str = "mini.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(line_no: int, new: str, text: str = MINI) -> str:
    """MINI with 1-based line ``line_no`` replaced by ``new`` (may hold newlines)."""
    lines = text.splitlines()
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


def error_of(path: Path) -> InstrumentError:
    with pytest.raises(InstrumentError) as info:
        load_instrument(path)
    return info.value


@pytest.fixture(scope="module")
def library() -> dict[str, Instrument]:
    return load_instruments()


# --------------------------------------------------------------------------
# Shipped files
# --------------------------------------------------------------------------


def test_the_six_instruments_ship():
    assert {p.stem for p in SHIPPED} >= {"servqual", "kano", "relationship", "emotions",
                                         "overall", "profile"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_loads_and_validates(path):
    inst = load_instrument(path)
    assert inst.id == path.stem
    assert inst.items, "an instrument without items"
    for lang in ("zh", "en"):
        assert inst.title[lang] and inst.description[lang]
    assert inst.source["citation"] and inst.source["our_additions"]
    # The stored document must survive JSON, which the app stores it as.
    assert json.loads(json.dumps(inst.document, ensure_ascii=False)) == inst.document
    variables = inst.variables()
    for v in variables:
        assert "{" not in v.text["zh"] + v.text["en"], v.name
        assert v.text["zh"].strip() and v.text["en"].strip()


def test_load_instruments_returns_all_by_id(library):
    assert set(library) == {p.stem for p in SHIPPED}
    codes = [c for inst in library.values() for c in inst.item_codes]
    assert len(codes) == len(set(codes))


def test_servqual_has_22_items_split_4_5_4_4_5_and_5_weights(library):
    sq = library["servqual"]
    assert sq.kind == "expectation_perception"
    rated = [it for it in sq.items if it["scale"] == "agree7"]
    assert [it["code"] for it in rated] == [f"SQ{n:02d}" for n in range(1, 23)]
    split = {}
    for it in rated:
        split.setdefault(it["dimension"], []).append(it["code"])
    assert {d: len(c) for d, c in split.items()} == {
        "tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}
    assert split["tangibles"] == ["SQ01", "SQ02", "SQ03", "SQ04"]
    assert split["reliability"] == ["SQ05", "SQ06", "SQ07", "SQ08", "SQ09"]
    assert split["responsiveness"] == ["SQ10", "SQ11", "SQ12", "SQ13"]
    assert split["assurance"] == ["SQ14", "SQ15", "SQ16", "SQ17"]
    assert split["empathy"] == ["SQ18", "SQ19", "SQ20", "SQ21", "SQ22"]
    assert all(it["facets"] == ["E", "P"] and not it["reverse"] for it in rated)
    assert sq.scales["agree7"]["not_applicable"] is True

    weights = [it for it in sq.items if it["dimension"] == "importance"]
    assert [it["code"] for it in weights] == ["SQW_TAN", "SQW_REL", "SQW_RES", "SQW_ASS", "SQW_EMP"]
    assert [it["weight_of"] for it in weights] == [
        "tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert all(it["facets"] == [] for it in weights)
    assert sq.scales["points100"] == {**sq.scales["points100"], "type": "constant_sum", "total": 100}

    variables = sq.variables()
    assert len(variables) == 22 * 2 + 5
    w = next(v for v in variables if v.name == "SQW_TAN")
    assert w.facet is None and w.valid_values() == (0, 100) and not w.is_numeric_rating


def test_kano_file_shape(library):
    kano = library["kano"]
    assert [f["code"] for f in kano.facets] == ["F", "D", "IMP"]
    assert 8 <= len(kano.features) <= 10
    assert [o["value"] for o in kano.scales["kano5"]["options"]] == [1, 2, 3, 4, 5]
    v = {x.name: x for x in kano.variables()}
    assert v["K01_F"].valid_values() == {1, 2, 3, 4, 5}
    assert v["K01_IMP"].valid_values() == (1, 9) and v["K01_IMP"].required is False
    assert v["K01_F"].required and v["K01_D"].required


def test_relationship_constructs(library):
    rq = library["relationship"]
    dims = {d["code"]: d for d in rq.dimensions}
    for code in ("trust_benevolence", "trust_integrity", "trust_competence"):
        assert dims[code]["parent"] == "trust_firm"
    cb = compose_codebook([(rq, None)])
    per_dim = cb.dimensions("relationship")
    assert len(per_dim) == 13 and all(len(items) == 3 for items in per_dim.values())
    assert "trust_firm" not in per_dim
    assert any(v.reverse for v in cb)
    assert cb["RQ_TB1"].parent == "trust_firm"


def test_emotions_and_overall_and_profile(library):
    emo = compose_codebook([(library["emotions"], None)])
    assert {d: len(i) for d, i in emo.dimensions().items()} == {"positive": 5, "negative": 4}
    ov = compose_codebook([(library["overall"], None)])
    assert ov.names == ["OV01_E", "OV01_P", "OVS1"]
    assert ov["OVS1"].valid_values() == (1, 10)
    prof = compose_codebook([(library["profile"], None)])
    assert prof.names == ["PR_CHANNEL", "PR_BRANCH", "PR_TYPE", "PR_TENURE", "PR_FREQ"]
    for v in prof:
        assert v.segment and v.scale["type"] == "choice"
        assert all(isinstance(x, int) for x in v.valid_values())
    assert len(prof.select(segment=True)) == 5


# --------------------------------------------------------------------------
# KANO expansion, codebook composition, firm names
# --------------------------------------------------------------------------


def test_kano_expands_a_researchers_feature_list(library):
    kano = library["kano"]
    own = kano.with_features([
        {"code": "KX1", "feature": {"zh": "免费停车", "en": "free parking"}},
        {"code": "KX2", "feature": {"zh": "上门服务", "en": "home visits"}},
    ])
    assert own.item_codes == ["KX1", "KX2"]
    assert kano.item_codes[0] == "K01", "the original must not change"
    assert own.document["features"][0]["code"] == "KX1"
    cb = compose_codebook([(own, None)], firm={"zh": "甲银行", "en": "Bank A"})
    assert cb.names == ["KX1_F", "KX1_D", "KX1_IMP", "KX2_F", "KX2_D", "KX2_IMP"]
    assert cb["KX1_F"].text == {"zh": "如果甲银行提供免费停车，您觉得怎么样？",
                                "en": "If Bank A offered free parking, how would you feel?"}
    assert cb["KX1_D"].text["en"] == "If Bank A did not offer free parking, how would you feel?"
    assert cb["KX2_IMP"].text["en"] == "How important is home visits to you?"
    assert cb["KX1_F"].label == {"zh": "具备时", "en": "Functional"}
    assert [(a.name, b.name) for a, b in cb.pairs("kano", "F", "D")] == [
        ("KX1_F", "KX1_D"), ("KX2_F", "KX2_D")]


@pytest.mark.parametrize("features, line, reason", [
    ([{"code": "k1", "feature": {"zh": "甲", "en": "a"}}], 1, "feature code 'k1' is not allowed"),
    ([{"code": "KX1", "feature": {"zh": "甲", "en": "a"}},
      {"code": "KX1", "feature": {"zh": "乙", "en": "b"}}], 2, "duplicate feature code 'KX1'"),
    ([{"code": "KX1", "feature": {"zh": "甲"}}], 1, "feature KX1: missing en text"),
    ([{"code": "KX1", "feature": {"zh": "甲", "en": "a {shop}"}}], 1, "unknown placeholder {shop}"),
    ([], 0, "non-empty list"),
])
def test_bad_feature_lists_are_refused(library, features, line, reason):
    with pytest.raises(InstrumentError) as info:
        library["kano"].with_features(features)
    assert info.value.path == "<features>"
    assert info.value.line == line
    assert reason in info.value.reason


def test_with_features_only_for_kano(library):
    with pytest.raises(InstrumentError, match="only KANO"):
        library["servqual"].with_features([{"code": "KX1", "feature": {"zh": "甲", "en": "a"}}])


def test_compose_codebook_names_order_and_firm(library):
    cb = compose_codebook(
        [(library["profile"], ["PR_CHANNEL"]),
         (library["servqual"], ["SQ02", "SQ01", "SQW_TAN"]),
         (library["kano"], ["K03"])],
        firm={"zh": "工商银行", "en": "ICBC"})
    # parts in the given order; inside a part the instrument's own order
    assert cb.names == ["PR_CHANNEL", "SQ01_E", "SQ01_P", "SQ02_E", "SQ02_P", "SQW_TAN",
                        "K03_F", "K03_D", "K03_IMP"]
    assert cb["SQ01_P"].text == {"zh": "工商银行使用先进、现代的设备。",
                                 "en": "ICBC uses up-to-date equipment."}
    assert cb["SQ02_P"].text["en"] == "The premises of ICBC look attractive and pleasant."
    assert cb["SQ01_P"].instruction["zh"].startswith("以下各句描述的是工商银行")
    assert cb["PR_CHANNEL"].text["en"] == "How did you mainly contact ICBC this time?"
    assert cb["SQ01_E"].label == {"zh": "期望", "en": "Expectation"}
    assert cb["SQ01_E"].kind == "expectation_perception" and cb["SQ01_E"].instrument_version == 1
    assert cb["K03_F"].text["zh"] == "如果工商银行提供准确无误的账户对账单，您觉得怎么样？"


def test_default_firm_names_read_well(library):
    cb = compose_codebook([(library["servqual"], ["SQ01"])])
    assert cb["SQ01_P"].text == {"zh": "本公司使用先进、现代的设备。",
                                 "en": "The company uses up-to-date equipment."}
    assert cb["SQ01_P"].instruction["en"].endswith("describes the company.")


def test_a_firm_name_in_one_language_serves_both(library):
    cb = compose_codebook([(library["servqual"], ["SQ01"])], firm={"en": "eBank"})
    assert cb["SQ01_P"].text == {"zh": "eBank使用先进、现代的设备。", "en": "eBank uses up-to-date equipment."}


def test_compose_fails_on_duplicate_columns(library):
    with pytest.raises(InstrumentError) as info:
        compose_codebook([(library["servqual"], ["SQ01"]), (library["servqual"], ["SQ01"])])
    assert "SQ01_E" in info.value.reason and info.value.path.endswith("servqual.yaml")
    assert info.value.line == library["servqual"].item_lines["SQ01"]


def test_compose_refuses_unknown_item_codes(library):
    with pytest.raises(ValueError, match="SQ99"):
        compose_codebook([(library["servqual"], ["SQ01", "SQ99"])])


def test_codebook_json_round_trip(library):
    cb = compose_codebook([(inst, None) for inst in library.values()],
                          firm={"zh": "甲银行", "en": "Bank A"})
    text = json.dumps(cb.to_json(), ensure_ascii=False)
    back = Codebook.from_json(json.loads(text))
    assert back == cb and back.names == cb.names
    assert Codebook.from_json(text) == cb
    assert back["SQ01_E"].scale["anchors"][7] == {"zh": "非常同意", "en": "Strongly agree"}
    one = cb["RQ_SV3"]
    assert Variable.from_dict(one.to_dict()) == one and one.reverse
    assert hash(one) == hash(Variable.from_dict(one.to_dict()))


def test_codebook_select_pairs_dimensions(library):
    cb = compose_codebook([(library["servqual"], None), (library["overall"], None)])
    assert len(cb) == 49 + 3 and "SQ22_P" in cb
    assert len(cb.select(instrument="servqual", facet="E")) == 22
    assert [v.name for v in cb.select(facet=None)] == [
        "SQW_TAN", "SQW_REL", "SQW_RES", "SQW_ASS", "SQW_EMP", "OVS1"]
    assert len(cb.select(dimension="empathy")) == 10
    pairs = cb.pairs("servqual", "E", "P")
    assert len(pairs) == 22 and pairs[0][0].name == "SQ01_E" and pairs[0][1].name == "SQ01_P"
    assert [(a.name, b.name) for a, b in cb.pairs("overall", "E", "P")] == [("OV01_E", "OV01_P")]
    assert list(cb.dimensions("servqual"))[:5] == [
        "tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    with pytest.raises(KeyError):
        cb["NOPE"]


def test_codebook_refuses_duplicate_names(library):
    v = library["servqual"].variables(items=["SQ01"])[0]
    with pytest.raises(ValueError, match="duplicate column"):
        Codebook([v, v])


def test_variable_from_dict_refuses_unknown_fields(library):
    d = library["servqual"].variables(items=["SQ01"])[0].to_dict()
    d["colour"] = "red"
    with pytest.raises(ValueError, match="colour"):
        Variable.from_dict(d)


# --------------------------------------------------------------------------
# Mistakes: file, line, reason
# --------------------------------------------------------------------------


def test_mini_is_valid(tmp_path):
    inst = load_instrument(write(tmp_path, MINI))
    assert inst.item_codes == ["MI01", "MI02"]
    assert inst.item_lines == {"MI01": 21, "MI02": 25}


@pytest.mark.parametrize("name, line, reason", [
    ("syntax_error.yaml", 5, "YAML syntax error: while parsing a flow mapping started on line 4"),
    ("duplicate_key.yaml", 5, "duplicate key 'version' (first defined on line 3)"),
    ("typo_key.yaml", 12, "top level: unknown key 'dimensons' (did you mean 'dimensions'?)"),
])
def test_bad_example_files(name, line, reason):
    err = error_of(BAD_DIR / name)
    assert Path(err.path).name == name
    assert err.line == line
    assert reason in err.reason
    assert str(err) == f"{err.path}:{line}: {err.reason}"


def test_bad_yaml_syntax(tmp_path):
    err = error_of(write(tmp_path, edit(13, "    max: [5")))
    assert Path(err.path).name == "mini.yaml"
    assert err.line == 14
    assert err.reason.startswith("YAML syntax error:")
    assert "started on line 13" in err.reason


def test_bad_indentation_is_a_syntax_error(tmp_path):
    err = error_of(write(tmp_path, edit(22, "      dimension: quality")))
    assert err.line == 22 and "YAML syntax error" in err.reason


def test_duplicate_key_in_nested_mapping(tmp_path):
    err = error_of(write(tmp_path, edit(23, "    scale: agree5\n    dimension: quality")))
    assert (err.line, err.reason) == (24, "duplicate key 'dimension' (first defined on line 22)")


def test_unknown_top_level_key_typo(tmp_path):
    err = error_of(write(tmp_path, edit(3, "titel: {zh: 小量表, en: Mini scale}")))
    assert Path(err.path).name == "mini.yaml"
    assert err.line == 3
    assert err.reason == "top level: unknown key 'titel' (did you mean 'title'?)"


def test_unknown_key_in_an_item(tmp_path):
    err = error_of(write(tmp_path, edit(28, "    text: {zh: 服务很快。, en: The service is quick.}\n"
                                            "    reversed: true")))
    assert err.line == 29
    assert err.reason == "items[1] (MI02): unknown key 'reversed' (did you mean 'reverse'?)"


def test_missing_en_text(tmp_path):
    err = error_of(write(tmp_path, edit(28, "    text: {zh: 服务很快。}")))
    assert (err.line, err.reason) == (28, "item MI02: missing en text")


def test_missing_en_title(tmp_path):
    err = error_of(write(tmp_path, edit(3, "title: {zh: 小量表}")))
    assert (err.line, err.reason) == (3, "title: missing required key 'en'")


def test_unknown_dimension(tmp_path):
    err = error_of(write(tmp_path, edit(26, "    dimension: qualty")))
    assert err.line == 26
    assert err.reason == "item MI02: unknown dimension 'qualty' (did you mean 'quality'?)"


def test_unknown_scale(tmp_path):
    err = error_of(write(tmp_path, edit(27, "    scale: likert")))
    assert err.line == 27
    assert err.reason == "item MI02: unknown scale 'likert'; defined: agree5"


def test_duplicate_item_code_within_a_file(tmp_path):
    err = error_of(write(tmp_path, edit(25, "  - code: MI01")))
    assert (err.line, err.reason) == (25, "duplicate item code 'MI01' (first defined on line 21)")


def test_duplicate_item_code_across_files(tmp_path):
    write(tmp_path, MINI, "a_mini.yaml")
    second = edit(1, "id: other")
    write(tmp_path, edit(25, "  - code: OT02", second), "b_other.yaml")
    with pytest.raises(InstrumentError) as info:
        load_instruments(tmp_path)
    err = info.value
    assert Path(err.path).name == "b_other.yaml"
    assert err.line == 21
    assert "item code 'MI01' is already used by mini" in err.reason
    assert "a_mini.yaml:21" in err.reason


def test_duplicate_instrument_id_across_files(tmp_path):
    write(tmp_path, MINI, "a.yaml")
    write(tmp_path, edit(21, "  - code: XX01", edit(25, "  - code: XX02")), "b.yaml")
    with pytest.raises(InstrumentError) as info:
        load_instruments(tmp_path)
    assert Path(info.value.path).name == "b.yaml" and info.value.line == 1
    assert "instrument id 'mini' is already used" in info.value.reason


def test_anchor_outside_the_scale(tmp_path):
    err = error_of(write(tmp_path, edit(16, "      6: {zh: 同意, en: Agree}")))
    assert (err.line, err.reason) == (16, "scale agree5: anchor 6 is outside the scale 1..5")


def test_min_not_below_max(tmp_path):
    err = error_of(write(tmp_path, edit(13, "    max: 1")))
    assert (err.line, err.reason) == (13, "scale agree5: min (1) must be less than max (1)")


def test_bad_item_code_pattern(tmp_path):
    err = error_of(write(tmp_path, edit(25, "  - code: mi02")))
    assert err.line == 25
    assert err.reason.startswith("items[1] (mi02).code: 'mi02' is not allowed:")
    assert "capital letter" in err.reason


def test_unknown_placeholder(tmp_path):
    err = error_of(write(tmp_path, edit(28, "    text: {zh: 服务很快。, en: \"{shop} is quick.\"}")))
    assert err.line == 28
    assert err.reason == "items[1] (MI02).text.en: unknown placeholder {shop}; allowed: {firm}"


def test_firm_placeholder_must_be_declared(tmp_path):
    err = error_of(write(tmp_path, edit(8, "")))  # blanking keeps the numbering
    assert err.line == 24
    assert "{firm} is used but 'placeholders: [firm]' is not declared" in err.reason


def test_wrong_value_type(tmp_path):
    err = error_of(write(tmp_path, edit(2, "version: one")))
    assert (err.line, err.reason) == (2, "version: 'one' is not of type 'integer'")


def test_unknown_kind(tmp_path):
    err = error_of(write(tmp_path, edit(7, "kind: likert")))
    assert err.line == 7 and err.reason.startswith("kind: 'likert' is not one of")


def test_duplicate_choice_values(tmp_path):
    text = MINI.replace("scales:\n", "scales:\n  yesno:\n    type: choice\n    options:\n"
                                     "      - {value: 1, label: {zh: 是, en: 'Yes'}}\n"
                                     "      - {value: 1, label: {zh: 否, en: 'No'}}\n")
    err = error_of(write(tmp_path, text))
    assert (err.line, err.reason) == (
        14, "scale yesno: option value 1 is used twice (first on line 13)")


def test_weight_of_must_name_a_dimension(tmp_path):
    text = MINI + """\
  - code: MW01
    dimension: quality
    scale: pts
    facets: []
    weight_of: qualiti
    text: {zh: 甲, en: A}
  - code: MW02
    dimension: quality
    scale: pts
    text: {zh: 乙, en: B}
"""
    text = text.replace("dimensions:\n", "  pts: {type: constant_sum, total: 100}\ndimensions:\n")
    err = error_of(write(tmp_path, text))
    assert (err.line, err.reason) == (
        34, "item MW01: weight_of: unknown dimension 'qualiti' (did you mean 'quality'?)")


def test_constant_sum_needs_its_total(tmp_path):
    text = MINI.replace("dimensions:\n", "  pts: {type: constant_sum}\ndimensions:\n")
    err = error_of(write(tmp_path, text))
    assert (err.line, err.reason) == (17, "scales.pts: missing required key 'total'")


def test_facet_text_must_cover_every_facet(tmp_path):
    text = MINI.replace("dimensions:\n", "facets:\n  - {code: E, label: {zh: 期望, en: Expectation}}\n"
                                         "  - {code: P, label: {zh: 感知, en: Perception}}\n"
                                         "dimensions:\n")
    text = text.replace('    text: {zh: "{firm}很好。", en: "{firm} is good."}',
                        '    text:\n      E: {zh: 好, en: Good}')
    text = text.replace("    text: {zh: 服务很快。, en: The service is quick.}",
                        "    facets: []\n    text: {zh: 服务很快。, en: The service is quick.}")
    err = error_of(write(tmp_path, text))
    assert err.line == 27  # the 'text:' key of MI01
    assert err.reason == "item MI01: missing text for facet(s) P (the item is asked as E, P)"


def test_kano_template_needs_feature_placeholder(tmp_path):
    src = (DEFAULT_DIR / "kano.yaml").read_text(encoding="utf-8")
    bad = src.replace('en: "If {firm} offered {feature}, how would you feel?"',
                      'en: "If {firm} offered it, how would you feel?"')
    line = next(i for i, l in enumerate(bad.splitlines(), 1) if "offered it" in l)
    err = error_of(write(tmp_path, bad, "kano.yaml"))
    assert (err.line, err.reason) == (line, "template.functional.en must contain {feature}")


def test_empty_file(tmp_path):
    err = error_of(write(tmp_path, "# nothing here\n"))
    assert (err.line, err.reason) == (1, "the file is empty")


def test_every_problem_is_reported_by_the_cli(tmp_path, capsys):
    text = edit(26, "    dimension: qualty", edit(16, "      6: {zh: 同意, en: Agree}"))
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:16: scale agree5: anchor 6 is outside the scale 1..5"
    assert err[1] == f"{path}:26: item MI02: unknown dimension 'qualty' (did you mean 'quality'?)"
    assert err[2] == "2 problem(s) found"


def test_cli_accepts_the_shipped_files(capsys):
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: 6 instrument(s)")
    assert main(["validate", *map(str, SHIPPED)]) == 0


def test_cli_usage():
    assert main(["frobnicate"]) == 2
    assert main([]) == 2


def test_schema_file_is_valid_json_schema():
    from jsonschema import Draft202012Validator
    schema = json.loads((DEFAULT_DIR / "schema" / "instrument.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


def test_shipped_wording_is_bilingual_and_filled(library):
    cb = compose_codebook([(inst, None) for inst in library.values()])
    for v in cb:
        assert set(v.text) == {"zh", "en"}
        assert not any(ch in v.text["zh"] + v.text["en"] for ch in "{}"), v.name
    # the raw YAML is what a reader would see; keep it parseable by plain PyYAML
    for p in SHIPPED:
        assert yaml.safe_load(p.read_text(encoding="utf-8"))["id"] == p.stem


def test_control_character_is_reported_with_its_line(tmp_path):
    err = error_of(write(tmp_path, edit(5, "  citation: Test\x07 citation.")))
    assert err.line == 5 and "unreadable character" in err.reason


def test_dimension_cannot_be_its_own_parent(tmp_path):
    err = error_of(write(tmp_path, edit(19, "    label: {zh: 质量, en: Quality}\n    parent: quality")))
    assert (err.line, err.reason) == (20, "dimension quality: cannot be its own parent")


# Display logic (show_if): MINI's MI02 (line 28 is its last line) gets a condition on MI01.
def _with_condition(condition: str) -> str:
    return MINI + f"    show_if: {condition}\n"


def test_show_if_is_loaded_into_the_variable(tmp_path):
    inst = load_instrument(write(tmp_path, _with_condition("{variable: MI01, range: [4, 5]}")))
    variables = {v.name: v for v in inst.variables()}
    assert variables["MI02"].show_if == {"variable": "MI01", "range": [4, 5]}
    assert variables["MI01"].show_if is None
    # Round trip through the frozen codebook JSON; no key at all where there is no condition.
    book = Codebook(inst.variables())
    assert "show_if" not in book.to_json()[0]
    assert Codebook.from_json(book.to_json())["MI02"].show_if == {"variable": "MI01", "range": [4, 5]}


@pytest.mark.parametrize("condition, line, words", [
    ("{variable: MI09, equals: 1}", 29, "'MI09', which is not a column of an item before it"),
    ("{variable: MI01, range: [5, 2]}", 29, "range [5, 2] is empty"),
    ("{variable: MI01, equals: 1, in: [2]}", 29, "show_if"),
    ("{variable: MI01}", 29, "show_if"),
    ("{variable: MI01, when: 1}", 29, "when"),
])
def test_bad_show_if_reports_file_and_line(tmp_path, condition, line, words):
    err = error_of(write(tmp_path, _with_condition(condition)))
    assert err.line == line and words in err.reason, (err.line, err.reason)
    assert str(err).startswith(f"{tmp_path / 'mini.yaml'}:{line}:")


def test_show_if_on_a_later_item_is_refused(tmp_path):
    text = edit(24, MINI.splitlines()[23] + "\n    show_if: {variable: MI02, equals: 1}")
    err = error_of(write(tmp_path, text))
    assert err.line == 25 and "not a column of an item before it" in err.reason


def test_show_if_value_must_be_an_option_of_a_choice(library, tmp_path):
    profile = library["profile"]
    branch = next(v for v in profile.variables() if v.name == "PR_BRANCH")
    assert branch.show_if == {"variable": "PR_CHANNEL", "equals": 1}
    text = Path(profile.path).read_text(encoding="utf-8").replace(
        "show_if: {variable: PR_CHANNEL, equals: 1}", "show_if: {variable: PR_CHANNEL, in: [1, 9]}")
    err = error_of(write(tmp_path, text, "profile.yaml"))
    assert "9 are not options of PR_CHANNEL" in err.reason
    assert text.splitlines()[err.line - 1].strip().startswith("show_if:")


def test_composing_without_the_question_a_condition_needs_fails(library):
    with pytest.raises(InstrumentError) as info:
        compose_codebook([(library["profile"], ["PR_BRANCH", "PR_TYPE"])])
    assert "PR_CHANNEL is not asked before it" in info.value.reason
