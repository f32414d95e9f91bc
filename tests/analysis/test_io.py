"""analysis.io: response CSV import and the kiosk study adapter."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.io import ResponseFileError, read_responses_csv
from tests.analysis.kiosk import KIOSK_DIMENSIONS, KIOSK_IMPORTANCE, KIOSK_PAIRS, read_kiosk_servqual

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(KIOSK)


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(KIOSK)


def test_kiosk_shape_and_ids(kiosk):
    assert len(kiosk) == 211
    assert kiosk["response_id"].tolist() == list(range(1, 212))
    for e, p in KIOSK_PAIRS.values():
        assert kiosk[e].dtype == np.float64 and kiosk[p].dtype == np.float64
    assert sorted(i for its in KIOSK_DIMENSIONS.values() for i in its) == sorted(KIOSK_PAIRS)


def test_kiosk_values_follow_the_header_numbers(raw, kiosk):
    # positions in the original file: column 3/4 = item 1 E/P; the file asks
    # item 9 (columns 17/18) before item 8 (columns 19/20)
    assert raw.columns[17].startswith("9-1") and raw.columns[19].startswith("8-1")
    np.testing.assert_array_equal(kiosk["KS01_E"], raw.iloc[:, 3].to_numpy(dtype=float))
    np.testing.assert_array_equal(kiosk["KS01_P"], raw.iloc[:, 4].to_numpy(dtype=float))
    np.testing.assert_array_equal(kiosk["KS09_E"], raw.iloc[:, 17].to_numpy(dtype=float))
    np.testing.assert_array_equal(kiosk["KS08_P"], raw.iloc[:, 20].to_numpy(dtype=float))
    np.testing.assert_array_equal(kiosk["KS24_P"], raw.iloc[:, 50].to_numpy(dtype=float))


def test_kiosk_missing_rows_and_scale(kiosk):
    ep = kiosk[[c for pair in KIOSK_PAIRS.values() for c in pair]]
    assert ep.isna().any(axis=1).sum() == 4
    assert ep.stack().between(1, 7).all()
    assert kiosk[list(KIOSK_IMPORTANCE.values())].stack().between(1, 7).all()
    assert set(kiosk["gender"].dropna()) == {1.0, 2.0}
    assert kiosk["KSOV1"].dropna().between(1, 5).all()


def test_kiosk_importance_column_matches_header(raw, kiosk):
    col = [c for c in raw.columns if c.startswith("9-1. 키오스크를 고객이") and "중요" in c]
    assert len(col) == 1
    np.testing.assert_array_equal(kiosk["KS09_IMP"], raw[col[0]].to_numpy(dtype=float))


def test_kiosk_structure_error(tmp_path, raw):
    broken = raw.copy()
    cols = list(broken.columns)
    cols[3], cols[4] = cols[4], cols[3]       # perception before expectation
    broken = broken[cols]
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(ResponseFileError, match="alternate"):
        read_kiosk_servqual(path)


def test_read_with_mapping_keeps_only_mapped_columns():
    text = "id,ip,Q1 [E],Q1 [P],submitdate\n7,1.2.3.4,5,6,2024-03-01 10:00\n8,5.6.7.8,4,,\n"
    frame = read_responses_csv(io.StringIO(text), mapping={
        "id": "response_id", "Q1 [E]": "SQ01_E", "Q1 [P]": "SQ01_P", "submitdate": "submitted_at"})
    assert list(frame.columns) == ["response_id", "submitted_at", "SQ01_E", "SQ01_P"]
    assert frame["response_id"].tolist() == [7, 8]
    assert frame["SQ01_P"].isna().tolist() == [False, True]
    assert frame["submitted_at"].iloc[0] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    assert pd.isna(frame["submitted_at"].iloc[1])


def test_read_generates_ids_accepts_bom_semicolons_and_decimal_comma():
    data = "\ufeffSQ01_E;SQ01_P;contact_ok\n4,5;6;yes\nNA;7;0\n".encode("utf-8")
    frame = read_responses_csv(data)
    assert frame["response_id"].tolist() == [1, 2]
    assert frame["SQ01_E"].iloc[0] == 4.5 and np.isnan(frame["SQ01_E"].iloc[1])
    assert frame["contact_ok"].tolist() == [True, False]
    assert frame["SQ01_P"].dtype == np.float64


def test_read_from_path(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("response_id,SQ01_E\n3,2\n", encoding="utf-8")
    assert read_responses_csv(path).to_dict("list") == {"response_id": [3], "SQ01_E": [2.0]}


@pytest.mark.parametrize("text, line, column, reason", [
    ("SQ01_E,SQ01_P\n1,2\n3,x\n", 3, "SQ01_P", "not a number"),
    ("SQ01_E,SQ01_P\n1,2\n3\n", 3, None, "fields"),
    ("SQ01_E,SQ01_E\n1,2\n", 1, "SQ01_E", "duplicate"),
    ("response_id,SQ01_E\n1,2\n1,3\n", 3, "response_id", "twice"),
    ("response_id,SQ01_E\n1.5,2\n", 2, "response_id", "integer"),
    ("SQ01_E,what is this\n1,2\n", 1, "what is this", "variable name"),
    ("SQ01_E,submitted_at\n1,yesterday-ish\n", 2, "submitted_at", "date"),
    ("SQ01_E,SQ01_P\n", 2, None, "no responses"),
    ("", 1, None, "empty"),
    ('SQ01_E,note\n1,"two\nlines"\n2,x\n', 1, "note", "variable name"),
])
def test_bad_files_report_line_and_column(text, line, column, reason):
    with pytest.raises(ResponseFileError, match=reason) as err:
        read_responses_csv(io.StringIO(text))
    assert err.value.line == line
    assert err.value.column == column


def test_line_numbers_count_physical_lines_of_quoted_fields():
    text = 'SQ01_E,SQ02_E\n1,"2"\n"3\n",x\n'
    with pytest.raises(ResponseFileError) as err:
        read_responses_csv(io.StringIO(text))
    # the bad record starts on line 3 and ends on line 4; csv reports the end
    assert err.value.line == 4 and err.value.column == "SQ02_E"


def test_mapping_errors():
    with pytest.raises(ResponseFileError, match="not in the header"):
        read_responses_csv(io.StringIO("a,b\n1,2\n"), mapping={"c": "SQ01_E"})
    with pytest.raises(ResponseFileError, match="several columns"):
        read_responses_csv(io.StringIO("a,b\n1,2\n"), mapping={"a": "SQ01_E", "b": "SQ01_E"})


def test_not_utf8():
    with pytest.raises(ResponseFileError, match="utf-8"):
        read_responses_csv("SQ01_E\n\xff\n".encode("latin-1"))


def test_strict_reading_follows_the_importer_rules():
    with pytest.raises(ResponseFileError, match="separated by commas") as err:
        read_responses_csv(io.StringIO("SQ01_E;SQ01_P\n1;2\n"), strict=True)
    assert err.value.line == 1
    text = 'SQ01_E,SQ02_E\n1,"2"\n"3\n",x\n'
    with pytest.raises(ResponseFileError) as err:
        read_responses_csv(io.StringIO(text), strict=True)
    assert err.value.line == 3 and err.value.column == "SQ02_E"   # where the record starts


def test_public_number_reader_and_tokens():
    from analysis.io import MISSING_TOKENS, parse_number

    assert "n/a" in MISSING_TOKENS and np.isnan(parse_number("NA"))
    with pytest.raises(ResponseFileError, match="not a number") as err:
        parse_number("seven", 4, "SQ01_E")
    assert (err.value.line, err.value.column) == (4, "SQ01_E")


def test_table_writer_gives_unique_sheet_names(tmp_path):
    import openpyxl

    from analysis.io import write_tables_xlsx

    long = "segment_posthoc_PR_BRANCH_weighted_gap"
    tables = {long + "_a": pd.DataFrame({"x": [1.5]}), long + "_b": pd.DataFrame({"x": [2.5]}),
              "odd/name?": pd.DataFrame({"t": ["=1+1"]})}
    write_tables_xlsx(tables, tmp_path / "t.xlsx", about=[("n", 3)], text=lambda s: "'" + s if s.startswith("=") else s)
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["about", long[:31], long[:29] + "_2", "odd_name_"]
    assert book[long[:31]]["A2"].value == 1.5 and book[long[:31]]["A2"].data_type == "n"
    assert book["odd_name_"]["A2"].value == "'=1+1"
