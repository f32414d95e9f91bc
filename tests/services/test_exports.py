"""Exports: streamed frames, CSV/XLSX/SAV/DTA round trips, labels, missing codes, formula safety."""
from __future__ import annotations

import io
import math
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from werkzeug.datastructures import MultiDict

from analysis.report import analyse_survey
from surveyapp.services import exports
from surveyapp.services.codebooks import codebook_rows, survey_codebook, value_labels, variable_label
from analysis.instruments import NOT_APPLICABLE_CODE, NOT_ASKED_CODE
from analysis.io import read_responses_csv
from surveyapp.services.exports import ExportError, csv_chunks, export_to_file
from surveyapp.services.filters import FilterError, UnknownVersionError, parse_filters
from surveyapp.services.responses import (NOT_APPLICABLE_BITS, NOT_ASKED_BITS, ResponseFilter,
                                          iter_response_frames, response_columns, responses_frame,
                                          submit_response)
from surveyapp.services.surveys import create_survey, open_survey

ALL = ResponseFilter(complete_only=False)


def _csv(survey, filters=ALL, **kwargs) -> bytes:
    return b"".join(csv_chunks(survey, filters, **kwargs))


def _expected(survey, filters=ALL) -> pd.DataFrame:
    return responses_frame(survey, filters).sort_values("response_id").reset_index(drop=True)


def _expected_codes(survey, filters=ALL) -> pd.DataFrame:
    """The response frame with the exports' codes where the stored bits say "not asked" (-99)
    or "not applicable" (-98): what every raw-data file must hold."""
    frame = _expected(survey, filters)
    names = survey_codebook(survey).names
    for name in names:
        bits = frame[name].to_numpy().view(np.uint64)
        frame.loc[bits == NOT_ASKED_BITS, name] = NOT_ASKED_CODE
        frame.loc[bits == NOT_APPLICABLE_BITS, name] = NOT_APPLICABLE_CODE
    return frame


# --- the streamed loader ----------------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 7, 50_000])
def test_iter_response_frames_pages_to_the_same_frame(seeded_survey, chunk_size):
    filters = ResponseFilter(complete_only=False, segments={"PR_BRANCH": [1, 2]})
    chunks = list(iter_response_frames(seeded_survey, filters, chunk_size=chunk_size))
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    assert all(list(chunk.columns) == response_columns(seeded_survey) for chunk in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True),
                                  _expected(seeded_survey, filters))


def test_iter_response_frames_checks_segments_and_chunk_size(two_version_survey):
    with pytest.raises(ValueError, match="unknown segment variable 'NOPE'"):
        next(iter_response_frames(two_version_survey, ResponseFilter(segments={"NOPE": [1]})))
    with pytest.raises(ValueError, match="chunk_size"):
        next(iter_response_frames(two_version_survey, chunk_size=0))
    empty = ResponseFilter(versions=[1], segments={"PR_CHANNEL": [4]})
    assert list(iter_response_frames(two_version_survey, empty)) == []


# --- CSV --------------------------------------------------------------------

def test_csv_round_trip_gives_the_same_values(seeded_survey):
    body = _csv(seeded_survey, chunk_size=16)
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    back = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", float_precision="round_trip")
    expected = _expected_codes(seeded_survey)
    assert (expected == NOT_ASKED_CODE).any().any(), "the demo data hide PR_BRANCH from some"
    assert list(back.columns) == exports.raw_columns(seeded_survey)
    names = survey_codebook(seeded_survey).names
    np.testing.assert_array_equal(back[names].to_numpy(), expected[names].to_numpy())
    assert list(back["response_id"]) == list(expected["response_id"])
    assert list(back["status"]) == list(expected["status"])
    assert list(back["contact_ok"]) == [int(flag) for flag in expected["contact_ok"]]
    np.testing.assert_array_equal(back["duration_seconds"].to_numpy(),
                                  expected["duration_seconds"].to_numpy())
    for column in ("started_at", "submitted_at"):
        assert pd.to_datetime(back[column], utc=True).equals(expected[column])


def test_csv_streams_one_chunk_per_page(seeded_survey):
    chunks = list(csv_chunks(seeded_survey, ALL, chunk_size=10))
    # BOM, header, then 60 responses in pages of 10.
    assert len(chunks) == 2 + 6


