"""analyse_survey: every section runs on a full synthetic survey, and its numbers are the
section functions' own (nothing recomputed on the way)."""
import json

import pandas as pd
import pytest

from analysis import servqual
from analysis.instruments import compose_codebook, load_instruments
from analysis import segments
from analysis.report import (ReportOptions, analyse_survey, compare_segments, ep_pairs,
                             pair_dimensions, survey_csi_bootstrap)
from analysis.synthetic import KANO_TRUE_CATEGORIES, synthetic_frame


@pytest.fixture(scope="module")
def codebook():
    library = load_instruments()
    return compose_codebook([(library[key], None) for key in
                             ("profile", "servqual", "kano", "relationship", "emotions", "overall")],
                            firm={"zh": "示例银行", "en": "Example Bank"})


@pytest.fixture(scope="module")
def frame(codebook):
    full = synthetic_frame(codebook, 600, seed=42)
    return full[full["status"] == "complete"].reset_index(drop=True)


@pytest.fixture(scope="module")
def analysis(frame, codebook):
    return analyse_survey(frame, codebook, ReportOptions(n_boot=300, csi_boot=0))


def test_every_section_computed(analysis):
    assert analysis.skipped == {}
    for section in ("servqual", "servqual_reliability", "kano", "kano_continuous",
                    "construct_scores", "construct_reliability", "paths", "mediation", "emotions",
                    "follow_up", "respondent_scores", "trends", "csi"):
        assert getattr(analysis, section) is not None, section
    assert set(analysis.satisfaction) == {"servqual", "overall"}


def test_csi_bootstrap_alone_is_the_report_s_csi_bootstrap(analysis, frame, codebook):
    # The analysis job shows the report with csi_boot=0 and a job of its own adds the
    # intervals: the same screened rows, blocks, scale and seed as the joint report.
    options = ReportOptions(n_boot=0, csi_boot=60, seed=5)
    joint = analyse_survey(frame, codebook, options).csi
    alone = survey_csi_bootstrap(frame, codebook, options)
    assert alone.n == joint.n == analysis.csi.n < len(frame)  # the speeders are screened out
    for name in ("paths", "outer", "r2", "index"):
        pd.testing.assert_frame_equal(getattr(alone, name), getattr(joint, name),
                                      check_exact=False, rtol=0, atol=1e-12)
        # and the estimates are those of the report without the bootstrap
        estimate = {"paths": "estimate", "outer": "loading", "r2": "r2", "index": "index"}[name]
        pd.testing.assert_series_equal(getattr(alone, name)[estimate], getattr(analysis.csi, name)[estimate],
                                       check_exact=False, rtol=0, atol=1e-12)
    assert analysis.csi.paths["se"].isna().all() and alone.paths["se"].notna().all()
    profile_only = compose_codebook([(load_instruments()["profile"], None)])
    assert survey_csi_bootstrap(frame, profile_only, options) is None  # no CSI construct


def test_screening_excludes_the_generated_speeders(analysis, frame):
    assert analysis.exclusion.n_excluded > 0
    assert analysis.n_used == len(frame) - analysis.exclusion.n_excluded
    excluded = frame[frame["response_id"].isin(analysis.exclusion.excluded_ids)]
    assert (excluded["duration_seconds"] < 120).mean() > 0.8


def test_servqual_section_equals_direct_call(analysis, frame, codebook):
    kept = frame[~frame["response_id"].isin(analysis.exclusion.excluded_ids)]
    pairs = ep_pairs(codebook, "servqual")
    direct = servqual.servqual(kept, pairs, pair_dimensions(codebook, pairs),
                               weights={v.weight_of: v.name for v in codebook if v.weight_of})
    pd.testing.assert_frame_equal(direct.dimensions, analysis.servqual.dimensions)
    # The model makes every dimension fall short, responsiveness most.
    gaps = analysis.servqual.dimensions.set_index("dimension")["mean_gap"] \
        if "dimension" in analysis.servqual.dimensions else analysis.servqual.dimensions["mean_gap"]
    assert (gaps < 0).all() and gaps.idxmin() == "responsiveness"


def test_kano_recovers_model_categories(analysis):
    assert list(analysis.kano["category"]) == list(KANO_TRUE_CATEGORIES)


def test_mediation_indirect_effect_positive(analysis):
    assert analysis.mediation.ci_low > 0


def test_tables_and_json(analysis):
    tables = analysis.tables()
    assert {"servqual_items", "kano", "regressions", "mediation", "methods",
            "ratio_servqual_survey"} <= set(tables)
    assert all(isinstance(t, pd.DataFrame) and len(t) for t in tables.values())
    payload = json.loads(json.dumps(analysis.to_dict(), allow_nan=False))
    assert payload["n_used"] == analysis.n_used
    assert len(payload["tables"]["kano"]) == len(KANO_TRUE_CATEGORIES)


def test_text_report_has_methods(analysis):
    text = analysis.text()
    assert "METHODS" in text and "SERVQUAL" in text and "Wilcoxon" in text


