import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.formula.api as smf

from analysis.common import InsufficientData
from analysis.relationship import (
    SEED_PATHS,
    SeedPath,
    construct_correlations,
    construct_reliability,
    construct_scores,
    mediation,
    ols_path,
    seed_mediation,
    seed_paths,
)

ITEMS = {
    "satisfaction_visit": ["RQ_SV1", "RQ_SV2", "RQ_SV3"],
    "satisfaction_cumulative": ["RQ_SC1", "RQ_SC2", "RQ_SC3"],
    "trust_firm": ["RQ_TB1", "RQ_TI1", "RQ_TC1"],
    "trust_staff": ["RQ_TS1", "RQ_TS2", "RQ_TS3"],
    "commitment_affective": ["RQ_CA1", "RQ_CA2", "RQ_CA3"],
    "commitment_continuance": ["RQ_CC1", "RQ_CC2", "RQ_CC3"],
    "friendship": ["RQ_FR1", "RQ_FR2", "RQ_FR3"],
    "word_of_mouth": ["RQ_WM1", "RQ_WM2", "RQ_WM3"],
    "forgiveness": ["RQ_FG1", "RQ_FG2", "RQ_FG3"],
}
REVERSE = ["RQ_SV3", "RQ_CC3"]


def _latent(n, rng):
    """Constructs generated along the seed paths (standard-normal scale)."""
    def noise(scale):
        return rng.normal(scale=scale, size=n)
    lv = pd.DataFrame({"friendship": noise(1.0), "satisfaction_visit": noise(1.0)})
    lv["trust_staff"] = 0.6 * lv["friendship"] + noise(0.8)
    lv["trust_firm"] = 0.4 * lv["satisfaction_visit"] + 0.4 * lv["trust_staff"] + noise(0.7)
    lv["satisfaction_cumulative"] = 0.5 * lv["trust_firm"] + 0.3 * lv["friendship"] + noise(0.7)
    lv["commitment_affective"] = 0.5 * lv["satisfaction_cumulative"] + 0.3 * lv["trust_firm"] + noise(0.7)
    lv["commitment_continuance"] = (0.1 * lv["satisfaction_cumulative"]
                                    + 0.6 * lv["commitment_affective"] + noise(0.7))
    lv["word_of_mouth"] = 0.6 * lv["commitment_affective"] + noise(0.8)
    lv["forgiveness"] = 0.5 * lv["commitment_affective"] + noise(0.8)
    return lv


@pytest.fixture(scope="module")
def items():
    """Item answers on a 1-7 scale, three per construct, two reverse-worded."""
    rng = np.random.default_rng(2024)
    lv = _latent(400, rng)
    cols = {}
    for construct, names in ITEMS.items():
        for name in names:
            raw = 4 + 1.2 * lv[construct] + rng.normal(scale=0.8, size=len(lv))
            value = np.clip(np.round(raw), 1, 7)
            cols[name] = 8 - value if name in REVERSE else value
    frame = pd.DataFrame(cols)
    frame.iloc[3, 0] = np.nan
    frame.iloc[5, 4] = np.nan
    return frame


def test_construct_scores_recode_and_mean(items):
    scores = construct_scores(items, ITEMS, reverse=REVERSE, scale=(1, 7))
    row = items.iloc[0]
    expected = np.mean([row["RQ_SV1"], row["RQ_SV2"], 8 - row["RQ_SV3"]])
    assert scores.loc[0, "satisfaction_visit"] == pytest.approx(expected)
    assert np.isnan(scores.loc[3, "satisfaction_visit"])  # listwise by default
    assert scores.attrs["methods"].n_excluded == 2


def test_construct_scores_at_least_k_items():
    frame = pd.DataFrame({"a": [7, np.nan, np.nan], "b": [5, 5, np.nan], "c": [1, 3, 2]})
    out = construct_scores(frame, {"t": ["a", "b", "c"]}, reverse=["c"], scale=(1, 7), min_items=2)
    assert out["t"].tolist()[:2] == [pytest.approx((7 + 5 + 7) / 3), pytest.approx((5 + 5) / 2)]
    assert np.isnan(out.loc[2, "t"])
    listwise = construct_scores(frame, {"t": ["a", "b", "c"]}, reverse=["c"], scale=(1, 7))
    assert listwise["t"].isna().tolist() == [False, True, True]