def test_csv_neutralises_formulas_and_keeps_chinese(two_version_survey):
    text = _csv(two_version_survey).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'-2+3 @SUM(A1)" in text
    assert "服务很好，谢谢" in text
    back = pd.read_csv(io.StringIO(text))
    assert back["comment"].tolist()[0].startswith("'=")
    # Numbers are never prefixed: a missing answer is an empty cell, a code a bare number.
    assert back.loc[0, "SQ01_E"] == 7 and math.isnan(back.loc[0, "SQ02_P"])


def test_filters_apply_to_exports(seeded_survey):
    filters = ResponseFilter(segments={"PR_CHANNEL": [2]})
    back = pd.read_csv(io.BytesIO(_csv(seeded_survey, filters)), encoding="utf-8-sig")
    assert list(back["response_id"]) == list(_expected(seeded_survey, filters)["response_id"])
    assert set(back["PR_CHANNEL"]) == {2} and set(back["status"]) == {"complete"}


# --- XLSX -------------------------------------------------------------------

def test_xlsx_round_trip_with_labels(seeded_survey, tmp_path):
    path = tmp_path / "data.xlsx"
    export_to_file(seeded_survey, "xlsx", ALL, path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "labels", "value_labels"]
    data, expected = sheets["data"], _expected_codes(seeded_survey)
    names = survey_codebook(seeded_survey).names
    np.testing.assert_array_equal(data[names].to_numpy(dtype=float), expected[names].to_numpy())
    assert list(data["response_id"]) == list(expected["response_id"])
    # Excel stores times as day fractions: equal to the millisecond.
    stored = pd.to_datetime(data["submitted_at"]).dt.tz_localize("UTC")
    assert (stored - expected["submitted_at"]).abs().max() < pd.Timedelta(milliseconds=1)
    labels = sheets["labels"].set_index("name")
    codebook = survey_codebook(seeded_survey)
    assert labels.loc["SQ01_E", "text_zh"] == codebook["SQ01_E"].text["zh"]
    assert labels.loc["SQ01_E", "facet_label_en"] == "Expectation"
    assert labels.loc["submitted_at", "text_en"] == "Submitted at (UTC)"
    values = sheets["value_labels"]
    channel = values[values["variable"] == "PR_CHANNEL"]
    assert dict(zip(channel["value"], channel["label_en"])) == value_labels(codebook["PR_CHANNEL"], "en")
    assert dict(zip(channel["value"], channel["label_en"]))[-99] == \
        "not asked (display condition or survey version)"


def test_xlsx_cells_are_typed_and_safe(two_version_survey, tmp_path):
    path = tmp_path / "data.xlsx"
    export_to_file(two_version_survey, "xlsx", ALL, path)
    sheet = openpyxl.load_workbook(path)["data"]
    header = [cell.value for cell in sheet[1]]
    first = {name: cell for name, cell in zip(header, sheet[2])}
    assert first["comment"].value.startswith("'=HYPERLINK") and first["comment"].data_type == "s"
    assert first["SQ01_E"].value == 7 and first["SQ01_E"].data_type == "n"
    assert first["SQ02_P"].value is None


