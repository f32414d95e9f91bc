"""Issue 10, item 2 and 3: a missing optional part skips only that part, and the KANO
table counts questionable answers per feature instead of dropping respondents."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import kano
from analysis.common import InsufficientData
from analysis.instruments import compose_codebook, load_instruments
from analysis.report import ReportOptions, analyse_survey
from analysis.servqual import paired_gap_test
from tests.analysis.kiosk import KIOSK, read_kiosk_servqual, read_kiosk_kano

DATA = Path(__file__).resolve().parents[1] / "data"
OPTIONS = ReportOptions(n_boot=200, csi_boot=0)


@pytest.fixture(scope="module")
def library():
    return load_instruments()


def _kiosk_as_servqual(items: range) -> pd.DataFrame:
    """The kiosk study's pairs KS01..KS22 as the shipped SERVQUAL items SQ01..SQ22."""
    kiosk = read_kiosk_servqual(KIOSK)
    frame = kiosk[["response_id"]].copy()
    for i in items:
        for facet in ("E", "P"):
            frame[f"SQ{i:02d}_{facet}"] = kiosk[f"KS{i:02d}_{facet}"]
    return frame


def _with_every_column(frame: pd.DataFrame, codebook) -> pd.DataFrame:
    """Variables the file lacks are unanswered (what the CLI does)."""
    missing = {name: np.nan for name in codebook.names if name not in frame}
    return frame.assign(**missing)


def test_servqual_without_the_allocation_keeps_the_gap_table(library):
    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 23)), codebook)
    result = analyse_survey(frame, codebook, OPTIONS)
    assert result.servqual is not None
    assert len(result.servqual.items) == 22 and len(result.servqual.dimensions) == 5
    # the allocation is missing: only the weighted score (and stated-importance IPA) skipped
    assert "usable allocation" in result.skipped["servqual_weighted"]
    assert set(result.skipped) == {"servqual_weighted", "ipa_stated"}
    assert result.servqual.weights is None
    tables = result.tables()
    assert {"servqual_items", "servqual_dimensions", "servqual_overall"} <= set(tables)
    kiosk = read_kiosk_servqual(KIOSK)
    kept = kiosk[~kiosk["response_id"].isin(result.exclusion.excluded_ids)]
    item = result.servqual.items.set_index("item").loc["SQ01"]
    # the first kiosk pair tested directly on the respondents screening kept
    assert item["t"] == pytest.approx(paired_gap_test(kept["KS01_E"], kept["KS01_P"])["t"])


def test_servqual_with_empty_allocation_columns_skips_only_the_weighted_score(library):
    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 23)), codebook)
    # the CLI fills absent variables with NaN; pass the weights explicitly to the section
    from analysis import servqual
    from analysis.report import ep_pairs, pair_dimensions, servqual_weights
    pairs = ep_pairs(codebook, "servqual")
    res = servqual.servqual(frame, pairs, pair_dimensions(codebook, pairs),
                            weights=servqual_weights(codebook))
    assert "weighted" in res.skipped and "usable allocation" in res.skipped["weighted"]
    assert len(res.dimensions) == 5 and res.scores["score"].tolist() == ["unweighted"]


def test_only_pair_one_gives_that_pairs_test(library):
    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 2)), codebook)
    result = analyse_survey(frame, codebook, OPTIONS)
    items = result.servqual.items
    assert items["item"].tolist() == ["SQ01"]
    assert items["t"].iloc[0] == pytest.approx(-7.2268, abs=5e-5)   # the number
    assert "servqual_dimensions" in result.skipped and "servqual_overall" in result.skipped
    assert "servqual_items" in result.tables() and "servqual_dimensions" not in result.tables()
    assert "SERVQUAL ITEMS" in result.text() and "NOT COMPUTED" in result.text()


def test_kano_with_five_of_ten_features(library):
    codebook = compose_codebook([(library["kano"], None)])
    kiosk = read_kiosk_kano(KIOSK)
    frame = pd.DataFrame({"response_id": np.arange(1, len(kiosk) + 1)})
    for k in range(1, 6):
        for facet in ("F", "D"):
            frame[f"K{k:02d}_{facet}"] = kiosk[f"K{k:02d}_{facet}"]
    frame = _with_every_column(frame, codebook)
    result = analyse_survey(frame, codebook, ReportOptions(exclude_flagged=False, n_boot=200, csi_boot=0))
    assert list(result.kano.index) == ["K01", "K02", "K03", "K04", "K05"]
    direct = kano.kano_summary(frame, ["K01", "K02", "K03", "K04", "K05"])
    pd.testing.assert_frame_equal(result.kano, direct, check_like=True)
    assert {f"kano:K{k:02d}" for k in range(6, 11)} <= set(result.skipped)
    assert "kano" not in result.skipped


KANO_PAIR = {"A": (1, 3), "O": (1, 5), "M": (2, 5), "I": (3, 3), "R": (5, 1), "Q": (1, 1)}