def test_construct_scores_per_item_scale():
    frame = pd.DataFrame({"a": [1.0, 5.0], "b": [0.0, 10.0]})
    out = construct_scores(frame, {"t": ["a", "b"]}, reverse=["b"], scale={"b": (0, 10)})
    assert out["t"].tolist() == [5.5, 2.5]


@pytest.mark.parametrize("kwargs, match", [
    ({"reverse": ["a"]}, "need the scale"),
    ({"reverse": ["zz"], "scale": (1, 7)}, "not in any construct"),
    ({"reverse": ["a"], "scale": (1, 3)}, "outside its scale"),
    ({"reverse": ["a"], "scale": (7, 1)}, "min < max"),
    ({"min_items": 0}, "positive integer"),
])
def test_construct_scores_rejects_bad_arguments(kwargs, match):
    frame = pd.DataFrame({"a": [1.0, 5.0], "b": [2.0, 3.0]})
    with pytest.raises(ValueError, match=match):
        construct_scores(frame, {"t": ["a", "b"]}, **kwargs)


def test_construct_scores_unknown_columns():
    with pytest.raises(ValueError, match="not in the frame"):
        construct_scores(pd.DataFrame({"a": [1]}), {"t": ["a", "b"]})


def test_reliability_alpha_matches_pingouin(items):
    rel = construct_reliability(items, ITEMS, reverse=REVERSE, scale=(1, 7))
    recoded = items.copy()
    recoded[REVERSE] = 8 - recoded[REVERSE]
    for construct, cols in ITEMS.items():
        alpha, ci = pg.cronbach_alpha(recoded[cols], nan_policy="listwise")
        assert rel.loc[construct, "alpha"] == pytest.approx(alpha, abs=1e-10)
        assert rel.loc[construct, "n"] == len(recoded[cols].dropna())
    assert (rel["composite_reliability"] > 0.7).all()
    assert (rel["ave"].between(0.3, 1)).all()


def test_reliability_without_recoding_shows_the_reverse_item():
    """Forgetting to recode a reverse item must hurt alpha: the check that
    recoding happens before alpha."""
    rng = np.random.default_rng(5)
    f = rng.normal(size=300)
    frame = pd.DataFrame({f"x{i}": np.clip(np.round(4 + f + rng.normal(scale=0.7, size=300)), 1, 7)
                          for i in range(3)})
    frame["x2"] = 8 - frame["x2"]
    good = construct_reliability(frame, {"c": ["x0", "x1", "x2"]}, reverse=["x2"], scale=(1, 7))
    bad = construct_reliability(frame, {"c": ["x0", "x1", "x2"]})
    assert good.loc["c", "alpha"] > 0.7 > bad.loc["c", "alpha"]


def test_composite_reliability_and_ave_recover_known_loadings():
    rng = np.random.default_rng(11)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    n = 20000
    f = rng.normal(size=n)
    frame = pd.DataFrame(f[:, None] * lam + rng.normal(size=(n, 4)) * np.sqrt(1 - lam ** 2),
                         columns=list("abcd"))
    rel = construct_reliability(frame, {"c": list("abcd"), "pair": ["a", "b"]})
    cr_true = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam ** 2).sum())
    assert rel.loc["c", "composite_reliability"] == pytest.approx(cr_true, abs=0.01)
    assert rel.loc["c", "ave"] == pytest.approx(np.mean(lam ** 2), abs=0.01)
    assert np.isnan(rel.loc["pair", "composite_reliability"])
    assert "three" in rel.loc["pair", "note"]