def test_xlsx_refuses_more_rows_than_a_sheet_holds(seeded_survey, tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_DATA_ROWS", 10)
    with pytest.raises(ExportError, match="do not fit in one Excel sheet"):
        export_to_file(seeded_survey, "xlsx", ALL, tmp_path / "big.xlsx")


# --- SPSS and Stata -----------------------------------------------------------

def test_sav_round_trip_values_labels_and_missing_codes(two_version_survey, tmp_path):
    path = tmp_path / "data.sav"
    export_to_file(two_version_survey, "sav", ALL, path, lang="en")
    data, meta = pyreadstat.read_sav(str(path))
    expected = _expected(two_version_survey)
    codebook = survey_codebook(two_version_survey)
    np.testing.assert_array_equal(data[codebook.names].to_numpy(), expected[codebook.names].to_numpy())
    assert list(data["status"]) == list(expected["status"])
    assert data["comment"].tolist()[1] == "服务很好，谢谢"
    # Labels.
    assert meta.column_names_to_labels["SQ01_E"] == variable_label(codebook["SQ01_E"], "en")
    assert meta.column_names_to_labels["SQ01_E"].startswith("[Expectation] ")
    assert meta.variable_value_labels["PR_CHANNEL"] == {
        **{float(k): v for k, v in value_labels(codebook["PR_CHANNEL"], "en").items()},
        NOT_ASKED_CODE: "not asked (display condition or survey version)"}
    assert meta.variable_value_labels["SQ01_E"][7.0] == "Strongly agree"
    assert meta.variable_measure["PR_CHANNEL"] == "nominal"
    assert meta.variable_measure["SQ01_E"] == "ordinal"
    # Missing codes: SQ03 was not asked in version 1, SQ02 not in version 2.
    raw, raw_meta = pyreadstat.read_sav(str(path), user_missing=True)
    # SQ03_E offers "not applicable": both codes are its user-missing values.
    assert raw_meta.missing_ranges["SQ03_E"] == [{"lo": NOT_ASKED_CODE, "hi": NOT_ASKED_CODE},
                                                 {"lo": NOT_APPLICABLE_CODE, "hi": NOT_APPLICABLE_CODE}]
    assert raw_meta.missing_ranges["PR_CHANNEL"] == [{"lo": NOT_ASKED_CODE, "hi": NOT_ASKED_CODE}]
    version1 = raw["version"] == 1
    assert (raw.loc[version1, "SQ03_E"] == NOT_ASKED_CODE).all()
    assert (raw.loc[~version1, "SQ02_E"] == NOT_ASKED_CODE).all()
    # Unanswered questions of the version asked stay system-missing.
    assert math.isnan(raw.loc[0, "SQ02_P"]) and raw.loc[0, "version"] == 1
    assert data.loc[version1, "SQ03_E"].isna().all()


def test_dta_round_trip_values_labels_and_missing_codes(two_version_survey, tmp_path):
    path = tmp_path / "data.dta"
    export_to_file(two_version_survey, "dta", ALL, path, lang="zh")
    data, meta = pyreadstat.read_dta(str(path))
    expected = _expected(two_version_survey)
    codebook = survey_codebook(two_version_survey)
    np.testing.assert_array_equal(data[codebook.names].to_numpy(dtype=float),
                                  expected[codebook.names].to_numpy())
    assert meta.column_names_to_labels["SQ01_P"] == variable_label(codebook["SQ01_P"], "zh")[:80]
    assert meta.variable_value_labels["PR_CHANNEL"] == value_labels(codebook["PR_CHANNEL"], "zh",
                                                                    missing=False)
    raw, raw_meta = pyreadstat.read_dta(str(path), user_missing=True)
    assert raw_meta.missing_user_values["SQ03_E"] == ["a"]
    version1 = raw["version"] == 1
    assert (raw.loc[version1, "SQ03_E"] == "a").all()
    assert (raw.loc[~version1, "SQ02_P"] == "a").all()


@pytest.mark.parametrize("key", ["sav", "csv"])
def test_exports_refuse_a_scale_that_contains_a_missing_code(two_version_survey, tmp_path,
                                                             monkeypatch, key):
    monkeypatch.setattr(exports, "MISSING_CODES", (3.0,))
    with pytest.raises(ExportError, match="SQ01_E: its scale includes 3"):
        export_to_file(two_version_survey, key, ALL, tmp_path / f"x.{key}")


# --- skipped, not asked and not applicable: three different things ------------

@pytest.fixture
def three_kinds_survey(db, make_user):
    """Response 1: SQ01_E "not applicable", SQ01_P skipped, PR_BRANCH not asked (app user).
    Response 2: everything answered, the branch asked of a branch customer."""
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "servqual_layout": "blocks",
              "instruments": [{"id": "servqual", "items": ["SQ01"]},
                              {"id": "profile", "items": ["PR_CHANNEL", "PR_BRANCH"]}]}
    survey = create_survey(make_user("three-kinds"), "three-kinds", "三类缺失", "Three kinds", design)
    version = open_survey(survey)
    submit_response(version, {"SQ01_E": NOT_APPLICABLE_CODE, "PR_CHANNEL": 3})
    submit_response(version, {"SQ01_E": 6, "SQ01_P": 5, "PR_CHANNEL": 1, "PR_BRANCH": 2})
    return survey


