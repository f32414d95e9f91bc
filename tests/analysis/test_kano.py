from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.common import InsufficientData
from tests.analysis.kiosk import read_kiosk_kano
from analysis.kano import (
    CATEGORIES,
    EVALUATION_TABLE,
    kano_category,
    kano_classify_counts,
    kano_continuous,
    kano_counts,
    kano_features,
    kano_questionable_counts,
    kano_summary,
)

DATA = Path(__file__).resolve().parents[1] / "data"
LIKE, MUST, NEUTRAL, LIVE, DISLIKE = 1, 2, 3, 4, 5


def _expected_cell(f, d):
    """Kano's category definitions in words (Berger et al. 1993), written as
    rules rather than as the table the module stores."""
    if (f, d) in ((LIKE, LIKE), (DISLIKE, DISLIKE)):
        return "Q"  # contradicts itself
    if f == LIKE and d == DISLIKE:
        return "O"  # satisfies when present, dissatisfies when absent
    if f == LIKE:
        return "A"  # delights when present, tolerated when absent
    if d == DISLIKE:
        return "M"  # taken for granted when present, missed when absent
    if f == DISLIKE or d == LIKE:
        return "R"  # the respondent wants the opposite
    return "I"


@pytest.mark.parametrize("f", range(1, 6))
@pytest.mark.parametrize("d", range(1, 6))
def test_every_cell_of_the_evaluation_table(f, d):
    assert kano_category(f, d) == _expected_cell(f, d)
    assert EVALUATION_TABLE.iloc[f - 1, d - 1] == _expected_cell(f, d)


def test_kano_category_is_vectorised_and_keeps_the_index():
    f = pd.Series([1, 2, np.nan, 5], index=[10, 11, 12, 13])
    d = pd.Series([4, 5, 3, 1], index=[10, 11, 12, 13])
    out = kano_category(f, d)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.tolist() == ["A", "M", None, "R"]


@pytest.mark.parametrize("bad", [0, 6, 2.5])
def test_kano_category_rejects_codes_outside_the_scale(bad):
    with pytest.raises(ValueError, match="codes 1-5"):
        kano_category([1, bad], [5, 5])


def test_kano_category_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="different lengths"):
        kano_category([1, 2], [5])


def _worked_example():
    return pd.read_csv(DATA / "kano_worked_example.csv").set_index("feature")


def test_worked_example_better_worse_strength_and_fong():
    ref = _worked_example()
    out = kano_classify_counts(ref[list(CATEGORIES)])
    assert (out["n"] == ref["n"]).all()
    # The source prints three decimals and whole percentages.
    np.testing.assert_allclose(out["better"], ref["better"], atol=5e-4)
    np.testing.assert_allclose(out["worse"], ref["worse"], atol=5e-4)
    np.testing.assert_allclose(100 * out["total_strength"], ref["total_strength_pct"], atol=0.5)
    np.testing.assert_allclose(100 * out["category_strength"], ref["category_strength_pct"], atol=0.5)
    np.testing.assert_allclose(out["fong_difference"], ref["fong_difference"])
    np.testing.assert_allclose(out["fong_threshold"], ref["fong_threshold"], atol=0.05)
    assert out["fong_significant"].tolist() == ref["fong_significant"].tolist()
    assert out["category"].tolist() == ref["max_category"].tolist()


def test_worked_example_priority_rule_within_five_points():
    ref = _worked_example()
    out = kano_classify_counts(ref[list(CATEGORIES)], tie_margin=0.05)
    assert out["category"].tolist() == ref["category_mom"].tolist()


PAIR_FOR = {"A": (LIKE, LIVE), "O": (LIKE, DISLIKE), "M": (MUST, DISLIKE),
            "I": (NEUTRAL, NEUTRAL), "R": (DISLIKE, LIKE), "Q": (LIKE, LIKE)}


