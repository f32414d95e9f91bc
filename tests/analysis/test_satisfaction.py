"""analysis.satisfaction: P / E ratio checked against plain pandas recomputation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_servqual
from analysis.satisfaction import classify_ratio, item_ratios, satisfaction_ratio

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(KIOSK)


@pytest.fixture(scope="module")
def result(kiosk):
    return satisfaction_ratio(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS)


def test_item_level_matches_pandas(kiosk, result):
    items = result.items.set_index("item")
    for item, (e, p) in KIOSK_PAIRS.items():
        pair = kiosk[[e, p]].dropna()
        assert items.loc[item, "n"] == len(pair)
        assert items.loc[item, "ratio_of_means"] == pytest.approx(pair[p].mean() / pair[e].mean())
        assert items.loc[item, "mean_ratio"] == pytest.approx((pair[p] / pair[e]).mean())
        assert items.loc[item, "mean_diff"] == pytest.approx((pair[p] - pair[e]).mean())
        r = pair[p] / pair[e]
        assert items.loc[item, "share_delighted"] == pytest.approx((r > 1).mean())
        assert items.loc[item, "share_disappointed"] == pytest.approx((r < 1).mean())


def test_respondent_dimension_and_survey_levels(kiosk, result):
    E = kiosk[[e for e, _ in KIOSK_PAIRS.values()]].to_numpy()
    P = kiosk[[p for _, p in KIOSK_PAIRS.values()]].to_numpy()
    answered = ~np.isnan(E).all(axis=1)
    ratio = P[answered].sum(axis=1) / E[answered].sum(axis=1)
    resp = result.respondents
    np.testing.assert_allclose(resp["ratio"], ratio)
    np.testing.assert_allclose(resp["mean_ratio"], (P[answered] / E[answered]).mean(axis=1))
    survey = result.survey.iloc[0]
    assert survey["n"] == answered.sum() == 207
    assert survey["ratio_of_means"] == pytest.approx(E[answered].mean(axis=1).mean() ** -1
                                                     * P[answered].mean(axis=1).mean())
    assert survey["mean_ratio"] == pytest.approx(ratio.mean())
    dims = result.dimensions.set_index("dimension")
    items = KIOSK_DIMENSIONS["security"]
    e = kiosk[[f"{i}_E" for i in items]].dropna()
    p = kiosk[[f"{i}_P" for i in items]].loc[e.index]
    assert dims.loc["security", "ratio_of_means"] == pytest.approx(p.mean(axis=1).mean() / e.mean(axis=1).mean())
    assert dims.loc["security", "mean_ratio"] == pytest.approx((p.sum(axis=1).to_numpy() / e.sum(axis=1).to_numpy()).mean())
    # headline and difference form agree in sign
    assert ((dims["ratio_of_means"] > 1) == (dims["mean_diff"] > 0)).all()


def test_zero_expectation_is_undefined_not_inf():
    f = pd.DataFrame({"response_id": [1, 2, 3], "A_E": [0.0, 5, 4], "A_P": [3.0, 5, 2],
                      "B_E": [0.0, 4, 4], "B_P": [2.0, 4, 5]})
    pairs = {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}
    r = item_ratios(f, pairs)
    assert np.isnan(r.loc[0, "A"]) and not np.isinf(r.to_numpy()).any()
    res = satisfaction_ratio(f, pairs)
    a = res.items.set_index("item").loc["A"]
    assert a["n"] == 3 and a["n_undefined"] == 1
    assert a["ratio_of_means"] == pytest.approx(10 / 9)          # E = 0 still in the means
    assert a["mean_ratio"] == pytest.approx((1 + 0.5) / 2)       # but not in the mean of ratios
    first = res.respondents.iloc[0]
    assert np.isnan(first["ratio"]) and first["class"] == "undefined"
    assert "undefined" in first["reason"]
    assert any("expectation 0" in n for n in res.methods.notes)


def test_classes_and_tolerance():
    assert classify_ratio([1.0, 1.04, 0.96, 1.2, 0.5]).tolist() == \
        ["met", "delighted", "disappointed", "delighted", "disappointed"]
    assert classify_ratio([1.0, 1.04, 0.96, 1.2, 0.5], tolerance=0.05).tolist() == \
        ["met", "met", "met", "delighted", "disappointed"]
    with pytest.raises(ValueError, match="tolerance"):
        classify_ratio([1.0], tolerance=-0.1)


def test_negative_values_rejected():
    f = pd.DataFrame({"A_E": [-1.0, 2], "A_P": [1.0, 2]})
    with pytest.raises(ValueError, match="true zero"):
        satisfaction_ratio(f, {"A": ("A_E", "A_P")})


def test_too_few_cases_raises():
    f = pd.DataFrame({"response_id": [1, 2], "A_E": [5.0, np.nan], "A_P": [4.0, 3]})
    with pytest.raises(InsufficientData, match="at least 2 needed"):
        satisfaction_ratio(f, {"A": ("A_E", "A_P")})


def test_sparse_item_left_out_and_named():
    f = pd.DataFrame({"A_E": [5.0, 6, 4], "A_P": [4.0, 6, 5], "B_E": [5.0, np.nan, np.nan],
                      "B_P": [5.0, 3, np.nan]})
    res = satisfaction_ratio(f, {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")})
    assert res.items["item"].tolist() == ["A"]
    assert any("B (n=1)" in n for n in res.methods.notes)
    assert res.methods.n_used == 3 and "pairwise" in res.methods.missing


def test_unknown_columns_and_items():
    f = pd.DataFrame({"A_E": [5.0], "A_P": [4.0]})
    with pytest.raises(ValueError, match="A_X"):
        satisfaction_ratio(f, {"A": ("A_E", "A_X")})
    with pytest.raises(ValueError, match="not in pairs"):
        satisfaction_ratio(f, {"A": ("A_E", "A_P")}, {"d": ["Z"]})


def test_respondent_level_equals_the_pandas_row_reductions_with_missing_pairs(kiosk):
    """The numpy row sums equal the pandas formulation they replaced (sum/mean with skipna,
    ``min_count=1``) on the kiosk study with a quarter of its answers blanked and some E = 0."""
    from analysis.satisfaction import _RatioBlocks

    frame = kiosk.copy()
    rng = np.random.default_rng(6)
    columns = [c for pair in KIOSK_PAIRS.values() for c in pair]
    values = frame[columns].to_numpy()
    values[rng.random(values.shape) < 0.25] = np.nan
    values[rng.random(values.shape) < 0.02] = 0.0
    frame[columns] = values
    blocks = _RatioBlocks.of(frame, KIOSK_PAIRS)
    ratios = item_ratios(frame, KIOSK_PAIRS)
    for items in [list(KIOSK_PAIRS), *KIOSK_DIMENSIONS.values()]:
        got = blocks.respondent_level(items)
        c = blocks.complete[items]
        k = c.sum(axis=1)
        sum_e = blocks.E[items].sum(axis=1, min_count=1)
        ratio = pd.Series(np.nan, index=blocks.E.index)
        ok = (k > 0) & (sum_e > 0)
        ratio[ok] = blocks.P[items].sum(axis=1)[ok] / sum_e[ok]
        expected = pd.DataFrame({"n_pairs": k, "mean_E": blocks.E[items].mean(axis=1),
                                 "mean_P": blocks.P[items].mean(axis=1), "ratio": ratio,
                                 "mean_ratio": ratios[items].where(c).mean(axis=1),
                                 "n_undefined": (c & ratios[items].isna()).sum(axis=1),
                                 "mean_diff": (blocks.P[items] - blocks.E[items]).mean(axis=1)})
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12, atol=1e-12)