def _worked_example_respondents() -> pd.DataFrame:
    """The stp25kano worked example (296 answers to 5 features) as respondents: for each
    feature the categories in the order A, O, M, I, R, Q down the rows, so the last three
    respondents give questionable answers to three features (Q on 3 of 5 pairs)."""
    ref = pd.read_csv(DATA / "kano_worked_example.csv")
    frame = pd.DataFrame({"response_id": np.arange(1, 297)})
    for k, row in enumerate(ref.itertuples(), start=1):
        pairs = [KANO_PAIR[c] for c in "AOMIRQ" for _ in range(getattr(row, c))]
        frame[f"K{k:02d}_F"] = [float(f) for f, _ in pairs]
        frame[f"K{k:02d}_D"] = [float(d) for _, d in pairs]
    return frame, ref


def test_kano_screening_keeps_the_published_better_coefficient(library):
    codebook = compose_codebook([(library["kano"], ["K01", "K02", "K03", "K04", "K05"])])
    frame, ref = _worked_example_respondents()
    result = analyse_survey(frame, codebook, OPTIONS)
    # Published (stp25kano README): Service app better = .568; the old screening
    # (respondents with more than 2 Q answers dropped from every analysis) gave 168/293 = .573.
    assert round(result.kano.loc["K01", "better"], 3) == 0.568
    np.testing.assert_allclose(result.kano["better"], ref["better"], atol=5e-4)
    assert result.kano[list("AOMIRQ")].to_numpy().tolist() == ref[list("AOMIRQ")].to_numpy().tolist()
    # The three respondents with Q on 3 of their 5 pairs (more than half) are still
    # flagged and left out of the other analyses.
    assert result.exclusion.excluded_ids == [294, 295, 296]
    assert round(168 / 293, 3) == 0.573


def test_kano_screening_threshold_is_a_share_of_answered_pairs(library):
    codebook = compose_codebook([(library["kano"], ["K01", "K02", "K03", "K04"])])
    frame = pd.DataFrame({"response_id": [1, 2, 3, 4],
                          "K01_F": [1, 1, 1, 1.0], "K01_D": [1, 1, 5, 5.0],
                          "K02_F": [2, 1, 1, 1.0], "K02_D": [5, 1, 5, 5.0],
                          "K03_F": [3, 3, 3, 1.0], "K03_D": [3, 3, 3, 1.0],
                          "K04_F": [3, np.nan, 2, 2.0], "K04_D": [3, np.nan, 5, 5.0]})
    # shares: 1/4, 2/3, 0/4, 2/4
    result = analyse_survey(frame, codebook, ReportOptions(n_boot=200, csi_boot=0))
    assert result.flags.set_index("response_id")["kano_questionable"].tolist() == [False, True, False, False]
    strict = analyse_survey(frame, codebook, ReportOptions(kano_questionable_share=0.2, n_boot=200,
                                                           csi_boot=0))
    assert strict.flags.set_index("response_id")["kano_questionable"].tolist() == [True, True, False, True]


def test_a_programming_error_is_not_reported_as_not_computed(library):
    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 23)), codebook)
    with pytest.raises(ValueError, match="zero_method"):
        analyse_survey(frame, codebook, ReportOptions(zero_method="zsplit", n_boot=200, csi_boot=0))
    assert issubclass(InsufficientData, ValueError)


def test_few_responses_are_marked(library):
    """The dashboard once showed a ratio class and a reliability at n = 6 without a word."""
    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 23)), codebook).head(6)
    result = analyse_survey(frame, codebook, ReportOptions(exclude_flagged=False, n_boot=200, csi_boot=0))
    servqual_methods = result.servqual.methods
    assert servqual_methods.min_n == 30 and servqual_methods.few_responses
    assert "FEW RESPONSES" in result.text()
    payload = result.report_json()
    methods = {row["analysis"]: row for row in payload["methods"]}
    assert methods["SERVQUAL gap analysis"]["few_responses"] is True
    assert methods["SERVQUAL gap analysis"]["min_n"] == 30
    assert result.satisfaction["servqual"].methods.few_responses
    big = analyse_survey(_with_every_column(_kiosk_as_servqual(range(1, 23)), codebook), codebook,
                         ReportOptions(n_boot=200, csi_boot=0))
    assert not big.servqual.methods.few_responses
    assert "FEW RESPONSES" not in big.text()


def test_report_json_has_numbers_and_nulls(library):
    import json

    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 2)), codebook)
    payload = analyse_survey(frame, codebook, OPTIONS).report_json()
    text = json.dumps(payload, allow_nan=False)
    assert set(payload) >= {"tables", "not_computed", "methods"}
    row = payload["tables"]["servqual_items"][0]
    assert isinstance(row["t"], float) and isinstance(row["n"], int)
    assert any(entry["section"] == "servqual_dimensions" for entry in payload["not_computed"])
    assert "methods" not in payload["tables"] and '"NaN"' not in text


def test_not_applicable_code_is_missing_to_the_statistics(library):
    from analysis.instruments import NOT_APPLICABLE_CODE

    codebook = compose_codebook([(library["servqual"], None)])
    frame = _with_every_column(_kiosk_as_servqual(range(1, 2)), codebook)
    marked = frame.copy()
    marked.loc[:9, "SQ01_E"] = NOT_APPLICABLE_CODE     # ten "not applicable" answers
    blanked = frame.copy()
    blanked.loc[:9, "SQ01_E"] = np.nan
    assert codebook.not_applicable_mask(marked)["SQ01_E"].sum() == 10
    a = analyse_survey(marked, codebook, OPTIONS).servqual.items
    b = analyse_survey(blanked, codebook, OPTIONS).servqual.items
    pd.testing.assert_frame_equal(a, b)
