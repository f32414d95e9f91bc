"""analysis.servqual checked against scipy, pingouin and statsmodels on the kiosk study."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_servqual
from analysis.servqual import gap_scores, paired_gap_test, servqual

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture(scope="module")
def kiosk():
    frame = read_kiosk_servqual(KIOSK)
    rng = np.random.default_rng(20240501)
    points = rng.multinomial(100, np.ones(8) / 8, size=len(frame)).astype(float)
    for k, dim in enumerate(KIOSK_DIMENSIONS):
        frame[f"W_{dim}"] = points[:, k]
    frame.loc[[0, 1], "W_fun"] = np.nan          # two respondents skipped the allocation
    return frame


@pytest.fixture(scope="module")
def result(kiosk):
    return servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS,
                    weights={d: f"W_{d}" for d in KIOSK_DIMENSIONS})


def test_items_match_scipy_and_pingouin(kiosk, result):
    items = result.items.set_index("item")
    for item, (e, p) in KIOSK_PAIRS.items():
        pair = kiosk[[e, p]].dropna()
        row = items.loc[item]
        d = pair[p] - pair[e]
        assert row["n"] == len(pair) == 207
        assert row["mean_gap"] == pytest.approx(d.mean())
        assert row["sd_gap"] == pytest.approx(d.std(ddof=1))
        t = stats.ttest_rel(pair[p], pair[e])
        assert row["t"] == pytest.approx(t.statistic) and row["p_t"] == pytest.approx(t.pvalue, rel=1e-9)
        ci = t.confidence_interval(0.95)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
        ref = pg.ttest(pair[p], pair[e], paired=True)
        assert row["t"] == pytest.approx(ref["T"].iloc[0])
        assert row["p_t"] == pytest.approx(ref["p_val"].iloc[0], rel=1e-9)
        assert row["ci_low"] == pytest.approx(ref["CI95"].iloc[0][0], abs=5e-3)
        assert row["d_z"] == pytest.approx(d.mean() / d.std(ddof=1))
        assert row["d_z"] == pytest.approx(t.statistic / np.sqrt(len(pair)))
        w = stats.wilcoxon(pair[p], pair[e], zero_method="pratt", correction=False, method="approx")
        assert row["W"] == pytest.approx(w.statistic) and row["p_wilcoxon"] == pytest.approx(w.pvalue)
        assert row["zero_method"] == "pratt" and row["n_zero"] == (d == 0).sum()
        rbc = pg.wilcoxon(pair[p], pair[e])["RBC"].iloc[0]
        assert row["r_rb"] == pytest.approx(rbc)
        assert row["share_negative"] == pytest.approx((d < 0).mean())


def test_corrections_match_multipletests(result):
    items = result.items
    for col, short in (("p_t", "p_t"), ("p_wilcoxon", "p_w")):
        assert np.allclose(items[f"{short}_holm"], multipletests(items[col], method="holm")[1])
        assert np.allclose(items[f"{short}_bh"], multipletests(items[col], method="fdr_bh")[1])
    dims = result.dimensions
    assert np.allclose(dims["p_t_holm"], multipletests(dims["p_t"], method="holm")[1])


def test_dimensions_overall_and_scores_match_pandas(kiosk, result):
    gaps = pd.DataFrame({i: kiosk[p] - kiosk[e] for i, (e, p) in KIOSK_PAIRS.items()})
    dim_gap = pd.DataFrame({d: gaps[its].mean(axis=1, skipna=False) for d, its in KIOSK_DIMENSIONS.items()})
    dims = result.dimensions.set_index("dimension")
    for d in KIOSK_DIMENSIONS:
        x = dim_gap[d].dropna()
        one = stats.ttest_1samp(x, 0)
        assert dims.loc[d, "mean_gap"] == pytest.approx(x.mean())
        assert dims.loc[d, "t"] == pytest.approx(one.statistic)
        assert dims.loc[d, "share_negative"] == pytest.approx((x < 0).mean())
    overall = dim_gap.dropna().mean(axis=1)
    row = result.overall.iloc[0]
    assert row["mean_gap"] == pytest.approx(overall.mean())
    assert row["p_wilcoxon"] == pytest.approx(
        stats.wilcoxon(overall, zero_method="pratt", correction=False, method="approx").pvalue)
    scores = result.scores.set_index("score")
    assert scores.loc["unweighted", "value"] == pytest.approx(dim_gap.mean().mean())
    W = kiosk[[f"W_{d}" for d in KIOSK_DIMENSIONS]].to_numpy()
    W = W / W.sum(axis=1, keepdims=True)
    weighted = (dim_gap.to_numpy() * W).sum(axis=1)
    ok = ~np.isnan(weighted)
    assert scores.loc["weighted", "n"] == ok.sum() == 205
    assert scores.loc["weighted", "value"] == pytest.approx(weighted[ok].mean())
    assert any("2 respondent(s) without a usable allocation" in n for n in result.methods.notes)
    assert result.weights["mean_weight"].sum() == pytest.approx(1)


def test_gap_scores_are_p_minus_e(kiosk):
    g = gap_scores(kiosk, KIOSK_PAIRS)
    assert g["response_id"].tolist() == kiosk["response_id"].tolist()
    np.testing.assert_array_equal(g["KS05"], kiosk["KS05_P"] - kiosk["KS05_E"])


def test_sample_mean_weights_fill_missing_allocations(kiosk):
    res = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS, missing_weights="sample_mean",
                   weights={d: f"W_{d}" for d in KIOSK_DIMENSIONS})
    assert res.scores.set_index("score").loc["weighted", "n"] == 207
    filled = res.respondents.set_index("response_id").loc[1]
    mean_w = res.weights.set_index("dimension")["mean_weight"]
    assert filled["weighted"] == pytest.approx(sum(filled[d] * mean_w[d] for d in KIOSK_DIMENSIONS))


def test_wilcox_zero_method_is_honoured(kiosk):
    res = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS, zero_method="wilcox")
    pair = kiosk[["KS03_E", "KS03_P"]].dropna()
    ref = stats.wilcoxon(pair["KS03_P"], pair["KS03_E"], zero_method="wilcox", correction=False,
                         method="approx")
    row = res.items.set_index("item").loc["KS03"]
    assert row["zero_method"] == "wilcox" and row["p_wilcoxon"] == pytest.approx(ref.pvalue)
    assert "zero_method=wilcox" in res.methods.test


def test_exact_wilcoxon_for_small_samples_without_ties():
    e = np.array([3.0, 4, 5, 6, 7, 5, 4, 6])
    p = e + np.array([0.5, -1.5, 2.5, 3.5, -4.5, 5.5, 6.5, 7.5])
    res = paired_gap_test(e, p)
    ref = stats.wilcoxon(p, e, method="exact")
    assert res["wilcoxon_method"] == "exact" and res["p_wilcoxon"] == pytest.approx(ref.pvalue)


def test_constant_gaps_reported_not_crashing():
    res = paired_gap_test([5, 6, 7], [4, 5, 6])
    assert np.isnan(res["t"]) and "undefined" in res["note"] and res["mean_gap"] == -1


def test_missing_items_pairwise_and_dimension_completeness():
    f = pd.DataFrame({"A_E": [5, 6, 7, 5, np.nan], "A_P": [4, 6, 5, 6, 3],
                      "B_E": [6, 6, 7, 4, 5], "B_P": [5, 7, 5, 5, 4]}, dtype=float)
    pairs = {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}
    res = servqual(f, pairs, {"d": ["A", "B"]})
    assert res.items.set_index("item")["n"].to_dict() == {"A": 4, "B": 5}
    assert res.dimensions.iloc[0]["n"] == 4          # row 5 lacks A: no dimension mean
    half = servqual(f, pairs, {"d": ["A", "B"]}, min_item_share=0.5)
    assert half.dimensions.iloc[0]["n"] == 5


def test_too_few_cases_and_bad_mappings():
    f = pd.DataFrame({"A_E": [5.0, 6], "A_P": [4.0, 6]})
    with pytest.raises(InsufficientData, match="at least 3 needed"):
        servqual(f, {"A": ("A_E", "A_P")}, {"d": ["A"]})
    g = pd.DataFrame({"A_E": [5.0, 6, 7], "A_P": [4.0, 6, 5], "B_E": [1.0, 2, 3], "B_P": [1.0, 2, 4]})
    pairs = {"A": ("A_E", "A_P"), "B": ("B_E", "B_P")}
    with pytest.raises(ValueError, match="in no dimension: B"):
        servqual(g, pairs, {"d": ["A"]})
    with pytest.raises(ValueError, match="more than one dimension"):
        servqual(g, pairs, {"d": ["A", "B"], "e": ["B"]})
    with pytest.raises(ValueError, match="missing"):
        servqual(g, pairs, {"d": ["A"], "e": ["B"]}, weights={"d": "A_E"})
    with pytest.raises(ValueError, match="zero_method"):
        servqual(g, pairs, {"d": ["A", "B"]}, zero_method="zsplit")


@pytest.mark.parametrize("zero_method", ["pratt", "wilcox"])
def test_signed_rank_counts_equal_scipy_on_every_kiosk_gap(kiosk, zero_method):
    """The count-based signed-rank test (no sort) equals scipy's ranking one to 1e-9 on the
    kiosk study: item gaps (integers, many zeros and ties) and dimension mean gaps (fractions),
    and on continuous differences without ties."""
    from analysis.servqual import signed_rank_test

    gaps = [(kiosk[p] - kiosk[e]).dropna().to_numpy() for e, p in KIOSK_PAIRS.values()]
    for items in KIOSK_DIMENSIONS.values():
        e = kiosk[[KIOSK_PAIRS[i][0] for i in items]].mean(axis=1)
        p = kiosk[[KIOSK_PAIRS[i][1] for i in items]].mean(axis=1)
        gaps.append((p - e).dropna().to_numpy())
    gaps.append(np.random.default_rng(2).normal(0.1, 1, size=300))
    for d in gaps:
        mine = signed_rank_test(d, zero_method)
        ref = stats.wilcoxon(d, zero_method=zero_method, correction=False, method="approx")
        assert mine["W"] == pytest.approx(float(ref.statistic), rel=1e-9, abs=1e-9)
        assert mine["p"] == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-12)
        nonzero = d[d != 0]
        ranks = stats.rankdata(np.abs(nonzero))
        r_plus, r_minus = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
        assert mine["r_rb"] == pytest.approx((r_plus - r_minus) / (r_plus + r_minus), abs=1e-12)
        assert mine["has_ties"] == (np.unique(np.abs(nonzero)).size < nonzero.size)


def test_whole_number_gaps_are_counted_as_the_hashed_path_counts_them(kiosk):
    """Integer item gaps take the bincount path; its counts equal the factorize path's, and
    halving the gaps (half-integers: the factorize path, the same ranks) gives the same z."""
    from analysis.servqual import _absolute_value_counts, signed_rank_test

    for e, p in KIOSK_PAIRS.values():
        d = (kiosk[p] - kiosk[e]).dropna().to_numpy()
        codes, levels = pd.factorize(np.abs(d), sort=True)
        expected = (np.bincount(codes, minlength=len(levels)), np.bincount(codes[d > 0], minlength=len(levels)),
                    np.bincount(codes[d < 0], minlength=len(levels)), levels)
        for got, want in zip(_absolute_value_counts(d), expected):
            np.testing.assert_array_equal(got, want)
        whole, halved = signed_rank_test(d, "pratt"), signed_rank_test(d / 2, "pratt")
        assert whole["z"] == pytest.approx(halved["z"], rel=1e-12)
        assert whole["W"] == halved["W"]
