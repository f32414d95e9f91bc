"""The faster computations of the full analysis equal the library computations they replace.

Each test runs the new path and the one it replaced (scipy, statsmodels,
numpy, a whole-frame copy) on real data (tests/data: the Korean kiosk study,
the plspm satisfaction and mobile-phone ECSI data) and on a synthetic survey,
and compares to 1e-9 or exactly where the new path is exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.csi import ECSI_PATHS, _block_correlations, _fit, _structural_model, csi_model
from analysis.instruments import compose_codebook, load_instruments
from analysis.io import compact_answer_frame
from analysis.report import AnalysedRows, ReportOptions, analyse_survey, screening_rules
from analysis import screening
from analysis.segments import compare_groups, kruskal_wallis, period_summary
from analysis.servqual import holm, servqual
from analysis.synthetic import synthetic_frame
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_servqual

DATA = Path(__file__).resolve().parents[1] / "data"
KIOSK = DATA / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(KIOSK)


@pytest.fixture(scope="module")
def codebook():
    library = load_instruments()
    return compose_codebook([(library[key], None) for key in
                             ("profile", "servqual", "kano", "relationship", "emotions", "overall")])


@pytest.fixture(scope="module")
def survey(codebook):
    frame = synthetic_frame(codebook, 3000, seed=11, end=pd.Timestamp("2026-01-01", tz="UTC"))
    return frame[frame["status"] == "complete"].reset_index(drop=True)


def test_kruskal_wallis_equals_scipy_on_the_kiosk_study(kiosk):
    """Tie-heavy Likert answers and continuous respondent gaps, every profile grouping."""
    gaps = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS).respondents.merge(kiosk, on="response_id")
    for group in ("use_frequency", "age_group", "gender"):
        for score in ("unweighted", "KS01_P", "KSOV1"):
            data = gaps[[group, score]].dropna()
            samples = [g[score].to_numpy(dtype=float) for _, g in data.groupby(group)]
            mine, ref = kruskal_wallis(samples), stats.kruskal(*samples)
            assert mine.statistic == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
            assert mine.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_kruskal_wallis_equals_scipy_on_a_large_tied_sample():
    rng = np.random.default_rng(5)
    samples = [np.rint(rng.normal(4 + 0.05 * g, 1.3, 20_000)).clip(1, 7) / rng.integers(1, 4)
               for g in range(5)]
    mine, ref = kruskal_wallis(samples), stats.kruskal(*samples)
    assert mine.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert mine.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_kruskal_wallis_rejects_bad_input():
    with pytest.raises(ValueError, match="two groups"):
        kruskal_wallis([np.array([1.0, 2.0])])
    with pytest.raises(ValueError, match="missing"):
        kruskal_wallis([np.array([1.0, np.nan]), np.array([2.0, 3.0])])


def test_holm_equals_statsmodels_on_the_kiosk_item_tests(kiosk):
    items = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS).items
    for column in ("p_t", "p_wilcoxon"):
        p = items[column].dropna().to_numpy()
        assert np.array_equal(holm(p), multipletests(p, method="holm")[1])
    rng = np.random.default_rng(2)
    for m in (1, 2, 7, 40):
        p = rng.random(m) ** 4
        p[: m // 3] = p[-1]  # ties
        assert np.array_equal(holm(p), multipletests(p, method="holm")[1])


def test_period_summary_equals_the_whole_frame_grouping(survey):
    """Grouping the score column alone gives the numbers of grouping the frame."""
    frame = survey.assign(score=survey["SQ01_P"] - survey["SQ01_E"])
    table = period_summary(frame, "score", "W")
    periods = frame["submitted_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("W")
    by_hand = frame.groupby(periods)["score"].agg(["count", "mean", "std"])
    assert table["n"].tolist() == by_hand["count"].tolist()
    np.testing.assert_allclose(table["mean"], by_hand["mean"], rtol=1e-12)
    np.testing.assert_allclose(table["sd"], by_hand["std"], rtol=1e-12)


def test_compare_groups_kruskal_row_equals_scipy(survey):
    scores = survey.assign(gap=survey["SQ05_P"] - survey["SQ05_E"])
    for segment in ("PR_CHANNEL", "PR_BRANCH", "PR_FREQ"):
        res = compare_groups(scores, "gap", segment)
        data = scores[[segment, "gap"]].dropna()
        samples = [g["gap"].to_numpy() for _, g in data.groupby(segment)]
        row = res.tests.set_index("test").loc["Kruskal-Wallis"]
        ref = stats.kruskal(*samples)
        assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("name, blocks, scale", [
    ("satisfaction_plspm.csv", {
        "image": [f"imag{i}" for i in range(1, 6)], "expectation": [f"expe{i}" for i in range(1, 6)],
        "quality": [f"qual{i}" for i in range(1, 6)], "value": [f"val{i}" for i in range(1, 5)],
        "satisfaction": [f"sat{i}" for i in range(1, 5)], "loyalty": [f"loy{i}" for i in range(1, 5)]},
     (0, 10)),
    ("mobi_ecsi.csv", {
        "image": [f"IMAG{i}" for i in range(1, 6)], "expectation": [f"CUEX{i}" for i in range(1, 4)],
        "quality": [f"PERQ{i}" for i in range(1, 8)], "value": ["PERV1", "PERV2"],
        "satisfaction": ["CUSA1", "CUSA2", "CUSA3"], "complaints": ["CUSCO"],
        "loyalty": ["CUSL1", "CUSL2", "CUSL3"]}, (1, 10)),
])
def test_block_correlations_from_the_fit_equal_numpy(name, blocks, scale):
    data = pd.read_csv(DATA / name, index_col=0)
    complete = data[[c for cols in blocks.values() for c in cols]].dropna()
    model, _ = _structural_model(complete, blocks, ECSI_PATHS)
    fit = _fit(complete, model, "centroid")
    for items in blocks.values():
        expected = np.corrcoef(complete[items].to_numpy(), rowvar=False).reshape(len(items), len(items))
        np.testing.assert_allclose(_block_correlations(complete, fit, items), expected, rtol=0, atol=1e-12)
    # and the block-quality table built from them still runs end to end
    assert csi_model(data, blocks, scale=scale, n_boot=0).constructs["n_items"].sum() == len(complete.columns)


@pytest.mark.parametrize("standardize", [True, False])
def test_pls_fit_and_index_centred_a_block_of_rows_at_a_time_equal_the_whole_matrix(monkeypatch, standardize):
    """Above ROW_BLOCK rows the fit centres the item matrix and the CSI computes the
    respondent index block by block; with blocks of 37 rows (the mobile-phone ECSI data,
    250 respondents: 7 blocks) every estimate equals the one-block computation."""
    from analysis import pls
    from analysis.csi import _respondent_index

    data = pd.read_csv(DATA / "mobi_ecsi.csv", index_col=0)
    blocks = {"image": [f"IMAG{i}" for i in range(1, 6)], "expectation": [f"CUEX{i}" for i in range(1, 4)],
              "quality": [f"PERQ{i}" for i in range(1, 8)], "value": ["PERV1", "PERV2"],
              "satisfaction": ["CUSA1", "CUSA2", "CUSA3"], "complaints": ["CUSCO"],
              "loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
    model, _ = _structural_model(data, blocks, ECSI_PATHS)
    items = data[model.items].astype("float64")

    scale = pd.DataFrame({"min": 1.0, "max": 10.0}, index=model.items)
    whole = pls.fit_pls(items, model, standardize=standardize)
    whole_index = _respondent_index(items, whole, scale)
    monkeypatch.setattr(pls, "ROW_BLOCK", 37)
    monkeypatch.setattr("analysis.csi.ROW_BLOCK", 37)
    blocked = pls.fit_pls(items, model, standardize=standardize)
    # the index formula row by row: the same fit gives the same numbers in any blocks
    blocked_index = _respondent_index(items, whole, scale)
    for table in ("paths", "outer", "r2", "scores", "item_covariance"):
        left, right = getattr(whole, table), getattr(blocked, table)
        numeric = left.select_dtypes("number").columns
        np.testing.assert_allclose(right[numeric].to_numpy(), left[numeric].to_numpy(),
                                   rtol=1e-12, atol=1e-12, err_msg=table)
    pd.testing.assert_frame_equal(blocked_index, whole_index, check_exact=True)


def test_analysed_rows_equal_the_screened_frame(survey, codebook):
    """Each section's copy holds exactly the rows and values of the whole-frame filter."""
    options = ReportOptions()
    flags = screening.flag_responses(survey, screening_rules(survey, codebook, options))
    kept, _ = screening.exclude(survey, flags)
    assert len(kept) < len(survey)  # the synthetic speeders are screened out
    rows = AnalysedRows(survey, codebook, survey["response_id"].isin(kept["response_id"]).to_numpy())
    columns = ["SQ01_E", "SQ01_P", "OV01_P"]
    part = rows.of(columns)
    pd.testing.assert_frame_equal(part, kept[rows.meta + columns])
    assert len(rows) == len(kept)