def test_correlations_match_pingouin(items):
    scores = construct_scores(items, ITEMS, reverse=REVERSE, scale=(1, 7))
    cols = ["trust_firm", "satisfaction_visit", "friendship"]
    ours = construct_correlations(scores[cols]).set_index(["x", "y"])
    ref = pg.pairwise_corr(scores[cols]).set_index(["X", "Y"])
    for (x, y), row in ours.iterrows():
        assert row["r"] == pytest.approx(ref.loc[(x, y), "r"], abs=1e-12)
        assert row["p"] == pytest.approx(ref.loc[(x, y), "p_unc"], rel=1e-8)
        assert row["n"] == ref.loc[(x, y), "n"]
    spearman = construct_correlations(scores[cols], method="spearman").set_index(["x", "y"])
    ref_s = pg.pairwise_corr(scores[cols], method="spearman").set_index(["X", "Y"])
    assert spearman.loc[("trust_firm", "friendship"), "r"] == pytest.approx(
        ref_s.loc[("trust_firm", "friendship"), "r"], abs=1e-12)
    with pytest.raises(ValueError, match="pearson"):
        construct_correlations(scores[cols], method="kendall")


@pytest.fixture(scope="module")
def scores(items):
    return construct_scores(items, ITEMS, reverse=REVERSE, scale=(1, 7))


def test_ols_path_matches_an_independent_statsmodels_fit(scores):
    preds = ["satisfaction_cumulative", "commitment_affective"]
    out = ols_path(scores, "commitment_continuance", preds).set_index("predictor")
    data = scores[["commitment_continuance"] + preds].dropna()
    z = (data - data.mean()) / data.std(ddof=1)
    ref = smf.ols("commitment_continuance ~ satisfaction_cumulative + commitment_affective",
                  data=z).fit(cov_type="HC3", use_t=True)
    for p in preds:
        assert out.loc[p, "beta"] == pytest.approx(ref.params[p], abs=1e-10)
        assert out.loc[p, "se_hc3"] == pytest.approx(ref.bse[p], rel=1e-8)
        assert out.loc[p, "t"] == pytest.approx(ref.tvalues[p], rel=1e-8)
        assert out.loc[p, "p"] == pytest.approx(ref.pvalues[p], rel=1e-6, abs=1e-300)
    assert out["r2"].iloc[0] == pytest.approx(ref.rsquared)
    assert out["adj_r2"].iloc[0] == pytest.approx(ref.rsquared_adj)
    assert out["n"].iloc[0] == len(data)
    # VIF by hand: 1 / (1 - R^2) of one predictor on the other
    r = np.corrcoef(data[preds[0]], data[preds[1]])[0, 1]
    np.testing.assert_allclose(out["vif"], 1 / (1 - r ** 2))


def test_ols_path_matches_pingouin_linear_regression(scores):
    preds = ["trust_firm", "friendship"]
    out = ols_path(scores, "satisfaction_cumulative", preds).set_index("predictor")
    data = scores[["satisfaction_cumulative"] + preds].dropna()
    z = (data - data.mean()) / data.std(ddof=1)
    ref = pg.linear_regression(z[preds], z["satisfaction_cumulative"]).set_index("names")
    for p in preds:
        assert out.loc[p, "beta"] == pytest.approx(ref.loc[p, "coef"], abs=1e-10)
        # HC3 and classical SEs differ, but not wildly with homoscedastic data
        assert out.loc[p, "se_hc3"] == pytest.approx(ref.loc[p, "se"], rel=0.25)
    assert out["r2"].iloc[0] == pytest.approx(ref.loc["Intercept", "r2"])
    assert out["adj_r2"].iloc[0] == pytest.approx(ref.loc["Intercept", "adj_r2"])
    raw = ols_path(scores, "satisfaction_cumulative", preds, standardize=False).set_index("predictor")
    ref_raw = pg.linear_regression(data[preds], data["satisfaction_cumulative"]).set_index("names")
    assert raw.loc["trust_firm", "beta"] == pytest.approx(ref_raw.loc["trust_firm", "coef"], abs=1e-10)


