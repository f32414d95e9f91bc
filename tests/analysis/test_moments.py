"""Statistics from sufficient statistics equal the same statistics on the raw rows.

Data: the Korean kiosk SERVQUAL study in tests/data (real answers, see
tests/data README); a few answers are blanked (seeded) so pairwise counts
differ between columns. References: the project's own raw-row functions
(analysis.servqual.paired_gap_test), pandas, pingouin, statsmodels, scipy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.moments import (Moments, anova_oneway, correlations, cronbach_alpha, describe, ols,
                              paired_gaps)
from analysis.servqual import paired_gap_test

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def kiosk() -> pd.DataFrame:
    raw = pd.read_csv(KIOSK)
    answers = raw.iloc[:, 3:51].apply(pd.to_numeric, errors="coerce")
    answers.columns = [f"Q{k // 2 + 1:02d}_{'EP'[k % 2]}" for k in range(answers.shape[1])]
    rng = np.random.default_rng(20261130)
    holes = rng.random(answers.shape) < 0.04
    answers = answers.mask(holes)
    answers["use"] = raw.iloc[:, 2].astype("category").cat.codes  # how often they use kiosks
    return answers


@pytest.fixture(scope="module")
def pairs(kiosk):
    return {f"Q{i:02d}": (f"Q{i:02d}_E", f"Q{i:02d}_P") for i in range(1, 25)}


def test_kiosk_data_is_there(kiosk):
    assert len(kiosk) > 100 and kiosk.isna().any().any()


def test_describe_equals_pandas(kiosk):
    columns = [c for c in kiosk.columns if c != "use"]
    table = describe(Moments.from_frame(kiosk, columns)).set_index("variable")
    assert np.allclose(table["mean"], kiosk[columns].mean(), atol=TOLERANCE, rtol=0)
    assert np.allclose(table["sd"], kiosk[columns].std(), atol=TOLERANCE, rtol=0)
    assert (table["n"] == kiosk[columns].count()).all()


def test_paired_gaps_equal_the_raw_row_test(kiosk, pairs):
    columns = [c for pair in pairs.values() for c in pair]
    table = paired_gaps(Moments.from_frame(kiosk, columns), pairs).set_index("item")
    for item, (e, p) in pairs.items():
        raw = paired_gap_test(kiosk[e], kiosk[p])
        for key in ("n", "mean_E", "mean_P", "mean_gap", "sd_gap", "se_gap", "ci_low", "ci_high",
                    "t", "p_t", "d_z"):
            assert table.loc[item, key] == pytest.approx(raw[key], abs=TOLERANCE), (item, key)
        both = kiosk[[e, p]].dropna()
        assert table.loc[item, "ratio_of_means"] == pytest.approx(both[p].mean() / both[e].mean(),
                                                                  abs=TOLERANCE)


def test_pairwise_correlations_equal_pandas(kiosk):
    columns = [c for c in kiosk.columns if c.endswith("_P")]
    r, n = correlations(Moments.from_frame(kiosk, columns))
    expected = kiosk[columns].corr()
    assert np.abs(r.to_numpy() - expected.to_numpy()).max() < TOLERANCE
    counts = kiosk[columns].notna().astype(int)
    assert (n.to_numpy() == counts.T.to_numpy() @ counts.to_numpy()).all()


def test_alpha_equals_pingouin_listwise(kiosk):
    items = ["Q01_P", "Q02_P", "Q03_P", "Q04_P"]
    ours = cronbach_alpha(Moments.from_frame(kiosk, items, complete=True))
    reference, _ci = pg.cronbach_alpha(kiosk[items], nan_policy="listwise")
    assert ours["alpha"] == pytest.approx(reference, abs=TOLERANCE)
    assert ours["n"] == len(kiosk[items].dropna())


def test_alpha_refuses_pairwise_moments(kiosk):
    with pytest.raises(ValueError, match="complete=True"):
        cronbach_alpha(Moments.from_frame(kiosk, ["Q01_P", "Q02_P"]))


def test_ols_equals_statsmodels(kiosk):
    predictors = ["Q01_P", "Q05_P", "Q09_P"]
    data = kiosk[["Q24_P", *predictors]].dropna()
    ours = ols(Moments.from_frame(kiosk, ["Q24_P", *predictors], complete=True), "Q24_P", predictors)
    fit = sm.OLS(data["Q24_P"], sm.add_constant(data[predictors])).fit()
    assert np.allclose(ours["coef"], fit.params.to_numpy(), atol=TOLERANCE, rtol=0)
    assert np.allclose(ours["se"], fit.bse.to_numpy(), atol=TOLERANCE, rtol=0)
    assert ours["r2"] == pytest.approx(fit.rsquared, abs=TOLERANCE) and ours["n"] == len(data)


def _group_sums(data: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.DataFrame([{"group": g, "n": len(v), "sum": v.sum(), "sumsq": (v ** 2).sum()}
                         for g, v in data.groupby("use")[column]])


@pytest.mark.parametrize("column", ["Q10_P", "Q03_E", "Q20_P"])
def test_anova_equals_scipy_and_welch_equals_pingouin(kiosk, column):
    data = kiosk[["use", column]].dropna()
    spread = data.groupby("use")[column].transform("var") > 0  # Welch weights need variance
    data = data[spread]
    ours = anova_oneway(_group_sums(data, column))
    classic = stats.f_oneway(*[v.to_numpy() for _, v in data.groupby("use")[column]])
    assert ours["F"] == pytest.approx(classic.statistic, abs=1e-9)
    assert ours["p"] == pytest.approx(classic.pvalue, abs=1e-9)
    welch = pg.welch_anova(data=data, dv=column, between="use")
    assert ours["F_welch"] == pytest.approx(welch["F"].iloc[0], abs=1e-9)
    p_column = "p_unc" if "p_unc" in welch else "p-unc"
    assert ours["p_welch"] == pytest.approx(welch[p_column].iloc[0], abs=1e-9)


def test_welch_is_undefined_with_a_group_without_variance():
    groups = pd.DataFrame([{"group": 1, "n": 3, "sum": 15.0, "sumsq": 75.0},
                           {"group": 2, "n": 3, "sum": 12.0, "sumsq": 50.0}])
    result = anova_oneway(groups)
    assert np.isfinite(result["F"]) and np.isnan(result["F_welch"]) and np.isnan(result["p_welch"])


def _statistics(m: Moments, pairs) -> np.ndarray:
    gaps = paired_gaps(m, pairs)[["mean_gap", "sd_gap", "t", "ci_low", "ratio_of_means"]].to_numpy()
    r, _n = correlations(m)
    return np.concatenate([gaps.ravel(), r.to_numpy().ravel(), describe(m)["sd"].to_numpy()])


def test_updates_by_insert_and_delete_equal_a_full_recomputation(kiosk, pairs):
    columns = [c for pair in pairs.values() for c in pair]
    full = Moments.from_frame(kiosk, columns)
    # Responses arrive one by one...
    running = Moments.empty(columns)
    for _, row in kiosk[columns].iterrows():
        running = running + Moments.from_array(row.to_numpy()[None, :], columns)
    assert np.abs(_statistics(running, pairs) - _statistics(full, pairs)).max() < TOLERANCE
    # ...and some are deleted (erasure on request, a bad import undone).
    gone = kiosk.index[::7]
    remaining = running - Moments.from_frame(kiosk.loc[gone], columns)
    expected = Moments.from_frame(kiosk.drop(index=gone), columns)
    assert np.abs(_statistics(remaining, pairs) - _statistics(expected, pairs)).max() < TOLERANCE
    assert (remaining.n == expected.n).all()


def test_cells_merge_by_adding(kiosk, pairs):
    columns = [c for pair in pairs.values() for c in pair]
    by_age = [Moments.from_frame(part, columns) for _, part in kiosk.groupby("use")]
    merged = by_age[0]
    for cell in by_age[1:]:
        merged = merged + cell
    assert np.abs(_statistics(merged, pairs) - _statistics(Moments.from_frame(kiosk, columns), pairs)).max() \
        < TOLERANCE


def test_storage_round_trip_is_exact(kiosk):
    m = Moments.from_frame(kiosk, ["Q01_E", "Q01_P", "Q02_E"])
    back = Moments.from_bytes(m.to_bytes())
    assert back.columns == m.columns and all((getattr(back, a) == getattr(m, a)).all()
                                              for a in ("n", "sx", "sxx", "sxy"))


def test_mismatched_blocks_are_refused(kiosk):
    with pytest.raises(ValueError, match="different columns"):
        Moments.from_frame(kiosk, ["Q01_E"]) + Moments.from_frame(kiosk, ["Q01_P"])
    with pytest.raises(KeyError, match="no column"):
        Moments.from_frame(kiosk, ["nope"])