def test_csv_and_xlsx_write_labelled_codes(three_kinds_survey, tmp_path):
    # In the analysis frame all three are missing: n counts the one real answer.
    frame = responses_frame(three_kinds_survey, ALL)
    assert frame[["SQ01_E", "SQ01_P", "PR_BRANCH"]].count().tolist() == [1, 1, 1]
    back = pd.read_csv(io.BytesIO(_csv(three_kinds_survey)), encoding="utf-8-sig")
    first = back.iloc[0]
    assert first["SQ01_E"] == -98 and math.isnan(first["SQ01_P"]) and first["PR_BRANCH"] == -99
    assert back.iloc[1][["SQ01_E", "SQ01_P", "PR_CHANNEL", "PR_BRANCH"]].tolist() == [6, 5, 1, 2]
    path = tmp_path / "data.xlsx"
    export_to_file(three_kinds_survey, "xlsx", ALL, path)
    sheets = pd.read_excel(path, sheet_name=None)
    data = sheets["data"].iloc[0]
    assert data["SQ01_E"] == -98 and math.isnan(data["SQ01_P"]) and data["PR_BRANCH"] == -99
    labels = sheets["value_labels"]
    sq01 = labels[labels["variable"] == "SQ01_E"].set_index("value")
    assert sq01.loc[-98, "label_en"] == "don't know / not applicable"
    assert sq01.loc[-98, "label_zh"] == "不知道 / 不适用"
    assert sq01.loc[-99, "label_en"].startswith("not asked")
    # PR_BRANCH offers no "not applicable": no -98 label for it.
    assert -98 not in set(labels.loc[labels["variable"] == "PR_BRANCH", "value"])


def test_sav_declares_both_codes_user_missing_and_labels_them(three_kinds_survey, tmp_path):
    path = tmp_path / "data.sav"
    export_to_file(three_kinds_survey, "sav", ALL, path, lang="en")
    raw, meta = pyreadstat.read_sav(str(path), user_missing=True)
    first = raw.iloc[0]
    assert first["SQ01_E"] == -98 and math.isnan(first["SQ01_P"]) and first["PR_BRANCH"] == -99
    assert meta.missing_ranges["SQ01_E"] == [{"lo": -99.0, "hi": -99.0}, {"lo": -98.0, "hi": -98.0}]
    assert meta.missing_ranges["PR_BRANCH"] == [{"lo": -99.0, "hi": -99.0}]
    assert meta.variable_value_labels["SQ01_E"][-98.0] == "don't know / not applicable"
    assert meta.variable_value_labels["PR_BRANCH"][-99.0].startswith("not asked")
    # Read as SPSS analyses it: all three are missing, so n leaves them out.
    data, _ = pyreadstat.read_sav(str(path))
    assert data[["SQ01_E", "SQ01_P", "PR_BRANCH"]].iloc[0].isna().all()
    assert data["SQ01_E"].count() == 1


def test_dta_writes_extended_missing_a_and_b_with_labels(three_kinds_survey, tmp_path):
    path = tmp_path / "data.dta"
    export_to_file(three_kinds_survey, "dta", ALL, path, lang="en")
    raw, meta = pyreadstat.read_dta(str(path), user_missing=True)
    first = raw.iloc[0]
    assert first["SQ01_E"] == "b" and first["PR_BRANCH"] == "a"
    assert first["SQ01_P"] is None or math.isnan(first["SQ01_P"])
    assert meta.missing_user_values["SQ01_E"] == ["b"]
    assert meta.missing_user_values["PR_BRANCH"] == ["a"]
    assert meta.variable_value_labels["SQ01_E"]["b"] == "don't know / not applicable"
    assert meta.variable_value_labels["PR_BRANCH"]["a"].startswith("not asked")
    data, _ = pyreadstat.read_dta(str(path))
    assert data[["SQ01_E", "SQ01_P", "PR_BRANCH"]].iloc[0].isna().all()


