"""analyse_survey: every section runs on a full synthetic survey, and its numbers are the
section functions' own (nothing recomputed on the way)."""
import json

import numpy as np
import pandas as pd
import pytest

from analysis import kano, servqual
from analysis.instruments import compose_codebook, load_instruments
from analysis.report import ReportOptions, analyse_survey, ep_pairs, pair_dimensions
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
    return analyse_survey(frame, codebook, ReportOptions(n_boot=300))


def test_every_section_computed(analysis):
    assert analysis.skipped == {}
    for section in ("servqual", "servqual_reliability", "kano", "kano_continuous",
                    "construct_scores", "construct_reliability", "paths", "mediation", "emotions"):
        assert getattr(analysis, section) is not None, section
    assert set(analysis.satisfaction) == {"servqual", "overall"}


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
    tiny = analyse_survey(frame.head(2), codebook, ReportOptions(n_boot=50))
    assert tiny.servqual is None and "servqual" in tiny.skipped
    assert "needed" in tiny.skipped["servqual"]


def test_no_exclusion_option(frame, codebook):
    kept = analyse_survey(frame, codebook, ReportOptions(exclude_flagged=False, n_boot=50))
    assert kept.n_used == len(frame) and kept.exclusion is None and kept.flags is not None
