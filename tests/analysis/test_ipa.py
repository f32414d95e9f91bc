"""analysis.ipa checked against statsmodels OLS, scipy correlations and pandas means."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_IMPORTANCE, KIOSK_PAIRS, read_kiosk_servqual
from analysis.ipa import ipa

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"
PERF = {i: p for i, (_, p) in KIOSK_PAIRS.items()}


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(KIOSK)


def test_stated_importance_means_and_quadrants(kiosk):
    res = ipa(kiosk, PERF, importance_cols=KIOSK_IMPORTANCE)
    t = res.table.set_index("item")
    for item in PERF:
        assert t.loc[item, "performance"] == pytest.approx(kiosk[PERF[item]].mean())
        assert t.loc[item, "importance"] == pytest.approx(kiosk[KIOSK_IMPORTANCE[item]].mean())
    assert res.importance_split == pytest.approx(t["importance"].mean())
    assert res.performance_split == pytest.approx(t["performance"].mean())
    for item, row in t.iterrows():
        hi_i = row["importance"] >= res.importance_split
        hi_p = row["performance"] >= res.performance_split
        want = {(True, False): "concentrate here", (True, True): "keep up the good work",
                (False, False): "low priority", (False, True): "possible overkill"}[(hi_i, hi_p)]
        assert row["quadrant"] == want


def test_regression_importance_matches_unstandardized_ols(kiosk):
    items = ["KS01", "KS04", "KS10", "KS19", "KS22"]
    perf = {i: PERF[i] for i in items}
    res = ipa(kiosk, perf, importance="regression", overall="KSOV1")
    data = kiosk[[perf[i] for i in items] + ["KSOV1"]].dropna()
    fit = sm.OLS(data["KSOV1"], sm.add_constant(data[[perf[i] for i in items]])).fit()
    # standardized beta = b * sd(x) / sd(y)
    beta = [fit.params[perf[i]] * data[perf[i]].std() / data["KSOV1"].std() for i in items]
    np.testing.assert_allclose(res.table["importance"], beta, rtol=1e-10)
    assert res.r_squared == pytest.approx(fit.rsquared)
    np.testing.assert_allclose(res.table["performance"], data[[perf[i] for i in items]].mean())
    assert (res.table["n"] == len(data)).all()


def test_correlation_importance_matches_pearsonr(kiosk):
    res = ipa(kiosk, PERF, importance="correlation", overall="KSOV2")
    data = kiosk[list(PERF.values()) + ["KSOV2"]].dropna()
    for item, row in res.table.set_index("item").iterrows():
        r = stats.pearsonr(data[PERF[item]], data["KSOV2"])
        assert row["importance"] == pytest.approx(r.statistic)
        assert row["p"] == pytest.approx(r.pvalue)


def test_midpoint_split_and_labels():
    f = pd.DataFrame({"A_P": [6, 6, 7.0], "B_P": [2, 3, 2.0], "C_P": [3, 3, 3.0], "D_P": [6, 5, 6.0],
                      "A_I": [6, 7, 6.0], "B_I": [6, 6, 7.0], "C_I": [2, 3, 2.0], "D_I": [2, 2, 3.0]})
    perf = {k: f"{k}_P" for k in "ABCD"}
    imp = {k: f"{k}_I" for k in "ABCD"}
    res = ipa(f, perf, importance_cols=imp, split="midpoint", midpoints=(4, 4), min_n=3)
    assert res.table.set_index("item")["quadrant"].to_dict() == {
        "A": "keep up the good work", "B": "concentrate here", "C": "low priority", "D": "possible overkill"}
    assert "midpoints" in res.methods.notes[-1]


def test_errors(kiosk):
    with pytest.raises(ValueError, match="importance_cols"):
        ipa(kiosk, PERF)
    with pytest.raises(ValueError, match="overall"):
        ipa(kiosk, PERF, importance="regression")
    with pytest.raises(ValueError, match="midpoint"):
        ipa(kiosk, PERF, importance="correlation", overall="KSOV1", split="midpoint", midpoints=(4, 4))
    with pytest.raises(InsufficientData, match="at least 26 needed"):
        ipa(kiosk.iloc[:20], PERF, importance="regression", overall="KSOV1")
    with pytest.raises(ValueError, match="no importance column"):
        ipa(kiosk, PERF, importance_cols={"KS01": "KS01_IMP"})