def test_too_few_responses_are_reported_not_nan(frame, codebook):
    tiny = analyse_survey(frame.head(2), codebook, ReportOptions(n_boot=200, csi_boot=0))
    assert tiny.servqual is None and "servqual" in tiny.skipped
    assert "needed" in tiny.skipped["servqual"]
    assert "ipa_stated" in tiny.skipped and tiny.ipa == {}
    tiny.tables(), tiny.to_dict(), tiny.text()  # every output works with sections missing


def test_no_responses_at_all(frame, codebook):
    empty = analyse_survey(frame.head(0), codebook, ReportOptions(n_boot=200, csi_boot=0))
    assert empty.n_used == 0 and empty.servqual is None
    assert "servqual_items" not in empty.tables()
    empty.to_dict(), empty.text()


def test_no_exclusion_option(frame, codebook):
    kept = analyse_survey(frame, codebook, ReportOptions(exclude_flagged=False, n_boot=200, csi_boot=0))
    assert kept.n_used == len(frame) and kept.exclusion is None and kept.flags is not None


def test_respondent_scores_match_section_tables(analysis):
    scores = analysis.respondent_scores.set_index("response_id")
    ratio = analysis.satisfaction["servqual"].respondents.set_index("response_id")["ratio"]
    gap = analysis.servqual.respondents.set_index("response_id")["unweighted"]
    pd.testing.assert_series_equal(scores["ratio"], ratio, check_names=False)
    pd.testing.assert_series_equal(scores["gap"], gap.reindex(scores.index), check_names=False)


def test_trends_are_period_summaries(analysis):
    trends = analysis.trends
    direct = segments.period_summary(analysis.respondent_scores, "ratio", "W")
    mine = trends[trends["score"] == "ratio"].drop(columns="score").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, direct.reset_index(drop=True), check_like=True)
    assert {"ratio", "gap", "negative_emotion"} <= set(trends["score"])


def test_segment_comparison_on_branch(analysis):
    result = compare_segments(analysis.respondent_scores, "PR_BRANCH", "gap")
    tests = result.tests.set_index("test")
    # The model gives branch 1 better and branch 4 worse service.
    assert tests.loc["ANOVA", "p"] < 0.05
    with pytest.raises(ValueError, match="not a segment"):
        compare_segments(analysis.respondent_scores, "NOPE")


def test_ipa_stated_and_derived(analysis):
    stated = analysis.ipa["stated"].table.set_index("item")
    # Reliability gets the largest share of the 100 points in the model.
    assert stated["importance"].idxmax() == "reliability"
    assert set(analysis.ipa) == {"stated", "derived"}


def test_csi_index_in_range_and_satisfaction_to_loyalty(analysis):
    index = analysis.csi.index["index"]
    assert ((index > 0) & (index < 100)).all()
    paths = analysis.csi.paths.set_index("path")
    assert paths.loc["satisfaction -> loyalty", "estimate"] > 0.3


def test_segment_comparisons_computed_once_in_the_analysis(analysis, codebook):
    from analysis.report import COMPARED_SCORES

    segments_of_codebook = {v.name for v in codebook.select(segment=True)}
    assert set(analysis.segment_comparisons) | {k.split(":")[1] for k in analysis.skipped
                                                if k.startswith("segments:")} == segments_of_codebook
    stored = analysis.segment_comparisons["PR_BRANCH"]["gap"]
    direct = compare_segments(analysis.respondent_scores, "PR_BRANCH", "gap")
    pd.testing.assert_frame_equal(stored.tests, direct.tests)
    pd.testing.assert_frame_equal(stored.posthoc, direct.posthoc)
    assert set(stored.posthoc["method"]) == {"Tukey HSD", "Games-Howell", "Dunn"}
    assert set(analysis.segment_comparisons["PR_BRANCH"]) == set(COMPARED_SCORES)


def test_kano_continuous_keeps_the_stated_importance_after_screening(analysis, frame):
    """The screened KANO sample is cut to the KANO columns; the ``_IMP`` answers are among them
    (a narrower cut left every feature's importance_mean NaN and broke the KANO map's sizes)."""
    importance = [c for c in frame.columns if c.endswith("_IMP")]
    assert importance, "the synthetic survey asks the KANO importance"
    assert analysis.exclusion.n_excluded > 0  # the screened path is the one under test
    assert analysis.kano_continuous["importance_mean"].notna().all()


def test_a_single_servqual_pair_reports_straightlining_as_not_computed(frame):
    """Straight-lining needs a block of items; with one SERVQUAL pair the rule is listed
    under "not computed" with its reason and the other rules and sections still run."""
    library = load_instruments()
    single = compose_codebook([(library["servqual"], ["SQ01"]), (library["overall"], None)])
    columns = ["response_id", "submitted_at", "duration_seconds", *single.names]
    result = analyse_survey(frame[[c for c in columns if c in frame]], single,
                            ReportOptions(n_boot=0, csi_boot=0))
    assert "straight-lining needs a block of at least 2 items" in result.skipped["screening:straightlining"]
    assert "straightlining" not in result.flags.columns
    assert {"too_fast", "identical_e_p"} <= set(result.flags.columns)
    assert result.servqual is not None and result.servqual.items["item"].tolist() == ["SQ01"]
    assert result.n_used < len(frame)  # the speeders are still screened out