def test_analysis_reads_the_app_csv_back_with_codes_as_missing(three_kinds_survey):
    """The analysis CLI's reader: -99 (not asked) is missing, -98 stays the analysis' own
    "not applicable" code, which every statistic reads as missing."""
    frame = read_responses_csv(io.BytesIO(_csv(three_kinds_survey)))
    assert math.isnan(frame.loc[0, "PR_BRANCH"]) and frame.loc[1, "PR_BRANCH"] == 2
    assert frame.loc[0, "SQ01_E"] == NOT_APPLICABLE_CODE
    codebook = survey_codebook(three_kinds_survey)
    assert codebook.not_applicable_mask(frame)["SQ01_E"].tolist() == [True, False]
    assert codebook.without_not_applicable(frame)["SQ01_E"].count() == 1


def test_empty_selection_exports_headers_only(two_version_survey, tmp_path):
    nothing = ResponseFilter(segments={"PR_CHANNEL": [4]})
    back = pd.read_csv(io.BytesIO(_csv(two_version_survey, nothing)), encoding="utf-8-sig")
    assert back.empty and "SQ03_P" in back.columns
    for key in ("xlsx", "sav", "dta"):
        export_to_file(two_version_survey, key, nothing, tmp_path / f"empty.{key}")
    data, _ = pyreadstat.read_sav(str(tmp_path / "empty.sav"))
    assert data.empty and "SQ03_P" in data.columns


