"""Property tests (hypothesis) of the gap, the ratio and Cronbach's alpha."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.reliability import cronbach_alpha
from analysis.satisfaction import item_ratios, satisfaction_ratio
from analysis.servqual import gap_scores, servqual

# whole analyses run per example; a timing deadline would only measure how
# busy the machine is, so it is off and the example count kept moderate
FRAME_SETTINGS = settings(deadline=None, max_examples=50)


@st.composite
def ep_frames(draw, min_rows=3, max_rows=30, max_items=5, low=1, high=7):
    n = draw(st.integers(min_rows, max_rows))
    k = draw(st.integers(1, max_items))
    values = draw(arrays(np.float64, (n, k), elements=st.integers(low, high).map(float)))
    return pd.DataFrame(values, columns=[f"I{j}" for j in range(k)])


@FRAME_SETTINGS
@given(ep_frames())
def test_gap_of_identical_answers_is_zero(E):
    frame = pd.concat([E.add_suffix("_E"), E.add_suffix("_P")], axis=1)
    pairs = {c: (f"{c}_E", f"{c}_P") for c in E.columns}
    gaps = gap_scores(frame, pairs)
    assert (gaps[list(pairs)].to_numpy() == 0).all()
    res = servqual(frame, pairs, {"all": list(pairs)})
    assert (res.items["mean_gap"] == 0).all() and (res.items["share_negative"] == 0).all()
    assert res.scores.set_index("score").loc["unweighted", "value"] == 0


@FRAME_SETTINGS
@given(ep_frames(low=1, high=10))
def test_ratio_is_one_when_p_equals_e(E):
    frame = pd.concat([E.add_suffix("_E"), E.add_suffix("_P")], axis=1)
    pairs = {c: (f"{c}_E", f"{c}_P") for c in E.columns}
    res = satisfaction_ratio(frame, pairs, {"all": list(pairs)})
    for table in (res.items, res.dimensions, res.survey):
        np.testing.assert_allclose(table["ratio_of_means"], 1.0)
        np.testing.assert_allclose(table["mean_ratio"], 1.0)
        assert (table["class"] == "met").all()
    assert (res.respondents["class"] == "met").all()


@given(st.lists(st.tuples(st.integers(0, 10).map(float), st.integers(0, 10).map(float)),
                min_size=1, max_size=40))
@settings(deadline=None)
def test_ratio_undefined_not_infinite_when_e_is_zero(rows):
    frame = pd.DataFrame(rows, columns=["A_E", "A_P"])
    r = item_ratios(frame, {"A": ("A_E", "A_P")})["A"]
    assert not np.isinf(r).any()
    zero = frame["A_E"] == 0
    assert r[zero].isna().all()
    np.testing.assert_allclose(r[~zero], frame.loc[~zero, "A_P"] / frame.loc[~zero, "A_E"])


@FRAME_SETTINGS
@given(ep_frames(min_rows=4, max_items=6), st.randoms(use_true_random=False))
def test_alpha_unchanged_by_column_order(data, rnd):
    if data.shape[1] < 2 or data.sum(axis=1).var() == 0:
        data = data.assign(extra=np.arange(len(data), dtype=float) % 7 + 1)
    cols = list(data.columns)
    shuffled = cols[:]
    rnd.shuffle(shuffled)
    a, b = cronbach_alpha(data, cols), cronbach_alpha(data, shuffled)
    np.testing.assert_allclose(a.alpha, b.alpha, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose((a.ci_low, a.ci_high), (b.ci_low, b.ci_high), rtol=1e-10, atol=1e-12)
    left = a.items.set_index("item").sort_index()
    right = b.items.set_index("item").sort_index()
    np.testing.assert_allclose(left["alpha_if_deleted"], right["alpha_if_deleted"], rtol=1e-10, atol=1e-12)
