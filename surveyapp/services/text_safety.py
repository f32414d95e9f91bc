"""One cleaning rule for text that enters the app from outside (forms, uploaded files).

C0 control characters other than tab, line feed and carriage return, DEL,
and lone UTF-16 surrogates have no place in a comment, a title or a KANO
feature; but they break things downstream: PostgreSQL refuses NUL in a text
column (``psycopg.DataError``), and openpyxl refuses the C0 controls in a
cell (``IllegalCharacterError``, the same set as its ``ILLEGAL_CHARACTERS_RE``),
so a single respondent could make every Excel export of a survey fail.
They are removed; everything else (Chinese text, emoji, line breaks) is kept.
"""
from __future__ import annotations

import re
from typing import overload

# C0 controls except \t \n \r, then DEL, then lone surrogates (invalid in UTF-8).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@overload
def clean_text(value: str) -> str: ...
@overload
def clean_text(value: None) -> None: ...


def clean_text(value: str | None) -> str | None:
    """``value`` without control characters (tab and line breaks kept); ``None`` stays ``None``.

    Examples
    --------
    >>> clean_text("ok\\x00 fine\\x1b\\n")
    'ok fine\\n'
    """
    if value is None:
        return None
    return CONTROL_CHARACTERS.sub("", value)
