"""The cross-product bootstrap equals the textbook one: copy the resampled rows, refit OLS."""
import numpy as np
import pytest

from analysis.relationship import _bootstrap_indirect


@pytest.mark.parametrize("n_cov", [0, 2])
def test_same_draws_same_indirect_effects(n_cov):
    rng = np.random.default_rng(11)
    n = 400
    cov = rng.normal(size=(n, n_cov))
    x = rng.normal(size=n)
    m = 0.5 * x + cov.sum(axis=1) * 0.1 + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    fast = _bootstrap_indirect(x, m, y, cov, 300, np.random.default_rng(3), chunk_bytes=8 * n * 7)

    draws = np.random.default_rng(3)
    naive = []
    for _ in range(300):
        idx = draws.integers(0, n, n)
        design_m = np.column_stack([np.ones(n), x[idx], cov[idx]])
        design_y = np.column_stack([np.ones(n), x[idx], m[idx], cov[idx]])
        a = np.linalg.lstsq(design_m, m[idx], rcond=None)[0][1]
        b = np.linalg.lstsq(design_y, y[idx], rcond=None)[0][2]
        naive.append(a * b)
    np.testing.assert_allclose(fast, naive, rtol=1e-9)