def test_full_report_on_the_synthetic_survey_is_unchanged_by_section_copies(survey, codebook):
    """analyse_survey on the frame equals analyse_survey on the frame already screened
    (with screening off): the section copies hold the same rows as the old whole-frame copy."""
    options = ReportOptions(n_boot=200, csi_boot=0)
    full = analyse_survey(survey, codebook, options)
    flags = screening.flag_responses(survey, screening_rules(survey, codebook, options))
    kept, _ = screening.exclude(survey, flags)
    again = analyse_survey(kept, codebook, ReportOptions(n_boot=200, csi_boot=0, exclude_flagged=False))
    for name in ("servqual_items", "servqual_dimensions", "ratio_servqual_items", "regressions",
                 "correlations", "reliability_constructs", "csi_paths", "csi_index", "segment_tests"):
        left, right = full.tables()[name], again.tables()[name]
        numeric = left.select_dtypes("number").columns
        np.testing.assert_allclose(left[numeric].to_numpy(float), right[numeric].to_numpy(float),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("exclude_flagged, fractional", [(True, "EM_JOY"), (False, "EM_JOY"),
                                                          (True, "SQW_TAN")])
def test_full_report_on_the_compact_frame_equals_the_float64_frame(survey, codebook, exclude_flagged,
                                                                  fractional):
    """The job's loader holds answers as float32 (compact_answer_frame); every table,
    the per-respondent ones included, equals the float64 frame's exactly: the sections
    read float64 copies, so every sum and cross-product is the same computation."""
    answers = [c for c in survey.columns if c in set(codebook.names)]
    # 2% blanks, some "not applicable" codes and a column float32 cannot hold exactly.
    rng = np.random.default_rng(2)
    frame = survey.copy()
    for column in answers:
        frame.loc[rng.random(len(frame)) < 0.02, column] = np.nan
    frame.loc[rng.random(len(frame)) < 0.01, "SQ03_P"] = -98.0
    # (an emotion item, outside the E/P block the sections read as stored; or an
    # importance column, which makes that block float64)
    frame[fractional] = frame[fractional] + 0.1 * (frame.index % 2)
    compact = compact_answer_frame([frame.iloc[:1000], frame.iloc[1000:]], answers, capacity=500)
    assert compact["SQ01_E"].dtype == np.float32 and compact[fractional].dtype == np.float64
    pd.testing.assert_frame_equal(compact.astype({c: "float64" for c in answers})[frame.columns],
                                  frame.reset_index(drop=True))
    options = ReportOptions(n_boot=200, csi_boot=50, exclude_flagged=exclude_flagged)
    wide, narrow = analyse_survey(frame, codebook, options), analyse_survey(compact, codebook, options)
    assert (wide.n_used, wide.skipped) == (narrow.n_used, narrow.skipped)
    left, right = wide.tables(posthoc=True), narrow.tables(posthoc=True)
    assert list(left) == list(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True, obj=name)
    for attribute in ("respondent_scores", "construct_scores", "emotion_scores", "flags"):
        pd.testing.assert_frame_equal(getattr(wide, attribute), getattr(narrow, attribute),
                                      check_exact=True, obj=attribute)
    pd.testing.assert_frame_equal(wide.satisfaction["servqual"].respondents,
                                  narrow.satisfaction["servqual"].respondents, check_exact=True)
    pd.testing.assert_frame_equal(wide.servqual.respondents, narrow.servqual.respondents,
                                  check_exact=True)


def test_correlations_of_complete_columns_equal_numpy_per_pair(kiosk):
    """One cross-product for the columns without missing values; pairs with a gap
    keep the per-pair path. Both equal numpy.corrcoef on the pair's rows."""
    from analysis.relationship import construct_correlations

    scores = kiosk[["KS01_P", "KS02_P", "KS03_P", "KSOV1", "KSOV2"]].astype(float).copy()
    scores.loc[scores.index[:7], "KSOV2"] = np.nan  # one column with gaps
    scores["constant"] = 4.0                          # no correlation defined
    table = construct_correlations(scores).set_index(["x", "y"])
    for (x, y), row in table.iterrows():
        pair = scores[[x, y]].dropna()
        assert row["n"] == len(pair)
        if pair[x].nunique() < 2 or pair[y].nunique() < 2:
            assert np.isnan(row["r"]) and np.isnan(row["p"])
            continue
        ref = stats.pearsonr(pair[x], pair[y])
        assert row["r"] == pytest.approx(ref.statistic, rel=1e-12, abs=1e-14)
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_servqual_dimension_means_equal_pandas_row_means(kiosk):
    """Respondents' dimension means (on the matrices) equal DataFrame.mean(axis=1)."""
    from analysis.common import paired_blocks
    from analysis.servqual import _dimension_means

    frame = kiosk.copy()
    frame.loc[frame.index[::9], "KS02_P"] = np.nan  # incomplete dimensions
    E, P, complete = paired_blocks(frame, KIOSK_PAIRS)
    for share in (1.0, 0.5):
        dim_E, dim_P = _dimension_means(E, P, complete, KIOSK_DIMENSIONS, share)
        for dim, its in KIOSK_DIMENSIONS.items():
            enough = complete[its].sum(axis=1) / len(its) >= share - 1e-12
            pd.testing.assert_series_equal(dim_E[dim], E[its].mean(axis=1).where(enough), check_names=False)
            pd.testing.assert_series_equal(dim_P[dim], P[its].mean(axis=1).where(enough), check_names=False)


def test_not_applicable_codes_become_missing_without_touching_the_callers_frame(codebook, survey):
    """Column by column: the same frame as masking every coded column at once."""
    from analysis.instruments import NOT_APPLICABLE_CODE

    frame = survey.head(200).copy()
    coded = [v.name for v in codebook.variables if v.scale.get("not_applicable") and v.name in frame]
    assert coded, "the shipped instruments offer 'not applicable' somewhere"
    frame.loc[frame.index[:5], coded[0]] = NOT_APPLICABLE_CODE
    before = frame.copy()
    cleaned = codebook.without_not_applicable(frame)
    expected = frame.copy()
    expected[coded] = expected[coded].mask(expected[coded].eq(NOT_APPLICABLE_CODE))
    pd.testing.assert_frame_equal(cleaned, expected)
    pd.testing.assert_frame_equal(frame, before)
    assert codebook.without_not_applicable(before.drop(columns=coded[0])) is not None
    untouched = survey.head(50)
    assert codebook.without_not_applicable(untouched) is untouched


def test_screening_reasons_are_written_for_the_flagged_rows_only(survey, codebook):
    """Each flagged response's reasons are its tripped rules' "name: reason" texts,
    joined in rule order; every other response has none."""
    rules = screening_rules(survey, codebook, ReportOptions())
    flags = screening.flag_responses(survey, rules)
    results = [rule(survey) for rule in rules]
    assert flags["flagged"].any() and not flags["flagged"].all()
    for position in range(len(survey)):
        hit = [f"{res.name}: {res.reason.iloc[position]}" for res in results if res.flagged.iloc[position]]
        assert flags["flagged"].iloc[position] == bool(hit)
        assert flags["reasons"].iloc[position] == "; ".join(hit)


def _statsmodels_path(data: pd.DataFrame, outcome: str, predictors: list[str]) -> pd.DataFrame:
    """The regression table as ols_path built it with statsmodels (the replaced path)."""
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    data = data[[outcome, *predictors]].astype(float).dropna()
    data = (data - data.mean()) / data.std(ddof=1)
    X = sm.add_constant(data[predictors], has_constant="add")
    fit = sm.OLS(data[outcome], X).fit(cov_type="HC3", use_t=True)
    ci = fit.conf_int(alpha=0.05)
    vif = [1.0] if len(predictors) == 1 else [variance_inflation_factor(X.to_numpy(), i)
                                             for i in range(1, len(predictors) + 1)]
    return pd.DataFrame({"beta": fit.params[predictors].to_numpy(), "se_hc3": fit.bse[predictors].to_numpy(),
                         "t": fit.tvalues[predictors].to_numpy(), "p": fit.pvalues[predictors].to_numpy(),
                         "ci_low": ci.loc[predictors, 0].to_numpy(), "ci_high": ci.loc[predictors, 1].to_numpy(),
                         "r2": fit.rsquared, "adj_r2": fit.rsquared_adj, "vif": vif})


@pytest.mark.parametrize("outcome, predictors", [
    ("KSOV1", ["KS01_P"]),
    ("KSOV1", ["KS01_P", "KS05_P", "KS16_P", "KS22_P"]),
    ("KSOV4", ["KSOV1", "KSOV2", "KSOV3"]),
])
def test_hc3_paths_equal_statsmodels_on_the_kiosk_study(kiosk, outcome, predictors):
    from analysis.relationship import ols_path

    mine = ols_path(kiosk, outcome, predictors)
    ref = _statsmodels_path(kiosk, outcome, predictors)
    for column in ref.columns:
        np.testing.assert_allclose(mine[column].to_numpy(float), ref[column].to_numpy(float),
                                   rtol=1e-9, atol=1e-14, err_msg=column)


def test_hc3_seed_paths_equal_statsmodels_on_the_synthetic_survey(survey, codebook):
    from analysis.relationship import SEED_PATHS, construct_scores, seed_paths
    from analysis.report import construct_columns

    scores = construct_scores(survey, construct_columns(codebook, "relationship"), min_items=1)
    table = seed_paths(scores)
    for path in SEED_PATHS:
        ref = _statsmodels_path(scores, path.outcome, list(path.predictors))
        mine = table[table["outcome"] == path.outcome].set_index("predictor").loc[list(path.predictors)]
        for column in ref.columns:
            np.testing.assert_allclose(mine[column].to_numpy(float), ref[column].to_numpy(float),
                                       rtol=1e-9, atol=1e-14, err_msg=f"{path.outcome} {column}")


def test_row_means_equal_pandas_row_means(kiosk):
    from analysis.common import row_means

    block = kiosk[[f"KS{i:02d}_P" for i in range(1, 25)]].astype(float).copy()
    rng = np.random.default_rng(4)
    block = block.mask(rng.random(block.shape) < 0.2)
    block.iloc[0] = np.nan  # a row with no answer
    expected = block.mean(axis=1).to_numpy()
    np.testing.assert_array_equal(row_means(block.to_numpy()), expected)


@pytest.mark.parametrize("covariates", [[], ["KS05_P"]])
def test_mediation_paths_equal_statsmodels_on_the_kiosk_study(kiosk, covariates):
    """The a, b, c and c' rows (classical OLS errors, t tests) as statsmodels reports them."""
    import statsmodels.api as sm

    from analysis.relationship import mediation

    x, m, y = "KS01_P", "KSOV1", "KSOV4"
    res = mediation(kiosk, x, m, y, covariates=covariates, n_boot=200, seed=1)
    data = kiosk[[x, m, y, *covariates]].astype(float).dropna()
    ones = np.ones((len(data), 1))
    cov = data[covariates].to_numpy()
    design_x = np.column_stack([ones, data[x], cov])
    design_xm = np.column_stack([ones, data[x], data[m], cov])
    fits = {"a (X -> M)": (sm.OLS(data[m].to_numpy(), design_x).fit(), 1),
            "b (M -> Y | X)": (sm.OLS(data[y].to_numpy(), design_xm).fit(), 2),
            "c (total X -> Y)": (sm.OLS(data[y].to_numpy(), design_x).fit(), 1),
            "c' (direct X -> Y | M)": (sm.OLS(data[y].to_numpy(), design_xm).fit(), 1)}
    table = res.paths.set_index("path")
    for label, (fit, j) in fits.items():
        row = table.loc[label]
        ci = fit.conf_int(alpha=0.05)[j]
        expected = [fit.params[j], fit.bse[j], fit.tvalues[j], fit.pvalues[j], ci[0], ci[1]]
        np.testing.assert_allclose(row[["estimate", "se", "t", "p", "ci_low", "ci_high"]].to_numpy(float),
                                   expected, rtol=1e-9, atol=1e-14, err_msg=label)
