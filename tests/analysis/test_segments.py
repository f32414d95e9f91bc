"""analysis.segments: filters, periods and group comparisons against scipy and pingouin."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_servqual
from analysis.segments import apply_filter, by_period, compare_groups, period_summary
from analysis.servqual import servqual

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture
def frame():
    return pd.DataFrame({
        "response_id": range(1, 7),
        "version": [1, 1, 2, 2, 2, 1],
        "branch": [1.0, 2.0, 1.0, 3.0, np.nan, 2.0],
        "submitted_at": pd.to_datetime(["2024-01-01 09:00", "2024-01-07 23:59", "2024-01-08 00:00",
                                        "2024-01-31 23:00", "2024-02-01 00:00", None], utc=True),
        "score": [1.0, 2, 3, 4, 5, 6],
    })


def test_segment_date_and_version_filters(frame):
    assert apply_filter(frame, {"branch": [1, 2]})["response_id"].tolist() == [1, 2, 3, 6]
    jan = apply_filter(frame, start="2024-01-01", end="2024-02-01")
    assert jan["response_id"].tolist() == [1, 2, 3, 4]
    both = apply_filter(frame, {"branch": [1]}, start="2024-01-05", versions=[2])
    assert both["response_id"].tolist() == [3]
    assert both.attrs["filter"]["n_before"] == 6 and both.attrs["filter"]["n_after"] == 1
    assert "branch in [1]" in both.attrs["filter"]["description"]
    assert apply_filter(frame).attrs["filter"]["description"] == "no filter"
    # bounds with a time zone are converted to UTC; the end is exclusive
    at = apply_filter(frame, end=pd.Timestamp("2024-01-08 08:00", tz="Asia/Shanghai"))
    assert at["response_id"].tolist() == [1, 2]
    after = apply_filter(frame, end=pd.Timestamp("2024-01-08 08:01", tz="Asia/Shanghai"))
    assert after["response_id"].tolist() == [1, 2, 3]


def test_filter_errors(frame):
    with pytest.raises(ValueError, match="not before"):
        apply_filter(frame, start="2024-02-01", end="2024-01-01")
    with pytest.raises(ValueError, match="channel"):
        apply_filter(frame, {"channel": [1]})
    with pytest.raises(ValueError, match="date"):
        apply_filter(frame, start="not a date")


def test_by_period_weeks_and_months(frame):
    weekly = by_period(frame, "W")["score"].sum()
    # Mon-Sun weeks: Jan 31 and Feb 1 share one; the undated response is left out
    assert weekly.tolist() == [3.0, 3.0, 9.0]
    monthly = by_period(frame, "M")["response_id"].count()
    assert monthly.to_dict() == {pd.Period("2024-01", "M"): 4, pd.Period("2024-02", "M"): 1}
    table = period_summary(frame, "score", "M")
    jan = table.iloc[0]
    x = np.array([1.0, 2, 3, 4])
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert (jan["n"], jan["mean"]) == (4, 2.5)
    assert (jan["ci_low"], jan["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert table.iloc[1]["note"] == "one response: no interval"


@pytest.fixture(scope="module")
def kiosk_scores():
    kiosk = read_kiosk_servqual(KIOSK)
    res = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS)
    return kiosk[["response_id", "use_frequency", "age_group", "gender"]].merge(
        res.respondents[["response_id", "unweighted"]])


def test_group_comparison_matches_scipy_and_pingouin(kiosk_scores):
    d = kiosk_scores
    res = compare_groups(d, "unweighted", "use_frequency")
    tests = res.tests.set_index("test")
    samples = [g["unweighted"].to_numpy() for _, g in d.groupby("use_frequency")]
    f = stats.f_oneway(*samples)
    assert tests.loc["ANOVA", "statistic"] == pytest.approx(f.statistic)
    assert tests.loc["ANOVA", "p"] == pytest.approx(f.pvalue)
    aov = pg.anova(data=d, dv="unweighted", between="use_frequency", detailed=True)
    assert tests.loc["ANOVA", "effect_size"] == pytest.approx(aov["SS"].iloc[0] / aov["SS"].sum())
    welch = pg.welch_anova(data=d, dv="unweighted", between="use_frequency")
    assert tests.loc["Welch ANOVA", "statistic"] == pytest.approx(welch["F"].iloc[0])
    assert tests.loc["Welch ANOVA", "df2"] == pytest.approx(welch["ddof2"].iloc[0])
    assert tests.loc["Welch ANOVA", "p"] == pytest.approx(welch["p_unc"].iloc[0])
    kw = pg.kruskal(data=d, dv="unweighted", between="use_frequency")
    assert tests.loc["Kruskal-Wallis", "statistic"] == pytest.approx(kw["H"].iloc[0])
    assert tests.loc["Kruskal-Wallis", "p"] == pytest.approx(kw["p_unc"].iloc[0])
    n = len(d)
    assert tests.loc["Kruskal-Wallis", "effect_size"] == pytest.approx(kw["H"].iloc[0] * (n + 1) / (n ** 2 - 1))
    assert res.groups["n"].tolist() == [len(s) for s in samples]
    assert res.methods.n_used == n


def test_small_groups_dropped_and_reported(kiosk_scores):
    res = compare_groups(kiosk_scores, "unweighted", "age_group", min_group_n=3)
    assert res.dropped.set_index("group")["n"].to_dict() == {1.0: 2, 3.0: 2, 4.0: 1}
    assert res.groups["group"].tolist() == [2.0, 5.0]
    assert any("fewer than 3" in n for n in res.methods.notes)


def test_one_group_left_raises(kiosk_scores):
    with pytest.raises(InsufficientData, match="groups with at least 50 cases"):
        compare_groups(kiosk_scores, "unweighted", "age_group", min_group_n=50)


def test_posthoc_match_pingouin_and_scikit_posthocs(kiosk_scores):
    """Tukey HSD and Games-Howell against pingouin 0.7, Dunn-Holm against scikit-posthocs,
    on the kiosk study's SERVQUAL score by age group (real answers)."""
    import scikit_posthocs as sp

    d = kiosk_scores.dropna(subset=["unweighted", "age_group"])
    result = compare_groups(d, "unweighted", "age_group")
    d = d[d["age_group"].isin(result.groups["group"])]  # pingouin keeps one-case groups
    post = result.posthoc
    tukey = pg.pairwise_tukey(d, dv="unweighted", between="age_group")
    ours = post[post["method"] == "Tukey HSD"].reset_index(drop=True)
    assert ours["group_a"].tolist() == tukey["A"].tolist()
    np.testing.assert_allclose(ours["difference"], tukey["diff"], rtol=1e-10)
    np.testing.assert_allclose(ours["se"], tukey["se"], rtol=1e-10)
    np.testing.assert_allclose(ours["statistic"], tukey["T"], rtol=1e-10)
    np.testing.assert_allclose(ours["p_adjusted"], tukey["p_tukey"], rtol=1e-6, atol=1e-9)
    games = pg.pairwise_gameshowell(d, dv="unweighted", between="age_group")
    ours = post[post["method"] == "Games-Howell"].reset_index(drop=True)
    np.testing.assert_allclose(ours["statistic"], games["T"], rtol=1e-10)
    np.testing.assert_allclose(ours["p_adjusted"], games["pval"], rtol=1e-6, atol=1e-9)
    dunn = sp.posthoc_dunn(d, val_col="unweighted", group_col="age_group", p_adjust="holm")
    ours = post[post["method"] == "Dunn"]
    for row in ours.itertuples():
        assert row.p_adjusted == pytest.approx(dunn.loc[row.group_a, row.group_b], rel=1e-9)
    raw = sp.posthoc_dunn(d, val_col="unweighted", group_col="age_group")
    for row in ours.itertuples():
        assert row.p == pytest.approx(raw.loc[row.group_a, row.group_b], rel=1e-9)


def test_constant_score_is_undefined_not_a_programming_error():
    from analysis.common import InsufficientData

    f = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [1.0, 1, 2, 2]})
    with pytest.raises(InsufficientData, match="constant within every group"):
        compare_groups(f, "y", "g")
