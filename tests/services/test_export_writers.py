"""The fast paths of the CSV and XLSX writers give the same cells as the plain ones."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from surveyapp.services.exports import _csv_numbers, _workbook_numbers, each_distinct
from surveyapp.services.spreadsheet_safety import neutralise_cell


def _csv_text(array: pa.Array) -> bytes:
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table({"x": array}), sink,
                     write_options=pa_csv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def test_whole_number_columns_are_written_as_the_float_writer_writes_them():
    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 8, size=5000).astype(float)
    ratings[rng.random(5000) < 0.2] = np.nan
    columns = {
        "ratings": ratings,
        "codes": np.array([-99.0, -98.0, 0.0, 1.0, 100.0, np.nan]),
        "large": np.array([123456789.0, 9999999999.0, -9999999999.0, -3.0]),
        "all missing": np.full(4, np.nan),
        "empty": np.array([], dtype=float),
    }
    for name, values in columns.items():
        array = _csv_numbers(values)
        assert pa.types.is_integer(array.type), name
        assert _csv_text(array) == _csv_text(pa.array(values, from_pandas=True)), name


def test_other_float_columns_stay_floats():
    for values in (np.array([1.0, 2.5, np.nan]), np.array([1e10, 2.0]), np.array([12345678901.0]), np.array([-0.0, 1.0]),
                   np.array([np.inf, 1.0]), np.array([0.1, 1e-7])):
        array = _csv_numbers(values)
        assert pa.types.is_floating(array.type), values
        assert _csv_text(array) == _csv_text(pa.array(values, from_pandas=True))


def test_workbook_numbers_leave_missing_and_infinite_cells_to_the_writer_as_nan():
    cells = _workbook_numbers(np.array([1.0, np.nan, np.inf, -np.inf, 2.5]))
    assert cells[0] == 1.0 and cells[4] == 2.5
    assert all(np.isnan(cell) for cell in cells[1:4])


def test_each_distinct_converts_like_a_plain_loop():
    values = ["complete", "=1+1", None, "complete", "-2", "ok", None, float("nan")]
    expected = [neutralise_cell(value) for value in values]
    got = each_distinct(values, neutralise_cell)
    assert got[:7] == expected[:7] and np.isnan(got[7])
