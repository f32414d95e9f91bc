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


def test_derived_scores_equal_the_analysis_functions():
    """The per-respondent columns summed in the cells equal what analyse_survey computes them with."""
    import pandas as pd

    from analysis.instruments import compose_codebook, load_instruments
    from analysis.moment_cells import MomentLayout, derive
    from analysis.relationship import construct_scores
    from analysis.report import EMOTIONS, RELATIONSHIP, _rating_ranges, construct_columns
    from analysis.synthetic import synthetic_frame

    library = load_instruments()
    codebook = compose_codebook([(library[k], None) for k in ("servqual", "relationship", "emotions")])
    layout = MomentLayout.of(codebook)
    rows = synthetic_frame(codebook, 400, seed=4).query("status == 'complete'").reset_index(drop=True)
    rows["duration_seconds"] = np.nan
    derived = derive(rows, codebook, layout)
    kept = rows.loc[derived.index]
    constructs = construct_columns(codebook, RELATIONSHIP)
    reverse = [v.name for v in codebook.select(instrument=RELATIONSHIP) if v.reverse]
    scores = construct_scores(kept, constructs, reverse=reverse,
                              scale=_rating_ranges(codebook, [c for cs in constructs.values() for c in cs]))
    emotions = construct_scores(kept, construct_columns(codebook, EMOTIONS), min_items=1)
    assert reverse and len(derived) > 300
    for name in constructs:
        np.testing.assert_allclose(derived[f"construct|{name}"], scores[name], rtol=1e-12, equal_nan=True)
    for name in emotions:
        np.testing.assert_allclose(derived[f"emotion|{name}"], emotions[name], rtol=1e-12, equal_nan=True)
    assert isinstance(derived, pd.DataFrame)
