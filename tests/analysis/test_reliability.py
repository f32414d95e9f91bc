"""analysis.reliability checked against pingouin and closed-form recomputations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_servqual
from analysis.reliability import composite_reliability, cronbach_alpha, omega_total, servqual_reliability

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def pingouin_wide():
    long = pd.read_csv(DATA / "pingouin_cronbach_alpha.csv")
    return long.pivot(index="Subj", columns="Items", values="Scores")


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(DATA / "kiosk_servqual_kano_ko.utf8.csv")


def test_alpha_matches_pingouin_documentation_data(pingouin_wide):
    res = cronbach_alpha(pingouin_wide)
    ref_alpha, ref_ci = pg.cronbach_alpha(data=pingouin_wide)
    assert res.alpha == pytest.approx(ref_alpha) == pytest.approx(0.5917188485995826)
    # pingouin rounds its interval to 3 decimals
    assert res.ci_low == pytest.approx(ref_ci[0], abs=5e-4)
    assert res.ci_high == pytest.approx(ref_ci[1], abs=5e-4)
    assert (res.n, res.k) == (15, 10)


@pytest.mark.parametrize("dim", list(KIOSK_DIMENSIONS))
def test_alpha_matches_pingouin_on_kiosk_expectations(kiosk, dim):
    cols = [KIOSK_PAIRS[i][0] for i in KIOSK_DIMENSIONS[dim]]
    res = cronbach_alpha(kiosk, cols)
    ref_alpha, _ = pg.cronbach_alpha(data=kiosk[cols], nan_policy="listwise")
    assert res.alpha == pytest.approx(ref_alpha)
    # pingouin 0.7 takes the Feldt df from the row count *before* listwise
    # deletion (211 here); the interval must rest on the 207 cases used, so
    # compare with pingouin on the already-complete rows
    _, ref_ci = pg.cronbach_alpha(data=kiosk[cols].dropna())
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(ref_ci), abs=5e-4)
    assert res.n == 207 and res.methods.n_excluded == 4


def test_alpha_if_deleted_and_item_total(pingouin_wide):
    res = cronbach_alpha(pingouin_wide)
    items = res.items.set_index("item")
    for col in pingouin_wide.columns:
        rest = [c for c in pingouin_wide.columns if c != col]
        assert items.loc[col, "alpha_if_deleted"] == pytest.approx(pg.cronbach_alpha(data=pingouin_wide[rest])[0])
        assert items.loc[col, "alpha_if_deleted"] == pytest.approx(cronbach_alpha(pingouin_wide, rest).alpha)
        r = np.corrcoef(pingouin_wide[col], pingouin_wide[rest].sum(axis=1))[0, 1]
        assert items.loc[col, "item_total_r"] == pytest.approx(r)


def test_standardized_alpha_formula(pingouin_wide):
    corr = pingouin_wide.corr().to_numpy()
    k = corr.shape[0]
    rbar = corr[np.triu_indices(k, 1)].mean()
    res = cronbach_alpha(pingouin_wide)
    assert res.mean_r == pytest.approx(rbar)
    assert res.alpha_std == pytest.approx(k * rbar / (1 + (k - 1) * rbar))
    # alpha of z-scored items equals the standardized alpha
    z = (pingouin_wide - pingouin_wide.mean()) / pingouin_wide.std()
    assert res.alpha_std == pytest.approx(pg.cronbach_alpha(data=z)[0])


def test_servqual_reliability_rows(kiosk):
    rel = servqual_reliability(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS)
    assert len(rel.summary) == 3 * len(KIOSK_DIMENSIONS)
    row = rel.summary.set_index(["dimension", "score"]).loc[("security", "gap")]
    gaps = pd.DataFrame({i: kiosk[f"{i}_P"] - kiosk[f"{i}_E"] for i in KIOSK_DIMENSIONS["security"]})
    assert row["alpha"] == pytest.approx(pg.cronbach_alpha(data=gaps, nan_policy="listwise")[0])
    assert row["n"] == 207
    assert set(rel.items["score"]) == {"E", "P", "gap"}


def test_single_item_dimension_reported_with_reason(kiosk):
    rel = servqual_reliability(kiosk, KIOSK_PAIRS, {"one": ["KS01"], "two": ["KS02", "KS03"]})
    one = rel.summary[rel.summary["dimension"] == "one"]
    assert one["alpha"].isna().all() and one["note"].str.contains("items").all()
    assert rel.summary.loc[rel.summary["dimension"] == "two", "alpha"].notna().all()


def _just_identified(corr):
    # a one-factor model of 3 items reproduces the correlations exactly:
    # l1 = sqrt(r12 r13 / r23), etc.
    r12, r13, r23 = corr[0, 1], corr[0, 2], corr[1, 2]
    return np.sqrt([r12 * r13 / r23, r12 * r23 / r13, r13 * r23 / r12])


@pytest.mark.parametrize("dim", ["usefulness", "fun", "security"])
def test_composite_reliability_ml_matches_closed_form(kiosk, dim):
    cols = [KIOSK_PAIRS[i][1] for i in KIOSK_DIMENSIONS[dim]]
    lam = _just_identified(kiosk[cols].dropna().corr().to_numpy())
    assert (lam < 1).all()
    res = composite_reliability(kiosk, cols)
    np.testing.assert_allclose(res.loadings["loading"], lam, atol=2e-3)
    s = lam.sum()
    assert res.cr == pytest.approx(s ** 2 / (s ** 2 + (1 - lam ** 2).sum()), abs=2e-3)
    assert res.ave == pytest.approx((lam ** 2).mean(), abs=2e-3)
    assert res.n == 207 and "listwise" in res.methods.missing


def test_heywood_case_flagged(kiosk):
    cols = [KIOSK_PAIRS[i][1] for i in KIOSK_DIMENSIONS["control"]]
    assert (_just_identified(kiosk[cols].dropna().corr().to_numpy()) > 1).any()
    res = composite_reliability(kiosk, cols)
    assert any("Heywood" in n for n in res.methods.notes)


def test_principal_component_loadings_are_item_component_correlations(kiosk):
    cols = [KIOSK_PAIRS[i][0] for i in KIOSK_DIMENSIONS["security"] + KIOSK_DIMENSIONS["fun"]]
    data = kiosk[cols].dropna()
    res = composite_reliability(kiosk, cols, method="pc")
    z = ((data - data.mean()) / data.std()).to_numpy()
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    score = z @ vt[0]
    r = np.array([np.corrcoef(z[:, j], score)[0, 1] for j in range(len(cols))])
    r = r if r.sum() > 0 else -r
    np.testing.assert_allclose(res.loadings["loading"], r, atol=1e-8)


def test_too_few_cases_or_items():
    f = pd.DataFrame({"a": [1.0, 2], "b": [2.0, 1], "c": [3.0, 3]})
    with pytest.raises(InsufficientData, match="at least 3 needed"):
        cronbach_alpha(f)
    with pytest.raises(InsufficientData, match="items"):
        cronbach_alpha(f, ["a"])
    with pytest.raises(InsufficientData, match="one-factor"):
        composite_reliability(f, ["a", "b"])
    with pytest.raises(ValueError, match="no variance"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 1, 1], "b": [2.0, 2, 2]}))


def _factor_analyzer():
    """factor_analyzer 0.5.1 (minres by scipy.optimize on the ULS criterion) as the second
    implementation; it still passes scikit-learn's old ``force_all_finite`` keyword."""
    fa_module = pytest.importorskip("factor_analyzer.factor_analyzer")
    original = fa_module.check_array

    def check_array(X, *args, force_all_finite=None, **kwargs):
        if force_all_finite is not None:
            kwargs["ensure_all_finite"] = force_all_finite
        return original(X, *args, **kwargs)

    fa_module.check_array = check_array
    return fa_module.FactorAnalyzer