def test_standardized_beta_of_one_predictor_is_pearson_r(scores):
    out = ols_path(scores, "word_of_mouth", "commitment_affective")
    pair = scores[["word_of_mouth", "commitment_affective"]].dropna()
    assert out.loc[0, "beta"] == pytest.approx(pair.corr().iloc[0, 1], abs=1e-12)
    assert out.loc[0, "vif"] == 1.0


def test_ols_path_errors(scores):
    with pytest.raises(InsufficientData):
        ols_path(scores.head(8), "word_of_mouth", "commitment_affective")
    with pytest.raises(ValueError, match="both outcome and predictor"):
        ols_path(scores, "word_of_mouth", ["word_of_mouth"])
    flat = scores.assign(flat=1.0)
    with pytest.raises(ValueError, match="no variance"):
        ols_path(flat, "word_of_mouth", ["flat"])
    with pytest.raises(ValueError, match="not in the frame"):
        ols_path(scores, "word_of_mouth", ["nope"])


def test_seed_paths_table(scores):
    table = seed_paths(scores)
    expected_cols = ["path", "outcome", "predictor", "beta", "se_hc3", "t", "p", "r2", "n", "vif"]
    assert all(c in table.columns for c in expected_cols)
    assert table["path"].nunique() == len(SEED_PATHS)
    assert len(table) == sum(len(p.predictors) for p in SEED_PATHS)
    # the simulated effects are all positive and large enough to be found
    assert (table["beta"] > 0).all()
    assert (table.loc[table["path"] != "satisfaction + affective -> continuance commitment", "p"] < 0.001).all()
    both = table[table["path"] == "satisfaction + affective -> continuance commitment"].set_index("predictor")
    assert both.loc["commitment_affective", "beta"] > both.loc["satisfaction_cumulative", "beta"]


def test_seed_paths_skips_missing_constructs(scores):
    table = seed_paths(scores[["trust_staff", "trust_firm", "friendship"]])
    assert set(table["path"]) == {"trust in staff -> trust in firm", "friendship -> trust in staff"}
    assert any("word of mouth" in n for n in table.attrs["methods"].notes)
    with pytest.raises(ValueError, match="needs columns named"):
        seed_paths(scores[["word_of_mouth"]])
    custom = seed_paths(scores, [SeedPath("own", "forgiveness", ("friendship",))])
    assert custom["path"].tolist() == ["own"]


def test_mediation_matches_pingouin(scores):
    data = scores[["satisfaction_cumulative", "commitment_affective", "commitment_continuance"]].dropna()
    ours = mediation(data, "satisfaction_cumulative", "commitment_affective", "commitment_continuance",
                     n_boot=5000, seed=42)
    ref = pg.mediation_analysis(data=data, x="satisfaction_cumulative", m="commitment_affective",
                                y="commitment_continuance", n_boot=5000, seed=42).set_index("path")
    assert ours.a == pytest.approx(ref.loc["commitment_affective ~ X", "coef"], abs=1e-10)
    full = smf.ols("commitment_continuance ~ satisfaction_cumulative + commitment_affective", data=data).fit()
    assert ours.b == pytest.approx(full.params["commitment_affective"], abs=1e-10)
    assert ours.total == pytest.approx(ref.loc["Total", "coef"], abs=1e-10)
    assert ours.direct == pytest.approx(ref.loc["Direct", "coef"], abs=1e-10)
    assert ours.indirect == pytest.approx(ref.loc["Indirect", "coef"], abs=1e-10)
    # different resampling streams and percentile vs bias-corrected limits:
    # agreement to a fraction of a bootstrap SE is what can be asked
    se = ours.indirect_se
    assert se == pytest.approx(ref.loc["Indirect", "se"], rel=0.15)
    assert ours.ci_low == pytest.approx(ref.loc["Indirect", "CI2.5"], abs=0.3 * se)
    assert ours.ci_high == pytest.approx(ref.loc["Indirect", "CI97.5"], abs=0.3 * se)
    assert ours.total == pytest.approx(ours.direct + ours.indirect, abs=1e-10)


