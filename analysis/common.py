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