@pytest.mark.parametrize("dim", list(KIOSK_DIMENSIONS))
@pytest.mark.parametrize("facet", [0, 1])
def test_omega_matches_factor_analyzer_minres(kiosk, dim, facet):
    FactorAnalyzer = _factor_analyzer()
    cols = [KIOSK_PAIRS[i][facet] for i in KIOSK_DIMENSIONS[dim]]
    res = cronbach_alpha(kiosk, cols)
    fa = FactorAnalyzer(n_factors=1, rotation=None, method="minres")
    fa.fit(kiosk[cols].dropna())
    lam = fa.loadings_[:, 0] * np.sign(fa.loadings_[:, 0].sum())
    reference = lam.sum() ** 2 / (lam.sum() ** 2 + fa.get_uniquenesses().sum())
    if any("Heywood" in note for note in res.methods.notes):
        # factor_analyzer bounds uniquenesses at 0.005, we at 0: a few 1e-4 apart
        assert res.omega == pytest.approx(reference, abs=1e-3)
    else:
        assert res.omega == pytest.approx(reference, abs=1e-6)
    assert res.omega == omega_total(kiosk, cols)


def test_omega_on_all_24_perception_items(kiosk):
    FactorAnalyzer = _factor_analyzer()
    cols = [p for _, p in KIOSK_PAIRS.values()]
    fa = FactorAnalyzer(n_factors=1, rotation=None, method="minres")
    fa.fit(kiosk[cols].dropna())
    lam = np.abs(fa.loadings_[:, 0])
    reference = lam.sum() ** 2 / (lam.sum() ** 2 + fa.get_uniquenesses().sum())
    assert omega_total(kiosk, cols) == pytest.approx(reference, abs=1e-8)


def test_omega_needs_three_items(kiosk):
    with pytest.raises(InsufficientData, match="needs 3"):
        omega_total(kiosk, ["KS01_P", "KS02_P"])
    assert np.isnan(cronbach_alpha(kiosk, ["KS01_P", "KS02_P"]).omega)


@pytest.mark.parametrize("facet", [0, 1])
def test_item_rows_from_the_covariance_equal_the_row_computation(kiosk, facet):
    """Item-rest correlations, SDs, means and standardized alpha taken from the covariance
    matrix equal the per-item computation on the rows they replaced (kiosk study, 1e-12)."""
    cols = [KIOSK_PAIRS[i][facet] for items in KIOSK_DIMENSIONS.values() for i in items]
    res = cronbach_alpha(kiosk, cols)
    X = kiosk[cols].dropna().to_numpy()
    total = X.sum(axis=1)
    items = res.items.set_index("item")
    for j, col in enumerate(cols):
        assert items.loc[col, "item_total_r"] == pytest.approx(
            np.corrcoef(X[:, j], total - X[:, j])[0, 1], abs=1e-12)
        assert items.loc[col, "sd"] == pytest.approx(X[:, j].std(ddof=1), abs=1e-12)
        assert items.loc[col, "mean"] == pytest.approx(X[:, j].mean(), abs=1e-12)
    corr = np.corrcoef(X, rowvar=False)
    rbar = corr[np.triu_indices(len(cols), 1)].mean()
    assert res.alpha_std == pytest.approx(len(cols) * rbar / (1 + (len(cols) - 1) * rbar), abs=1e-12)