def _answers_from_counts(ref):
    """Raw answer pairs that produce the given category counts per feature."""
    cols = {}
    n = int(ref["n"].max())
    for i, (_, row) in enumerate(ref.iterrows()):
        pairs = [PAIR_FOR[c] for c in CATEGORIES for _ in range(int(row[c]))]
        pairs += [(np.nan, np.nan)] * (n - len(pairs))
        cols[f"K{i + 1:02d}_F"] = [p[0] for p in pairs]
        cols[f"K{i + 1:02d}_D"] = [p[1] for p in pairs]
    return pd.DataFrame(cols)


def test_summary_from_raw_answers_matches_the_worked_example():
    ref = _worked_example()
    frame = _answers_from_counts(ref)
    out = kano_summary(frame)
    assert list(out.index) == ["K01", "K02", "K03", "K04", "K05"]
    assert out[list(CATEGORIES)].to_numpy().tolist() == ref[list(CATEGORIES)].to_numpy().tolist()
    np.testing.assert_allclose(out["better"], ref["better"], atol=5e-4)
    assert out["category"].tolist() == ref["max_category"].tolist()
    assert "Fong" in out.attrs["methods"].test


def test_exact_tie_goes_to_must_be_before_attractive():
    counts = pd.DataFrame({"A": [10], "O": [2], "M": [10], "I": [3], "R": [0], "Q": [0]})
    out = kano_classify_counts(counts).iloc[0]
    assert out["category"] == "M"
    assert out["first"] == "M" and out["second"] == "A"
    assert out["category_strength"] == 0
    assert not out["fong_significant"]


def test_feature_without_any_classifiable_answer():
    counts = pd.DataFrame({"A": [0], "O": [0], "M": [0], "I": [0], "R": [0], "Q": [4]})
    out = kano_classify_counts(counts).iloc[0]
    assert out["category"] is None
    assert out["share_Q"] == 1.0
    assert np.isnan(out["better"])


def test_classify_counts_validates_input():
    with pytest.raises(ValueError, match="lacks column"):
        kano_classify_counts(pd.DataFrame({"A": [1]}))
    with pytest.raises(ValueError, match="non-negative"):
        kano_classify_counts(pd.DataFrame({c: [-1] for c in CATEGORIES}))
    with pytest.raises(ValueError, match="tie_margin"):
        kano_classify_counts(pd.DataFrame({c: [1] for c in CATEGORIES}), tie_margin=1.5)


def test_continuous_scores_by_hand():
    frame = pd.DataFrame({"K01_F": [1, 2, 3, 4, 5], "K01_D": [5, 4, 3, 2, 1],
                          "K01_IMP": [9, 8, np.nan, 6, 5]})
    out = kano_continuous(frame).loc["K01"]
    # functional scores 4, 2, 0, -1, -2 and dysfunctional 4, 2, 0, -1, -2
    assert out["functional_mean"] == pytest.approx(0.6)
    assert out["functional_sd"] == pytest.approx(np.sqrt(5.8))
    assert out["dysfunctional_mean"] == pytest.approx(0.6)
    assert out["dysfunctional_sd"] == pytest.approx(np.sqrt(5.8))
    assert out["n_importance"] == 4
    assert out["importance_mean"] == pytest.approx(7.0)
    assert out["importance_sd"] == pytest.approx(np.std([9, 8, 6, 5], ddof=1))


def test_continuous_asymmetric_scale():
    frame = pd.DataFrame({"K01_F": [LIKE, MUST], "K01_D": [DISLIKE, LIVE]})
    out = kano_continuous(frame).loc["K01"]
    assert out["functional_mean"] == pytest.approx((4 + 2) / 2)
    assert out["dysfunctional_mean"] == pytest.approx((4 + 2) / 2)
    assert np.isnan(out["importance_mean"])


def test_questionable_counts_per_respondent():
    frame = pd.DataFrame({"K01_F": [1, 1, 5, np.nan], "K01_D": [1, 5, 5, 1],
                          "K02_F": [5, 3, 1, 1], "K02_D": [5, 3, 1, 1]}, index=list("wxyz"))
    out = kano_questionable_counts(frame)
    assert out.to_dict() == {"w": 2, "x": 0, "y": 2, "z": 1}
    assert kano_questionable_counts(frame, ["K02"]).tolist() == [1, 0, 1, 1]


