import pandas as pd
import pytest

from analysis.followup import FollowUpThresholds, follow_up_list


@pytest.fixture
def frame():
    return pd.DataFrame({"response_id": [1, 2, 3, 4, 5],
                         "contact_ok": [True, True, False, True, True]})


def test_lists_only_consenting_customers_over_a_threshold(frame):
    ratio = pd.Series([0.7, 0.95, 0.5, 0.79, 1.1], index=[1, 2, 3, 4, 5])
    gap = pd.Series([-2.0, -0.2, -3.0, -0.1, 0.3], index=[1, 2, 3, 4, 5])
    negative = pd.Series([2.0, 6.0, 7.0, 1.0, None], index=[1, 2, 3, 4, 5])
    table = follow_up_list(frame, FollowUpThresholds(0.8, -1.5, 5.0), ratio=ratio, gap=gap,
                           negative_emotion=negative)
    # 3 did not consent; 5 crosses nothing (its missing emotion is not a reason).
    assert list(table["response_id"]) == [1, 4, 2]
    assert table.loc[0, "n_reasons"] == 2
    assert "ratio P/E 0.70 < 0.8" in table.loc[0, "reasons"]
    assert "negative emotion 6.0 >= 5" in table.loc[2, "reasons"]


def test_criteria_can_be_switched_off(frame):
    ratio = pd.Series([0.1, 0.1, 0.1, 0.1, 0.1], index=[1, 2, 3, 4, 5])
    table = follow_up_list(frame, FollowUpThresholds(None, None, None), ratio=ratio)
    assert table.empty


def test_needs_consent_column():
    with pytest.raises(ValueError, match="contact_ok"):
        follow_up_list(pd.DataFrame({"response_id": [1]}), FollowUpThresholds())