def test_mediation_recovers_a_known_indirect_effect():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.1 * x + rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "m": m, "y": y})
    res = mediation(frame, "x", "m", "y", n_boot=1000, seed=3)
    assert res.ci_low < 0.2 < res.ci_high
    assert res.indirect == pytest.approx(0.2, abs=0.04)
    assert res.significant and res.indirect_exceeds_direct
    assert res.proportion_mediated == pytest.approx(res.indirect / res.total)
    assert res.paths["path"].tolist()[-1] == "a*b (indirect)"
    assert len(res.boot_indirect) == 1000


def test_mediation_null_indirect_effect_is_not_significant():
    rng = np.random.default_rng(8)
    n = 500
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "m": rng.normal(size=n), "y": 0.5 * x + rng.normal(size=n)})
    res = mediation(frame, "x", "m", "y", n_boot=500, seed=1)
    assert res.ci_low < 0 < res.ci_high
    assert not res.significant


def test_mediation_seed_reproducibility_and_covariates(scores):
    args = ("satisfaction_cumulative", "commitment_affective", "commitment_continuance")
    one = mediation(scores, *args, n_boot=300, seed=9)
    two = mediation(scores, *args, n_boot=300, seed=9)
    other = mediation(scores, *args, n_boot=300, seed=10)
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)
    assert (one.ci_low, one.ci_high) != (other.ci_low, other.ci_high)
    with_cov = mediation(scores, *args, covariates=["friendship"], n_boot=300, seed=9)
    ref = smf.ols("commitment_affective ~ satisfaction_cumulative + friendship",
                  data=scores[list(args) + ["friendship"]].dropna()).fit()
    assert with_cov.a == pytest.approx(ref.params["satisfaction_cumulative"], abs=1e-10)


def test_mediation_errors(scores):
    args = ("satisfaction_cumulative", "commitment_affective", "commitment_continuance")
    with pytest.raises(ValueError, match="n_boot"):
        mediation(scores, *args, n_boot=50)
    with pytest.raises(InsufficientData):
        mediation(scores.head(10), *args, n_boot=200)
    with pytest.raises(ValueError, match="ci"):
        mediation(scores, *args, ci=95)


def test_seed_mediation_on_simulated_relationship_data(scores):
    res = seed_mediation(scores, n_boot=500, seed=1)
    assert (res.x, res.m, res.y) == ("satisfaction_cumulative", "commitment_affective",
                                     "commitment_continuance")
    assert res.significant
    assert res.indirect_exceeds_direct  # simulated: indirect ~0.3 vs direct 0.1
    with pytest.raises(ValueError, match="lacks"):
        seed_mediation(scores[["friendship"]])


@pytest.mark.parametrize("min_items", [None, 1, 2])
def test_construct_scores_equal_pandas_row_means_on_mobi_with_blanks(min_items):
    """Row means on the matrix equal pandas' ``mean(axis=1)`` (the formulation they replaced)
    on the mobile-phone ECSI data (tests/data/mobi_ecsi.csv) with a fifth of the answers blanked."""
    from pathlib import Path

    mobi = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "mobi_ecsi.csv", index_col=0)
    values = mobi.to_numpy(dtype=float)
    values[np.random.default_rng(9).random(values.shape) < 0.2] = np.nan
    mobi = pd.DataFrame(values, columns=mobi.columns, index=mobi.index)
    constructs = {"image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
                  "quality": ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"],
                  "loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
    got = construct_scores(mobi, constructs, reverse=["CUSL2"], scale=(1, 10), min_items=min_items)
    recoded = mobi.copy()
    recoded["CUSL2"] = 11 - recoded["CUSL2"]
    for name, cols in constructs.items():
        need = len(cols) if min_items is None else min(min_items, len(cols))
        block = recoded[cols]
        expected = block.mean(axis=1).where(block.notna().sum(axis=1) >= need)
        pd.testing.assert_series_equal(got[name], expected, check_names=False, rtol=1e-12, atol=1e-12)