def test_features_and_errors():
    frame = pd.DataFrame({"K01_F": [1], "K01_D": [5], "K02_F": [1], "X_IMP": [3]})
    assert kano_features(frame) == ["K01"]
    with pytest.raises(ValueError, match="no KANO features"):
        kano_counts(pd.DataFrame({"A": [1]}))
    with pytest.raises(ValueError, match="K02_D"):
        kano_counts(frame, ["K02"])
    with pytest.raises(InsufficientData):
        kano_summary(frame, min_n=5)


# --- real data: Korean kiosk study (hanakim120/kiosk-servqual-research, MIT) ---
@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_kano(DATA / "kiosk_servqual_kano_ko.utf8.csv")


def test_kiosk_has_29_pairs_and_shares_sum_to_one(kiosk):
    assert kiosk.shape == (211, 58)
    out = kano_summary(kiosk)
    assert len(out) == 29
    shares = out[[f"share_{c}" for c in CATEGORIES]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert (out["n"] == 207).all()  # four respondents skipped the KANO block
    assert set(out["category"]) <= set("AOMIR")
    assert ((out["better"] >= 0) & (out["better"] <= 1)).all()
    assert ((out["worse"] <= 0) & (out["worse"] >= -1)).all()


def test_kiosk_counts_match_direct_answer_tallies(kiosk):
    counts = kano_counts(kiosk)
    for feat in counts.index:
        f, d = kiosk[f"{feat}_F"], kiosk[f"{feat}_D"]
        assert counts.at[feat, "O"] == ((f == LIKE) & (d == DISLIKE)).sum()
        assert counts.at[feat, "M"] == (f.between(MUST, LIVE) & (d == DISLIKE)).sum()
        assert counts.at[feat, "Q"] == (((f == LIKE) & (d == LIKE)) | ((f == DISLIKE) & (d == DISLIKE))).sum()
        assert counts.at[feat, "I"] == (f.between(MUST, LIVE) & d.between(MUST, LIVE)).sum()


def test_kiosk_questionable_total_equals_category_total(kiosk):
    per_respondent = kano_questionable_counts(kiosk)
    assert per_respondent.sum() == kano_counts(kiosk)["Q"].sum()
    assert per_respondent.sum() > 0


def test_kiosk_continuous_means_are_within_the_scale(kiosk):
    out = kano_continuous(kiosk)
    assert out["functional_mean"].between(-2, 4).all()
    assert out["dysfunctional_mean"].between(-2, 4).all()
    assert (out["n_functional"] == 207).all()


answer = st.one_of(st.integers(1, 5), st.just(np.nan))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(answer, answer, answer, answer), min_size=1, max_size=40))
def test_shares_sum_to_one_for_any_answers(rows):
    frame = pd.DataFrame(rows, columns=["K01_F", "K01_D", "K02_F", "K02_D"], dtype=float)
    out = kano_classify_counts(kano_counts(frame))
    answered = out[out["n"] > 0]
    shares = answered[[f"share_{c}" for c in CATEGORIES]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert (answered[list(CATEGORIES)].sum(axis=1) == answered["n"]).all()
    valid = answered["better"].dropna()
    assert ((valid >= 0) & (valid <= 1)).all()


def test_kiosk_counts_equal_the_tally_of_each_respondents_category(kiosk):
    """kano_counts counts cells of the evaluation table; the letters kano_category gives each
    respondent, tallied, are the same counts (blanks left out)."""
    counts = kano_counts(kiosk)
    for feature in counts.index:
        letters = pd.Series(kano_category(kiosk[f"{feature}_F"].to_numpy(), kiosk[f"{feature}_D"].to_numpy()))
        tally = letters.value_counts().reindex(list(CATEGORIES), fill_value=0)
        assert counts.loc[feature, list(CATEGORIES)].tolist() == tally.tolist()
        assert counts.loc[feature, "n"] == letters.notna().sum()
