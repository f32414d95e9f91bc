"""Things the respondent pages build from a frozen version, language and page, made once.

A survey page's form class and the HTML of its questions depend only on
the frozen version, the language and which questions are shown, never on
the request; building them on every request was most of a page save's
server time. :func:`per_version_item` keeps them per version (in the
version cache of :mod:`surveyapp.services.version_cache`, so a version id
reused after a deletion never sees another version's entries), keyed by
whatever else they depend on.
"""
from __future__ import annotations

import threading
from typing import Callable, Hashable, TypeVar

from ..models import SurveyVersion
from ..services.version_cache import per_version

T = TypeVar("T")


class _Table:
    """Values of one version, built on first use (by at most one thread at a time per key)."""

    def __init__(self) -> None:
        self.values: dict[Hashable, object] = {}
        self.lock = threading.Lock()


def per_version_item(kind: str, version: SurveyVersion | None, key: Hashable,
                     build: Callable[[], T]) -> T:
    """``build()`` for ``(version, key)``, made once per app and frozen version, then shared.

    ``build`` must depend on nothing but the frozen version and ``key``, and
    its value must never be changed by a caller. Without a frozen, stored
    version (the researcher's preview of a draft) it is built every time.
    """
    if version is None or version.id is None or version.frozen_at is None:
        return build()
    table: _Table = per_version(kind, version, _Table)
    found = table.values.get(key, _Table)
    if found is not _Table:
        return found  # type: ignore[return-value]
    with table.lock:
        if key not in table.values:
            table.values[key] = build()
        return table.values[key]  # type: ignore[return-value]
