"""The cross-product bootstrap equals the textbook one: copy the resampled rows, refit OLS."""
import numpy as np
import pandas as pd
import pytest

from analysis.relationship import _bootstrap_indirect


def _textbook(x, m, y, cov, n_boot, draws):
    """Each resample as rows: the distinct rows repeated by the multinomial counts, refitted by lstsq."""
    n = len(x)
    z = np.column_stack([np.ones(n), x, cov, m, y])
    distinct, frequency = np.unique(z, axis=0, return_counts=True)
    out = []
    for _ in range(n_boot):
        rows = np.repeat(distinct, draws.multinomial(n, frequency / n), axis=0)
        xs, covs, ms, ys = rows[:, 1], rows[:, 2:-2], rows[:, -2], rows[:, -1]
        a = np.linalg.lstsq(np.column_stack([np.ones(n), xs, covs]), ms, rcond=None)[0][1]
        b = np.linalg.lstsq(np.column_stack([np.ones(n), xs, ms, covs]), ys, rcond=None)[0][2]
        out.append(a * b)
    return np.array(out)


@pytest.mark.parametrize("n_cov", [0, 2])
def test_same_draws_same_indirect_effects(n_cov):
    rng = np.random.default_rng(11)
    n = 400
    cov = rng.normal(size=(n, n_cov))
    x = rng.normal(size=n)
    m = 0.5 * x + cov.sum(axis=1) * 0.1 + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    fast = _bootstrap_indirect(x, m, y, cov, 300, np.random.default_rng(3), chunk_bytes=8 * n * 7)
    naive = _textbook(x, m, y, cov, 300, np.random.default_rng(3))
    np.testing.assert_allclose(fast, naive, rtol=1e-9)


def test_same_draws_on_likert_scores_with_repeated_rows():
    """Survey scores repeat (means of 1-7 answers): the resample is drawn over the distinct rows."""
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.integers(1, 8, size=(n, 3)).mean(axis=1)
    m = np.clip(np.round(0.5 * x + rng.normal(size=n) + 2), 1, 7)
    y = np.clip(np.round(0.4 * m + 0.2 * x + rng.normal(size=n) + 1), 1, 7)
    assert len(np.unique(np.column_stack([x, m, y]), axis=0)) < n / 5
    fast = _bootstrap_indirect(x, m, y, np.empty((n, 0)), 200, np.random.default_rng(8))
    naive = _textbook(x, m, y, np.empty((n, 0)), 200, np.random.default_rng(8))
    np.testing.assert_allclose(fast, naive, rtol=1e-9)


def test_distribution_equals_the_uniform_row_bootstrap():
    """Drawing n rows uniformly (the classic bootstrap) gives the same distribution of a*b:
    both bootstrap SEs and percentile limits agree within Monte Carlo error."""
    rng = np.random.default_rng(21)
    n = 500
    x = rng.integers(1, 6, size=(n, 2)).mean(axis=1)
    m = np.clip(np.round(0.6 * x + rng.normal(size=n)), 1, 5)
    y = np.clip(np.round(0.5 * m + rng.normal(size=n)), 1, 5)
    fast = _bootstrap_indirect(x, m, y, np.empty((n, 0)), 4000, np.random.default_rng(1))
    draws = np.random.default_rng(2)
    classic = []
    for _ in range(4000):
        idx = draws.integers(0, n, n)
        xs, ms, ys = x[idx], m[idx], y[idx]
        a = np.polyfit(xs, ms, 1)[0]
        b = np.linalg.lstsq(np.column_stack([np.ones(n), xs, ms]), ys, rcond=None)[0][2]
        classic.append(a * b)
    classic = np.array(classic)
    se = classic.std(ddof=1)
    # SE of a bootstrap SE from B resamples is about se / sqrt(2B): 1.1% here.
    assert fast.std(ddof=1) == pytest.approx(se, rel=0.06)
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(fast, q) == pytest.approx(np.quantile(classic, q), abs=0.15 * se)


def test_distinct_rows_equal_numpy_unique():
    from analysis.relationship import _distinct_rows
    rng = np.random.default_rng(4)
    z = np.column_stack([np.ones(2000), rng.integers(1, 8, (2000, 3)) / 3, rng.normal(size=2000).round(1)])
    for values in (z, rng.normal(size=(200, 12))):  # the second overflows 63 bits: numpy's path
        distinct, frequency = _distinct_rows(values)
        expected, counts = np.unique(values, axis=0, return_counts=True)
        np.testing.assert_array_equal(distinct, expected)
        np.testing.assert_array_equal(frequency, counts)
