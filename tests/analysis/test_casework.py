"""The unhappiness rule on its boundaries, the churn index's check on real data."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from analysis.casework import churn_check
from analysis.followup import UnhappinessRule, unhappy_customers

OFF = dict(overall_at_most=None, ratio_below=None, gap_below=None, negative_emotion_at_least=None,
           polarity_below=None)


@pytest.mark.parametrize("field,column,limit,values,expected", [
    ("overall_at_most", "overall", 4.0, [3.9, 4.0, 4.1], [True, True, False]),
    ("ratio_below", "ratio", 0.8, [0.79, 0.8, 0.81], [True, False, False]),
    ("gap_below", "gap", -1.5, [-1.6, -1.5, -1.4], [True, False, False]),
    ("negative_emotion_at_least", "negative_emotion", 5.0, [4.9, 5.0, 5.1], [False, True, True]),
    ("polarity_below", "polarity", -0.3, [-0.31, -0.3, -0.29], [True, False, False]),
])
def test_each_criterion_on_its_boundary(field, column, limit, values, expected):
    scores = pd.DataFrame({"response_id": [1, 2, 3], column: values})
    result = unhappy_customers(scores, UnhappinessRule(**{**OFF, field: limit}))
    assert result["unhappy"].tolist() == expected


def test_any_all_keywords_and_missing():
    scores = pd.DataFrame({"response_id": [1, 2, 3], "overall": [2.0, 2.0, None],
                           "comment": ["Hidden FEE again", "fine", "收费太高"]})
    any_rule = UnhappinessRule(**{**OFF, "overall_at_most": 4}, keywords=("fee", "收费"))
    assert unhappy_customers(scores, any_rule)["unhappy"].tolist() == [True, True, True]
    all_rule = UnhappinessRule(**{**OFF, "overall_at_most": 4}, keywords=("fee", "收费"), combine="all")
    # 3 has a keyword but no overall answer: under "all" a missing score does not hold.
    assert unhappy_customers(scores, all_rule)["unhappy"].tolist() == [True, False, False]
    with pytest.raises(ValueError):
        UnhappinessRule(combine="some")
    assert UnhappinessRule.from_json(all_rule.to_json()) == all_rule


def test_churn_index_ranks_low_repurchase_intention_on_real_data():
    """ECSI mobile-phone data (tests/data/mobi_ecsi.csv): low intention = CUSL1 <= 5 (56 of 250)."""
    data = pd.read_csv(Path(__file__).parent.parent / "data" / "mobi_ecsi.csv")
    predictors = {"satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
                  "image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"], "complaints": ["CUSCO"],
                  "value": ["PERV1", "PERV2"]}
    check = churn_check(data, predictors, {k: (1, 10) for k in predictors},
                        {k: False for k in predictors}, "CUSL1", 5, folds=5, seed=0)
    assert (check.n, check.n_low) == (250, 56)
    # Independent AUC: the Mann-Whitney U of the index between low and other customers / (n1 n0).
    index = sum((10 - data[cols].mean(axis=1)) / 9 for cols in predictors.values()) / len(predictors)
    low = data["CUSL1"] <= 5
    u = mannwhitneyu(index[low], index[~low]).statistic
    assert check.auc_index == pytest.approx(u / (low.sum() * (~low).sum()), abs=1e-12)
    assert check.auc_index > 0.7
    # Equal weights lose little against a cross-validated logistic regression.
    assert check.auc_logistic_cv - check.auc_index < 0.05

