"""Cells safe to open in a spreadsheet (CSV/XLSX downloads).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and a leading tab or carriage return can hide
such a prefix; a respondent's comment or an uploaded e-mail address could
then exfiltrate data or run commands when a researcher opens the file
(OWASP "CSV injection"). Prefixing an apostrophe makes the spreadsheet show
the text as typed.

Control characters are removed first (:func:`~surveyapp.services.text_safety.clean_text`):
openpyxl refuses them, and a removed one must not unmask a formula behind it.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable, Sequence

from .text_safety import clean_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run as a formula.

    Numbers, ``None`` and other non-text values pass through unchanged, so
    numeric columns (negative gaps included) stay numeric. Text loses its
    control characters (they break XLSX, SPSS and Stata files).
    """
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (RFC 4180 line ends) of ``header`` and ``rows``: every text cell neutralised,
    missing values (``None``, NaN) written as empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_cell(str(name)) for name in header])
    for row in rows:
        writer.writerow(["" if is_missing(value) else neutralise_cell(value) for value in row])
    return buffer.getvalue()


def is_missing(value: Any) -> bool:
    """``None`` or a float NaN: an empty cell."""
    return value is None or (isinstance(value, float) and math.isnan(value))
