"""Work that depends only on a frozen survey version, done once per process and shared.

A survey version's codebook and design never change once it is frozen
(``SurveyVersion.frozen_at``), so what is built from them alone - the parsed
:class:`~analysis.instruments.Codebook`, the page list - is built once and
reused by every request instead of being rebuilt on each one (parsing the
demo codebook deep-copies some 135 variables: about 55 ms a call).

The cache lives on the Flask app (``app.extensions``), so apps on different
databases (tests) never share entries, and is keyed by the version's id and
freeze time, so a version id reused after a deletion is a new entry. It keeps
the :data:`MAX_ENTRIES` most recently used values.

Shared values must not be changed by the request that borrows them:
:func:`deep_freeze` turns dicts and lists into :class:`FrozenDict` and
:class:`FrozenList`, which refuse every in-place change. They stay ``dict``
and ``list`` for reading, JSON and templates; ``copy.deepcopy`` and
``.copy()`` give ordinary, changeable copies.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

from flask import current_app, has_app_context

from ..models import SurveyVersion

MAX_ENTRIES = 256
T = TypeVar("T")
_LOCK = threading.Lock()


def _refuse(self, *args, **kwargs):
    raise TypeError(f"{type(self).__name__} is shared between requests and cannot be changed; "
                    "change a copy (copy.deepcopy or .copy())")


class FrozenDict(dict):
    """A ``dict`` that refuses changes (shared, read-only data)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {copy.deepcopy(key, memo): copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self):
        return (type(self), (dict(self),))


class FrozenList(list):
    """A ``list`` that refuses changes (shared, read-only data)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.deepcopy(value, memo) for value in self]

    def __reduce__(self):
        return (type(self), (list(self),))


def deep_freeze(value: Any) -> Any:
    """``value`` with every dict and list inside it (recursively) made read-only."""
    if isinstance(value, dict):
        return FrozenDict((key, deep_freeze(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        frozen = [deep_freeze(item) for item in value]
        return FrozenList(frozen) if isinstance(value, list) else tuple(frozen)
    return value


def per_version(kind: str, version: SurveyVersion, build: Callable[[], T]) -> T:
    """``build()`` for ``version``, computed once per app and version and then shared.

    ``build`` must depend on nothing but the frozen version and must return a
    value no caller changes (use :func:`deep_freeze`). A version not yet
    stored (no id) or a call outside an app is built every time.
    """
    if version.id is None or version.frozen_at is None or not has_app_context():
        return build()
    cache: OrderedDict[Hashable, Any] = current_app.extensions.setdefault(
        "surveyapp.version_cache", OrderedDict())
    key = (kind, version.id, version.frozen_at.isoformat())
    with _LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = build()
    with _LOCK:
        cache[key] = value
        while len(cache) > MAX_ENTRIES:
            cache.popitem(last=False)
    return value


def version_design(version: SurveyVersion) -> dict[str, Any]:
    """The frozen design of ``version`` (read-only, decoded once per process)."""
    return per_version("design", version, lambda: deep_freeze(version.design or {}))
