"""analysis.screening: rules, flags and the exclusion report."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.common import InsufficientData
from tests.analysis.kiosk import KIOSK_PAIRS, read_kiosk_servqual
from analysis.screening import (RuleResult, exclude, flag_responses, identical_e_p,
                                rule_from_series, straightlining, too_fast)

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture
def frame():
    return pd.DataFrame({
        "response_id": [10, 11, 12, 13, 14],
        "duration_seconds": [600.0, 540, 150, 660, np.nan],
        "A_E": [7, 5, 6, 4, 7.0], "A_P": [7, 4, 6, 4, 6.0],
        "B_E": [7, 6, 6, 5, np.nan], "B_P": [7, 6, 6, 3, 6.0],
        "C_E": [7, 6, 6, 5, 7.0], "C_P": [7, 5, 6, 5, np.nan],
    })


PAIRS = {"A": ("A_E", "A_P"), "B": ("B_E", "B_P"), "C": ("C_E", "C_P")}


def test_straightlining(frame):
    res = straightlining(["A_E", "B_E", "C_E"], name="sl_E")(frame)
    assert res.flagged.tolist() == [True, False, True, False, False]   # row 14: only 2 answered
    assert "same answer (7)" in res.reason.iloc[0] and res.reason.iloc[1] == ""
    loose = straightlining(["A_E", "B_E", "C_E"], min_answered=2)(frame)
    assert loose.flagged.iloc[4]


def test_too_fast_third_of_median(frame):
    res = too_fast()(frame)
    median = frame["duration_seconds"].median()           # 570
    expected = (frame["duration_seconds"] < median / 3).tolist()
    assert res.flagged.tolist() == expected == [False, False, True, False, False]
    assert "190 s" in res.description
    fixed = too_fast(seconds=560)(frame)
    assert fixed.flagged.tolist() == [False, True, True, False, False]


def test_identical_e_and_p(frame):
    res = identical_e_p(PAIRS)(frame)
    assert res.flagged.tolist() == [True, False, True, False, False]


def test_flags_and_exclusion_report(frame):
    rules = [straightlining(["A_E", "B_E", "C_E"], name="sl_E"), too_fast(), identical_e_p(PAIRS)]
    flags = flag_responses(frame, rules)
    assert list(flags.columns) == ["response_id", "sl_E", "too_fast", "identical_e_p", "flagged", "reasons"]
    assert flags["flagged"].tolist() == [True, False, True, False, False]
    assert flags.loc[2, "reasons"].count(";") == 2          # three rules hit response 12
    kept, report = exclude(frame, flags)
    assert kept["response_id"].tolist() == [11, 13, 14]
    assert (report.n_before, report.n_after, report.n_excluded) == (5, 3, 2)
    assert report.by_rule.set_index("rule")["n_flagged"].to_dict() == {"sl_E": 2, "too_fast": 1,
                                                                      "identical_e_p": 2}
    assert report.excluded_ids == [10, 12]
    assert report.methods.n_excluded == 2 and report.methods.n_used == 3
    only_fast, rep2 = exclude(frame, flags, rules=["too_fast"])
    assert only_fast["response_id"].tolist() == [10, 11, 13, 14] and rep2.n_excluded == 1


def test_adding_a_rule_is_adding_a_callable(frame):
    # e.g. the KANO questionable rate, computed per respondent elsewhere
    q_share = pd.Series([0.0, 0.5, 0.1], index=[10, 11, 12])
    kano = rule_from_series("kano_questionable", q_share > 0.3, "over 30% questionable answers")

    def long_gap(f: pd.DataFrame) -> RuleResult:
        flagged = (f["A_P"] - f["A_E"]).abs() >= 1
        return RuleResult("big_gap", flagged, flagged.map({True: "gap >= 1", False: ""}), "big A gap")

    flags = flag_responses(frame, [kano, long_gap])
    assert flags["kano_questionable"].tolist() == [False, True, False, False, False]
    assert flags["big_gap"].tolist() == [False, True, False, False, True]
    assert flags.loc[1, "reasons"] == "kano_questionable: over 30% questionable answers; big_gap: gap >= 1"
    assert flags.attrs["rules"]["big_gap"] == "big A gap"


def test_rule_errors(frame):
    with pytest.raises(ValueError, match="distinct names"):
        flag_responses(frame, [too_fast(), too_fast()])
    with pytest.raises(ValueError, match="not RuleResult"):
        flag_responses(frame, [lambda f: f["A_E"] > 5])
    with pytest.raises(ValueError, match="no such rule"):
        exclude(frame, flag_responses(frame, [too_fast()]), rules=["nope"])
    with pytest.raises(ValueError, match="Z_E"):
        flag_responses(frame, [straightlining(["Z_E", "A_E"])])
    with pytest.raises(InsufficientData):
        too_fast()(frame.iloc[:2])
    with pytest.raises(ValueError, match="bool"):
        rule_from_series("x", pd.Series([0.1]), "r")


def test_kiosk_screening_counts_match_pandas():
    kiosk = read_kiosk_servqual(KIOSK)
    E = kiosk[[e for e, _ in KIOSK_PAIRS.values()]]
    P = kiosk[[p for _, p in KIOSK_PAIRS.values()]]
    flags = flag_responses(kiosk, [straightlining(list(E), name="sl_E"), identical_e_p(KIOSK_PAIRS)])
    assert flags["sl_E"].sum() == (E.nunique(axis=1) == 1).sum()
    same = (E.to_numpy() == P.to_numpy()).all(axis=1)
    assert flags["identical_e_p"].sum() == same.sum()
    kept, report = exclude(kiosk, flags)
    assert report.n_after == len(kept) == 211 - flags["flagged"].sum()