def test_xlsx_drops_control_characters_then_neutralises(two_version_survey, tmp_path):
    from surveyapp.services.responses import submit_response
    submit_response(two_version_survey.current_version, {"SQ01_E": 2},
                    comment="\x07=1+1\x1b ok\ttab\nline")
    path = tmp_path / "data.xlsx"
    export_to_file(two_version_survey, "xlsx", ALL, path)
    sheet = openpyxl.load_workbook(path)["data"]
    header = [cell.value for cell in sheet[1]]
    comments = [row[header.index("comment")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert comments[-1] == "'=1+1 ok\ttab\nline"
    # Control characters are removed when the comment is stored (services/text_safety.py),
    # so the CSV has the cleaned text, neutralised like every other export.
    assert "'=1+1 ok" in _csv(two_version_survey).decode("utf-8-sig")


def test_xlsx_times_keep_milliseconds_and_a_date_format(two_version_survey, tmp_path):
    path = tmp_path / "data.xlsx"
    export_to_file(two_version_survey, "xlsx", ALL, path)
    sheet = openpyxl.load_workbook(path)["data"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("started_at") + 1)
    assert cell.is_date and cell.number_format == exports.XLSX_TIME_FORMAT
    expected = _expected(two_version_survey)["started_at"][0].tz_localize(None)
    assert abs(pd.Timestamp(cell.value) - expected) < pd.Timedelta(milliseconds=1)


@pytest.mark.parametrize("key", ["csv", "xlsx", "sav", "dta", "codebook-csv", "stats-xlsx"])
def test_progress_rises_to_one(seeded_survey, tmp_path, key, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_CHUNK_SIZE", 16)
    fractions = []
    export_to_file(seeded_survey, key, ALL, tmp_path / f"out.{key}", progress=fractions.append)
    assert fractions and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
    if key in ("csv", "xlsx", "sav"):
        assert len(set(fractions)) > 3, "one step per chunk of 16 responses"


def test_statistics_files_refuse_more_rows_than_the_limit(seeded_survey, tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "STATISTICS_MAX_ROWS", 10)
    for key, name in (("sav", "SPSS"), ("dta", "Stata")):
        with pytest.raises(ExportError, match=f"{name} files are written in one piece, so at most 10"):
            export_to_file(seeded_survey, key, ALL, tmp_path / f"big.{key}")


# --- codebook and statistics ----------------------------------------------------

def test_codebook_csv_and_xlsx(seeded_survey, tmp_path):
    export_to_file(seeded_survey, "codebook-csv", ALL, tmp_path / "codebook.csv")
    export_to_file(seeded_survey, "codebook-xlsx", ALL, tmp_path / "codebook.xlsx")
    from_csv = pd.read_csv(tmp_path / "codebook.csv", encoding="utf-8-sig")
    from_xlsx = pd.read_excel(tmp_path / "codebook.xlsx", sheet_name="codebook")
    codebook = survey_codebook(seeded_survey)
    for table in (from_csv, from_xlsx):
        assert list(table["name"]) == codebook.names
        row = table.set_index("name").loc["SQ05_P"]
        assert row["item"] == "SQ05" and row["dimension"] == "reliability"
        assert row["text_en"] == codebook["SQ05_P"].text["en"]
        assert row["scale_type"] == "rating" and row["scale_min"] == 1 and row["scale_max"] == 7
        assert row["value_labels_zh"].startswith("1 = 非常不同意")
    assert len(codebook_rows(codebook)) == len(codebook)


def test_codebook_of_a_draft_is_what_opening_would_freeze(db, make_user):
    from surveyapp.services.surveys import create_survey, compose
    design = {"firm": {"zh": "甲", "en": "A"}, "languages": ["zh", "en"], "servqual_layout": "blocks",
              "instruments": [{"id": "overall"}]}
    survey = create_survey(make_user("drafter"), "draft-only", "草稿", "Draft", design)
    assert survey_codebook(survey).names == compose(design).names


def test_statistics_workbook_has_every_table_as_numbers(seeded_survey, tmp_path, app):
    app.config["REPORT_OPTIONS"] = {"csi_boot": 0, "n_boot": 200}
    path = tmp_path / "stats.xlsx"
    export_to_file(seeded_survey, "stats-xlsx", ResponseFilter(), path)
    expected = analyse_survey(responses_frame(seeded_survey), survey_codebook(seeded_survey),
                              exports.report_options()).tables()
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "about"
    assert workbook.sheetnames[1:] == [name[:31] for name in expected]
    sheets = pd.read_excel(path, sheet_name=None)
    for name, table in expected.items():
        stored = sheets[name[:31]]
        marked = "n" in table.columns and name not in ("follow_up", "screening", "methods")
        assert list(stored.columns) == [str(c) for c in table.columns] + (
            ["min_n", "few_responses"] if marked else []), name
        for column in table.columns:
            if pd.api.types.is_float_dtype(table[column]):
                np.testing.assert_allclose(stored[str(column)].to_numpy(dtype=float),
                                           table[column].to_numpy(dtype=float), equal_nan=True)
    servqual = workbook["servqual_dimensions"]
    numbers = [cell for row in servqual.iter_rows(min_row=2) for cell in row
               if isinstance(cell.value, (int, float))]
    assert numbers and all(cell.data_type == ("b" if isinstance(cell.value, bool) else "n")
                           for cell in numbers)
    # "Few responses": the demo's 60 responses are below the paths' minimum of 100 and
    # above the means' 30; per-period trend rows fall below 30.
    about = dict(pd.read_excel(path, sheet_name="about", header=None).values.tolist())
    assert about["min_n: means"] == 30 and about["min_n: paths"] == 100
    regressions = sheets["regressions"]
    assert (regressions["min_n"] == 100).all() and regressions["few_responses"].all()
    items = sheets["servqual_items"]
    np.testing.assert_array_equal(items["few_responses"], items["n"] < 30)
    trends = sheets["trends"]
    assert trends["few_responses"].any()
    np.testing.assert_array_equal(trends["few_responses"], trends["n"] < 30)


def test_statistics_workbook_marks_every_row_below_its_minimum(seeded_survey, tmp_path, app):
    app.config["REPORT_OPTIONS"] = {"csi_boot": 0, "n_boot": 0}
    path = tmp_path / "stats.xlsx"
    few = ResponseFilter(segments={"PR_CHANNEL": [1]})
    assert 3 <= len(responses_frame(seeded_survey, few)) < 30
    export_to_file(seeded_survey, "stats-xlsx", few, path)
    sheets = pd.read_excel(path, sheet_name=None)
    marked = [name for name, table in sheets.items() if "few_responses" in table.columns]
    assert len(marked) > 5, "fewer than 30 responses: every figure with its own n is marked"
    for name in marked:
        if name != "methods":
            assert sheets[name]["few_responses"].all(), name


# --- filters from query parameters ------------------------------------------------

def test_parse_filters(two_version_survey):
    args = MultiDict([("from", "2026-03-01"), ("to", "2026-03-04"), ("version", "1"),
                      ("segment.PR_CHANNEL", "1,3"), ("segment.PR_CHANNEL", "2"), ("partial", "1")])
    filters = parse_filters(two_version_survey, args)
    assert (str(filters.start), str(filters.end), filters.versions) == ("2026-03-01", "2026-03-04", [1])
    assert filters.segments == {"PR_CHANNEL": [1.0, 3.0, 2.0]} and not filters.complete_only
    assert len(responses_frame(two_version_survey, filters)) == 2
    assert parse_filters(two_version_survey, MultiDict()).complete_only


@pytest.mark.parametrize("args,error,message", [
    ({"from": "2026-02-30"}, FilterError, "from: '2026-02-30' is not a date"),
    ({"version": "x"}, FilterError, "'x' is not a version number"),
    ({"version": "9"}, UnknownVersionError, "'9' is not a version of this survey"),
    ({"segment.NOPE": "1"}, FilterError, "'NOPE' is not a variable of this survey"),
    ({"segment.PR_CHANNEL": "a,b"}, FilterError, "codes must be numbers"),
    ({"segment.PR_CHANNEL": ","}, FilterError, "give one or more numeric codes"),
    ({"partial": "maybe"}, FilterError, "'maybe' is not 1 or 0"),
])
def test_parse_filters_errors(two_version_survey, args, error, message):
    with pytest.raises(error, match=message):
        parse_filters(two_version_survey, MultiDict(args))


def test_unknown_format(two_version_survey, tmp_path):
    with pytest.raises(ExportError, match="unknown export format 'pdf'"):
        export_to_file(two_version_survey, "pdf", ALL, tmp_path / "x.pdf")


# --- CLI -----------------------------------------------------------------------

def test_cli_export_with_filters(app, seeded_survey, tmp_path):
    output = tmp_path / "branch12.csv"
    result = app.test_cli_runner().invoke(args=[
        "export", seeded_survey.slug, "--format", "csv", "-o", str(output),
        "--segment", "PR_BRANCH=1,2", "--from", "2000-01-01", "--include-partial"])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(output, encoding="utf-8-sig")
    # A start day keeps submitted responses only: partial ones have no submission time.
    filters = ResponseFilter(complete_only=False, start=date(2000, 1, 1), segments={"PR_BRANCH": [1, 2]})
    assert list(back["response_id"]) == list(_expected(seeded_survey, filters)["response_id"])


@pytest.mark.parametrize("args,message", [
    (["nope", "--format", "csv"], "no survey 'nope'"),
    (["demo-bank", "--format", "csv", "--segment", "PR_BRANCH"], "write a segment as VARIABLE=CODE"),
    (["demo-bank", "--format", "csv", "--segment", "NOPE=1"], "'NOPE' is not a variable of this survey"),
    (["demo-bank", "--format", "csv", "--version", "5"], "'5' is not a version of this survey"),
    (["demo-bank", "--format", "csv", "--from", "1.3.2026"], "from: '1.3.2026' is not a date"),
])
def test_cli_export_errors(app, seeded_survey, tmp_path, args, message):
    output = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["export", *args, "-o", str(output)])
    assert result.exit_code != 0 and message in result.output
    assert not output.exists()


def test_number_columns_are_written_as_arrow_writes_the_floats():
    """Columns of whole numbers go to the CSV writer as integers (faster); the text must be what
    Arrow writes for the floats themselves, edge values included (-0.0, 1e10, infinities)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(7)
    block = rng.integers(1, 8, size=(50, 9)).astype(float)
    block[rng.random(block.shape) < 0.2] = np.nan
    block[:, 1] += 0.5
    block[3, 2] = -0.0
    block[4, 3] = 1e10
    block[5, 4] = np.inf
    block[6, 5] = -1e300
    block[7, 6] = -3.0
    block[8, 7] = 9_999_999_999.0
    block[:, 8] = np.nan

    def written(arrays):
        sink = pa.BufferOutputStream()
        names = [f"c{j}" for j in range(len(arrays))]
        pa_csv.write_csv(pa.Table.from_arrays(arrays, names=names), sink)
        return sink.getvalue().to_pybytes().decode()

    converted = exports._csv_number_columns(block)
    as_floats = [pa.array(block[:, j], from_pandas=True) for j in range(block.shape[1])]
    assert written(converted) == written(as_floats)
    kinds = [str(array.type) for array in converted]
    assert kinds[0] == kinds[6] == kinds[7] == "int64"
    assert kinds[1] == kinds[2] == kinds[3] == kinds[4] == kinds[5] == "double"
