"""Builder rules: design validation, KANO features with generated/overridden wording, saving."""
import pytest

from surveyapp.models import SurveyStatus
from surveyapp.services.builder import (DesignError, FeatureInput, SurveySettings, check_design,
                                        create_from_builder, features_from_rows,
                                        generated_wording, instrument_catalogue, kano_features,
                                        save_survey)
from surveyapp.services.responses import submit_response
from surveyapp.services.surveys import default_design, open_survey

FIRM = {"zh": "快乐银行", "en": "Happy Bank"}


def design_with(*entries):
    design = default_design(FIRM)
    design["instruments"] = list(entries)
    return design


def rows(*features):
    return [FeatureInput(code, {"zh": zh, "en": en}, wording) for code, zh, en, wording in features]


def test_catalogue_lists_chosen_instruments_first_with_firm_in_wording(app):
    catalogue = instrument_catalogue(design_with({"id": "servqual"}))
    assert catalogue[0].key == "servqual"
    assert {c.key for c in catalogue} >= {"kano", "profile", "relationship"}
    sq05 = next(item for item in catalogue[0].items if item.code == "SQ05")
    assert sq05.dimension == "reliability"
    kano = next(c for c in catalogue if c.key == "kano")
    assert kano.items == [] and kano.facets == ["F", "D", "IMP"]


def test_generated_wording_fills_feature_and_firm(app):
    wording = generated_wording([{"code": "K01", "feature": {"zh": "免费停车", "en": "free parking"}}],
                                FIRM)
    assert wording["K01"]["F"] == {"zh": "如果快乐银行提供免费停车，您觉得怎么样？",
                                   "en": "If Happy Bank offered free parking, how would you feel?"}
    assert wording["K01"]["D"]["en"] == "If Happy Bank did not offer free parking, how would you feel?"


def test_features_keep_only_real_overrides(app):
    generated_en = "If Happy Bank offered free parking, how would you feel?"
    features = features_from_rows(rows(
        ("k01", "免费停车", "free parking", {"F": {"zh": "", "en": generated_en},
                                          "D": {"zh": "", "en": "Without free parking?"}}),
        ("", "", "", {}),
        ("K02", "热茶", "hot tea", {}),
    ), FIRM)
    assert features == [
        {"code": "K01", "feature": {"zh": "免费停车", "en": "free parking"},
         "wording": {"D": {"en": "Without free parking?"}}},
        {"code": "K02", "feature": {"zh": "热茶", "en": "hot tea"}},
    ]
    codebook = check_design(design_with({"id": "kano", "features": features}))
    assert codebook["K01_D"].text == {"zh": "如果快乐银行不提供免费停车，您觉得怎么样？",
                                      "en": "Without free parking?"}
    assert codebook["K01_F"].text["en"] == generated_en
    assert codebook.names[:3] == ["K01_F", "K01_D", "K01_IMP"]


def test_features_report_the_bad_row(app):
    with pytest.raises(DesignError) as caught:
        features_from_rows(rows(("K01", "停车", "parking", {}), ("K01", "茶", "tea", {})), FIRM)
    assert list(caught.value.errors) == ["feature-2"]
    with pytest.raises(DesignError) as caught:
        features_from_rows(rows(("", "", "", {})), FIRM)
    assert list(caught.value.errors) == ["features"]


def test_kano_features_start_empty_and_older_designs_keep_the_example(app):
    # New surveys: no KANO yet, or KANO with an empty list - the researcher's own list comes next.
    assert kano_features(design_with()) == []
    assert kano_features(design_with({"id": "kano", "features": []})) == []
    # A design naming KANO without a list (the demo, older surveys) asks the example list.
    assert [f["code"] for f in kano_features(design_with({"id": "kano"}))][:2] == ["K01", "K02"]
    own = [{"code": "K77", "feature": {"zh": "茶", "en": "tea"}}]
    assert kano_features(design_with({"id": "kano", "features": own})) == own


@pytest.mark.parametrize("change, key", [
    (lambda d: d.update(firm={"zh": "", "en": " "}), "firm"),
    (lambda d: d.update(firm={"zh": "{x}"}), "firm"),
    (lambda d: d.update(languages=[]), "languages"),
    (lambda d: d.update(languages=["fr"]), "languages"),
    (lambda d: d.update(servqual_layout="grid"), "servqual_layout"),
    (lambda d: d.update(instruments=[]), "instruments"),
    (lambda d: d.update(instruments=[{"id": "nope"}]), "instruments"),
    (lambda d: d.update(instruments=[{"id": "servqual"}, {"id": "servqual"}]), "instruments"),
    (lambda d: d.update(instruments=[{"id": "servqual", "items": []}]), "items-servqual"),
    (lambda d: d.update(instruments=[{"id": "servqual", "items": ["SQ01", "XX"]}]), "items-servqual"),
    (lambda d: d.update(instruments=[{"id": "kano", "features": [
        {"code": "K1", "feature": {"zh": "a", "en": "b"}, "wording": {"Q": {"en": "x"}}}]}]),
     "features"),
])
def test_check_design_names_the_bad_part(app, change, key):
    design = design_with({"id": "servqual"})
    change(design)
    with pytest.raises(DesignError) as caught:
        check_design(design)
    assert key in caught.value.errors


