from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.common import InsufficientData
from analysis.csi import ECSI_PATHS, csi_bootstrap, csi_index, csi_model

DATA = Path(__file__).resolve().parents[1] / "data"

# The plspm "satisfaction" example (Sanchez 2013): LV codes of the reference
# files -> our construct codes.
SAT_CODES = {"IMAG": "image", "EXPE": "expectation", "QUAL": "quality", "VAL": "value",
             "SAT": "satisfaction", "LOY": "loyalty"}
SAT_BLOCKS = {
    "image": [f"imag{i}" for i in range(1, 6)],
    "expectation": [f"expe{i}" for i in range(1, 6)],
    "quality": [f"qual{i}" for i in range(1, 6)],
    "value": [f"val{i}" for i in range(1, 5)],
    "satisfaction": [f"sat{i}" for i in range(1, 5)],
    "loyalty": [f"loy{i}" for i in range(1, 5)],
}
MOBI_BLOCKS = {
    "image": [f"IMAG{i}" for i in range(1, 6)],
    "expectation": [f"CUEX{i}" for i in range(1, 4)],
    "quality": [f"PERQ{i}" for i in range(1, 8)],
    "value": ["PERV1", "PERV2"],
    "satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "complaints": ["CUSCO"],
    "loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
# Deterministic estimates come from the same algorithm as R plspm and agree
# to rounding; R's numbers carry 15 significant digits.
TOL = 1e-6


def _rename(path):
    source, target = path.split(" -> ")
    return f"{SAT_CODES[source]} -> {SAT_CODES[target]}"


@pytest.fixture(scope="module")
def satisfaction():
    return pd.read_csv(DATA / "satisfaction_plspm.csv", index_col=0)


@pytest.fixture(scope="module")
def reference():
    ref = pd.read_csv(DATA / "plspm_satisfaction_reference.csv")
    return {kind: part.set_index("name")["value"] for kind, part in ref.groupby("kind")}


@pytest.fixture(scope="module")
def sat_model(satisfaction):
    return csi_model(satisfaction, SAT_BLOCKS, scale=(0, 10), n_boot=0)


def test_paths_match_r_plspm(sat_model, reference):
    ours = sat_model.paths.set_index("path")["estimate"]
    expected = reference["path"].rename(index=_rename)
    assert set(ours.index) == set(expected.index)
    np.testing.assert_allclose(ours[expected.index], expected, atol=TOL)


def test_total_effects_r2_ave_and_gof_match_r_plspm(sat_model, reference):
    effects = sat_model.effects.assign(path=lambda d: d["source"] + " -> " + d["target"]).set_index("path")
    total = reference["total_effect"].rename(index=_rename)
    np.testing.assert_allclose(effects.loc[total.index, "total"], total, atol=TOL)
    r2 = reference["r2"].rename(index=SAT_CODES)
    np.testing.assert_allclose(sat_model.r2.loc[r2.index, "r2"], r2, atol=TOL)
    ave = reference["ave"].rename(index=SAT_CODES)
    np.testing.assert_allclose(sat_model.constructs.loc[ave.index, "ave"], ave, atol=TOL)
    assert sat_model.gof == pytest.approx(reference["gof"]["model"], abs=TOL)
    assert list(sat_model.r2.index) == ["expectation", "quality", "value", "satisfaction", "loyalty"]


def test_outer_weights_and_loadings_match_r_plspm(sat_model, reference):
    outer = sat_model.outer.set_index("item")
    # R plspm scales the scores to sum(Y²) = n; we (as SmartPLS, semPLS and
    # seminr) to sample variance 1, so its weights are ours * sqrt(n/(n-1)).
    n = sat_model.n
    np.testing.assert_allclose(outer.loc[reference["weight"].index, "weight"] * np.sqrt(n / (n - 1)),
                               reference["weight"], atol=TOL)
    np.testing.assert_allclose(outer.loc[reference["loading"].index, "loading"], reference["loading"], atol=TOL)
    sums = sat_model.outer.groupby("construct")["rescaled_weight"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_index_from_the_reference_weights(sat_model, satisfaction, reference):
    """ACSI index recomputed by hand from R's outer weights on the 0-10 scale.

    R plspm stops iterating when the squared weight changes sum to less than
    1e-6, so its weights sit up to ~5e-7 from the fixed point we iterate to
    (1e-7 on the absolute changes); on a 0-100 index that is ~1e-5.
    """
    weights = reference["weight"]
    for construct, items in SAT_BLOCKS.items():
        w = weights[items] / weights[items].sum()
        expected = 100 * (w @ satisfaction[items].mean() - 0) / (10 - 0)
        assert sat_model.index.loc[construct, "index"] == pytest.approx(expected, abs=1e-4)
    # the index of the mean is the mean of respondents' indices (it is linear)
    np.testing.assert_allclose(sat_model.respondent_index.mean(), sat_model.index["index"], atol=1e-9)
    assert sat_model.respondent_index.min().min() >= 0
    assert sat_model.respondent_index.max().max() <= 100
    assert sat_model.index["se"].isna().all()  # no bootstrap asked


def test_index_depends_on_the_scale(satisfaction):
    """Declaring the items 1-10 instead of 0-10 must move every index."""
    with pytest.raises(ValueError, match="outside the scale"):
        csi_model(satisfaction, SAT_BLOCKS, scale=(1, 10), n_boot=0)
    wide = csi_model(satisfaction, SAT_BLOCKS, scale=(0, 20), n_boot=0)
    base = csi_model(satisfaction, SAT_BLOCKS, scale=(0, 10), n_boot=0)
    np.testing.assert_allclose(wide.index["index"], base.index["index"] / 2)


def test_bootstrap_agrees_with_r_plspm(satisfaction, reference):
    res = csi_model(satisfaction, SAT_BLOCKS, scale=(0, 10), n_boot=100, seed=7)
    paths = res.paths.set_index("path")
    se = reference["boot_se"].rename(index=_rename)
    # Two independent bootstraps of 100 resamples estimate the same SEs with
    # ~7% sampling error each.
    np.testing.assert_allclose(paths.loc[se.index, "se"], se, rtol=0.3)
    lo = reference["boot_ci_low"].rename(index=_rename)
    hi = reference["boot_ci_high"].rename(index=_rename)
    r_significant = (lo > 0) | (hi < 0)
    assert paths.loc[r_significant.index, "significant"].tolist() == r_significant.tolist()
    assert res.n_boot_failed == 0
    assert (res.index["ci_low"] < res.index["index"]).all()
    assert (res.index["index"] < res.index["ci_high"]).all()
    assert res.r2["se"].notna().all()
    assert "seed 7" in res.methods.test


def test_bootstrap_is_reproducible(satisfaction):
    blocks = {k: SAT_BLOCKS[k] for k in ("value", "satisfaction")}
    one = csi_model(satisfaction, blocks, scale=(0, 10), n_boot=50, seed=3)
    two = csi_model(satisfaction, blocks, scale=(0, 10), n_boot=50, seed=3)
    other = csi_model(satisfaction, blocks, scale=(0, 10), n_boot=50, seed=4)
    pd.testing.assert_frame_equal(one.paths, two.paths)
    pd.testing.assert_frame_equal(one.index, two.index)
    assert not one.paths["se"].equals(other.paths["se"])
    assert one.paths["path"].tolist() == ["value -> satisfaction"]


def test_ecsi_on_the_mobile_phone_data():
    mobi = pd.read_csv(DATA / "mobi_ecsi.csv", index_col=0)
    res = csi_model(mobi, MOBI_BLOCKS, scale=(1, 10), n_boot=0)
    assert len(res.paths) == len(ECSI_PATHS)
    assert res.index["index"].between(0, 100).all()
    assert res.respondent_index.stack().between(0, 100).all()
    assert res.r2["r2"].between(0.1, 0.9).all()
    assert 0.5 < res.r2.loc["satisfaction", "r2"] < 0.85
    # a single-item construct is its item: loading 1, index = rescaled mean
    cusco = res.outer.set_index("item").loc["CUSCO"]
    assert cusco["loading"] == pytest.approx(1.0)
    expected = 100 * (mobi["CUSCO"].mean() - 1) / 9
    assert res.index.loc["complaints", "index"] == pytest.approx(expected)
    # satisfaction drives loyalty and complaint handling in the ECSI data
    paths = res.paths.set_index("path")["estimate"]
    assert paths["satisfaction -> loyalty"] > 0.3
    assert paths["satisfaction -> complaints"] > 0.3
    assert res.n == 250


def test_csi_index_by_hand():
    w = pd.Series({"s1": 0.2, "s2": 0.6})
    means = pd.Series({"s1": 7.0, "s2": 8.5})
    scale = pd.DataFrame({"min": [1.0, 0.0], "max": [10.0, 10.0]}, index=["s1", "s2"])
    expected = 100 * (0.25 * 7 + 0.75 * 8.5 - (0.25 * 1 + 0.75 * 0)) / (0.25 * 9 + 0.75 * 10)
    assert csi_index(w, means, scale) == pytest.approx(expected)
    with pytest.raises(ValueError, match="sum to 0"):
        csi_index(pd.Series({"s1": 0.0, "s2": 0.0}), means, scale)


def test_per_item_scales(satisfaction):
    scale = {i: (0, 10) for items in SAT_BLOCKS.values() for i in items}
    res = csi_model(satisfaction, SAT_BLOCKS, scale=scale, n_boot=0)
    assert res.index.loc["loyalty", "scale"] == "0-10"
    del scale["loy4"]
    with pytest.raises(ValueError, match="loy4"):
        csi_model(satisfaction, SAT_BLOCKS, scale=scale, n_boot=0)


@pytest.mark.parametrize("data, blocks, scale", [("satisfaction", SAT_BLOCKS, (0, 10)),
                                                  ("mobi", MOBI_BLOCKS, (1, 10))])
def test_bootstrap_alone_equals_the_joint_computation(satisfaction, data, blocks, scale):
    # The report shows csi_model(n_boot=0) at once and a queue job adds csi_bootstrap's
    # intervals later: with the same seed they must be the joint computation's, and the
    # estimates beside them the report's.
    frame = satisfaction.copy() if data == "satisfaction" else pd.read_csv(DATA / "mobi_ecsi.csv", index_col=0)
    frame.iloc[:4, 1] = np.nan  # listwise deletion happens the same way in both
    joint = csi_model(frame, blocks, scale=scale, n_boot=100, seed=11)
    alone = csi_bootstrap(frame, blocks, scale=scale, n_boot=100, seed=11)
    point = csi_model(frame, blocks, scale=scale, n_boot=0)
    for name in ("paths", "outer", "r2", "index"):
        ours, theirs = getattr(alone, name), getattr(joint, name)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=0, atol=1e-12)
        estimates = [c for c in theirs.columns if c in ("estimate", "weight", "loading", "r2", "index")]
        pd.testing.assert_frame_equal(ours[estimates], getattr(point, name)[estimates],
                                      check_exact=False, rtol=0, atol=1e-12)
    assert joint.paths["se"].notna().all() and point.paths["se"].isna().all()
    assert (alone.n, alone.n_boot, alone.n_boot_failed, alone.seed) == (joint.n, 100, joint.n_boot_failed, 11)
    assert alone.methods.test == joint.methods.test and alone.methods.n_excluded == 4
    other = csi_bootstrap(frame, blocks, scale=scale, n_boot=100, seed=12)
    assert not other.paths["ci_low"].equals(alone.paths["ci_low"])


def test_bootstrap_alone_needs_resamples(satisfaction):
    with pytest.raises(ValueError, match="at least 50"):
        csi_bootstrap(satisfaction, SAT_BLOCKS, scale=(0, 10), n_boot=0)
    with pytest.raises(ValueError, match="n_boot"):
        csi_bootstrap(satisfaction, SAT_BLOCKS, scale=(0, 10), n_boot=20)


@pytest.mark.parametrize("kwargs, match", [
    ({"scheme": "magic"}, "scheme"),
    ({"n_boot": 10}, "n_boot"),
    ({"ci": 1.5}, "ci"),
    ({"blocks": {"image": ["imag1"], "lonely": ["loy1"]}}, "not on any path"),
    ({"blocks": {"image": ["imag1"], "loyalty": ["imag1"]}}, "two constructs"),
    ({"blocks": {"image": ["nope"], "loyalty": ["loy1"]}}, "not in the frame"),
    ({"blocks": {"image": [], "loyalty": ["loy1"]}}, "no items"),
])
def test_argument_errors(satisfaction, kwargs, match):
    args = {"blocks": SAT_BLOCKS, "scale": (0, 10), "n_boot": 0, **kwargs}
    blocks = args.pop("blocks")
    with pytest.raises(ValueError, match=match):
        csi_model(satisfaction, blocks, **args)


def test_too_few_cases(satisfaction):
    with pytest.raises(InsufficientData):
        csi_model(satisfaction.head(25), SAT_BLOCKS, scale=(0, 10), n_boot=0)
    # satisfaction has four arrows in: the 10-times rule asks for 40 cases
    with pytest.raises(InsufficientData, match="40"):
        csi_model(satisfaction.head(35), SAT_BLOCKS, scale=(0, 10), n_boot=0)


def test_missing_answers_are_dropped_listwise(satisfaction):
    holes = satisfaction.copy()
    holes.loc[holes.index[:5], "sat1"] = np.nan
    res = csi_model(holes, SAT_BLOCKS, scale=(0, 10), n_boot=0)
    assert res.n == 245
    assert res.methods.n_excluded == 5
    assert len(res.respondent_index) == 245


def test_docstring_examples_run():
    import doctest

    import analysis.csi

    result = doctest.testmod(analysis.csi)
    assert result.attempted >= 5
    assert result.failed == 0
