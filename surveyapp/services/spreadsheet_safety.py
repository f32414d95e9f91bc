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

from typing import Any

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