def test_check_design_accepts_item_choice(app):
    codebook = check_design(design_with({"id": "profile", "items": ["PR_TYPE"]},
                                        {"id": "servqual", "items": ["SQ01", "SQ05"]}))
    assert codebook.names == ["PR_TYPE", "SQ01_E", "SQ01_P", "SQ05_E", "SQ05_P"]
    # "Which branch" hangs on "which channel": without it the design is refused.
    with pytest.raises(DesignError) as error:
        check_design(design_with({"id": "profile", "items": ["PR_BRANCH"]}))
    assert "PR_CHANNEL is not asked before it" in error.value.errors["instruments"]


def test_settings_are_checked(app, make_user):
    from datetime import datetime
    owner = make_user("rita")
    with pytest.raises(DesignError) as caught:
        create_from_builder(owner, "s1", SurveySettings(
            "", "T", opens_at=datetime(2026, 5, 2), closes_at=datetime(2026, 5, 1),
            target_responses=0), design_with({"id": "servqual"}))
    assert set(caught.value.errors) == {"title_zh", "closes_at", "target_responses"}
    with pytest.raises(DesignError) as caught:
        create_from_builder(owner, "Bad Slug", SurveySettings("标题", "Title"),
                            design_with({"id": "servqual"}))
    assert set(caught.value.errors) == {"slug"}


def test_editing_an_open_survey_freezes_a_new_version(app, make_user):
    owner = make_user("rita")
    settings = SurveySettings("标题", "Title", target_responses=50)
    survey = create_from_builder(owner, "study", settings, design_with({"id": "servqual",
                                                                        "items": ["SQ01"]}))
    assert save_survey(survey, settings, survey.design) is None  # a draft freezes when it opens
    first = open_survey(survey)
    answered = submit_response(first, {"SQ01_E": 6, "SQ01_P": 5})
    assert save_survey(survey, settings, dict(survey.design)) == first  # nothing changed

    second = save_survey(survey, settings, design_with({"id": "servqual", "items": ["SQ01", "SQ02"]}))
    assert second.number == 2 and survey.current_version == second
    assert survey.status == SurveyStatus.OPEN.value
    assert answered.version_id == first.id
    assert [v.name for v in check_design(second.design)] == ["SQ01_E", "SQ01_P", "SQ02_E", "SQ02_P"]
    assert survey.target_responses == 50


@pytest.mark.parametrize("zh, en, flagged", [
    ("提供免费停车", "free parking", "zh"),
    ("可以在网上预约", "online booking", "zh"),
    ("到网点前可在网上预约办理", "online booking", "zh"),
    ("免费停车", "offer free parking", "en"),
    ("免费停车", "You can park for free.", "en"),
    ("为老年人设立的优先窗口", "a priority counter for older customers", None),
])
def test_feature_phrases_must_be_noun_phrases(app, zh, en, flagged):
    features = rows(("K01", zh, en, {}))
    if flagged is None:
        assert features_from_rows(features, FIRM)[0]["feature"] == {"zh": zh, "en": en}
        return
    with pytest.raises(DesignError) as error:
        features_from_rows(features, FIRM)
    message = error.value.errors["feature-1"]
    # Outside a request the message is in the default language (zh): it names the phrase.
    assert repr(zh if flagged == "zh" else en) in message


def test_own_wording_of_both_sentences_accepts_any_phrase(app):
    own = {"F": {"zh": "如果可以免费停车，您觉得怎么样？"}, "D": {"zh": "如果不能免费停车呢？"}}
    features = features_from_rows(rows(("K01", "可以免费停车", "free parking", own)), FIRM)
    assert features[0]["wording"]["F"]["zh"].startswith("如果可以")


def test_shipped_example_features_pass_the_phrase_check(app):
    from surveyapp.services.builder import feature_phrase_problem
    from surveyapp.services.surveys import instrument_library
    kano = instrument_library()["kano"]
    assert [(f["code"], lang) for f in kano.features for lang in ("zh", "en")
            if feature_phrase_problem(f["feature"][lang], lang)] == []


def test_welcome_texts_are_checked(app):
    design = design_with({"id": "profile"})
    design["welcome"] = {"purpose": {"zh": "x" * 2001}}
    with pytest.raises(DesignError) as error:
        check_design(design)
    assert "welcome" in error.value.errors
    design["welcome"] = {"purpose": {"zh": "了解排队时间"}, "privacy": {"en": "Kept one year."}}
    check_design(design)


def test_empty_kano_list_is_allowed_in_a_new_draft_only(app, make_user):
    design = design_with({"id": "servqual", "items": ["SQ01"]}, {"id": "kano", "features": []})
    with pytest.raises(DesignError) as error:
        check_design(design)
    assert "features" in error.value.errors
    assert [v.item for v in check_design(design, draft=True)] == ["SQ01", "SQ01"]
    survey = create_from_builder(make_user("ana"), "fresh", SurveySettings("调查", "Study"), design)
    from surveyapp.services.builder import use_example_features
    use_example_features(survey)
    features = survey.design["instruments"][1]["features"]
    assert [f["code"] for f in features] == [f"K{n:02d}" for n in range(1, 11)]
    assert "K01_F" in check_design(survey.design).names
