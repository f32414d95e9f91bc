"""Shared pieces of every analysis result: the methods record and the
"too few cases" error."""
from __future__ import annotations

from dataclasses import dataclass, field


class InsufficientData(ValueError):
    """Raised when an analysis has too few usable cases to be meaningful.

    The message names the statistic, the n available and the n required, so
    the dashboard and reports can show it instead of a table of NaN.
    """

    def __init__(self, what: str, n: int, needed: int):
        self.what, self.n, self.needed = what, n, needed
        super().__init__(f"{what}: {n} usable case(s), at least {needed} needed")


class UndefinedStatistic(InsufficientData):
    """Raised when the data leave a statistic undefined although there are
    cases enough (a constant score, no variance): a property of the data, so
    reports show it under "not computed" like too few cases.
    """

    def __init__(self, what: str, reason: str):
        self.what, self.n, self.needed = what, None, None
        ValueError.__init__(self, f"{what}: {reason}")


def require_n(what: str, n: int, needed: int) -> None:
    """Raise :class:`InsufficientData` when ``n < needed``."""
    if n < needed:
        raise InsufficientData(what, int(n), int(needed))


@dataclass
class Methods:
    """How a result was made, for the methods section of reports.

    Attributes
    ----------
    analysis : short name of the analysis ("SERVQUAL gaps").
    n_used : cases that entered the computation.
    n_excluded : cases dropped by data-quality screening or filters.
    missing : how missing answers were handled ("listwise", "pairwise", ...).
    formula : the formula in plain text.
    test : test(s) and variant(s) used, if any.
    reference : the source the formula or test follows.
    notes : anything else a reader needs (e.g. how zero differences were treated).
    """

    analysis: str
    n_used: int
    n_excluded: int = 0
    missing: str = ""
    formula: str = ""
    test: str = ""
    reference: str = ""
    notes: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        parts = [f"{self.analysis}: n = {self.n_used}"]
        if self.n_excluded:
            parts.append(f"{self.n_excluded} excluded")
        for label, value in (("missing values", self.missing), ("formula", self.formula),
                             ("test", self.test), ("reference", self.reference)):
            if value:
                parts.append(f"{label}: {value}")
        parts.extend(self.notes)
        return "; ".join(parts) + "."


def paired_blocks(frame, pairs):
    """Expectation and perception matrices ``(E, P, complete)`` of ``{item: (E col, P col)}``.

    Columns are item codes; a respondent-item enters only when both E and P
    are answered (pairwise deletion), so ``E`` and ``P`` are NaN together.
    """
    import pandas as pd

    E = pd.DataFrame({i: frame[e].astype("float64") for i, (e, _) in pairs.items()}, index=frame.index)
    P = pd.DataFrame({i: frame[p].astype("float64") for i, (_, p) in pairs.items()}, index=frame.index)
    complete = E.notna() & P.notna()
    return E.where(complete), P.where(complete), complete


def item_ranges(items, scale) -> dict:
    """``{item: (min, max)}`` from one ``(min, max)`` for all items or a mapping per item.

    Raises ValueError when an item has no range or a range is not min < max.
    """
    from collections.abc import Mapping

    items = list(items)
    if scale is None:
        raise ValueError("the scale end points are needed: pass scale=(min, max) or {item: (min, max)}")
    if isinstance(scale, Mapping):
        missing = [i for i in items if i not in scale]
        if missing:
            raise ValueError(f"scale has no (min, max) for item(s) {', '.join(missing)}")
        ranges = {i: tuple(scale[i]) for i in items}
    else:
        ranges = {i: tuple(scale) for i in items}
    for item, bounds in ranges.items():
        if len(bounds) != 2 or not bounds[0] < bounds[1]:
            raise ValueError(f"scale for {item} must be (min, max) with min < max; got {bounds}")
    return ranges
