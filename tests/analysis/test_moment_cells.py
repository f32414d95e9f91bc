"""analysis.moment_cells: the p-value adjustments equal statsmodels' (a second implementation)."""
from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.moment_cells import holm


def test_holm_and_bh_equal_statsmodels():
    rng = np.random.default_rng(20261130)
    for _ in range(300):
        p = rng.random(rng.integers(1, 40)) ** 3
        p[rng.random(len(p)) < 0.1] = p[0]  # ties
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12, atol=0)
        np.testing.assert_allclose(stats.false_discovery_control(p, method="bh"),
                                   multipletests(p, method="fdr_bh")[1], rtol=1e-12, atol=0)
