"""Shared pieces of every analysis result: the methods record and the
"too few cases" error."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache


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


#: Stated minimum n of each headline figure. Below it a figure is still shown
#: but marked "few responses" (``Methods.few_responses``, a ``few_responses``
#: column), because it can swing widely from one sample to the next.
#: Means, gaps, ratios and their t intervals: 30, the usual central-limit rule
#: of thumb for Likert means; reliability (alpha, omega): 30, below which
#: alpha's sampling error is of the order of 0.1 (Feldt 1965, Psychometrika
#: 30, 357-370, gives its distribution); KANO shares: 30 answer pairs, so one
#: answer moves a share by at most about 3 points; regression paths and
#: bootstrap mediation: 100 (Fritz & MacKinnon 2007, Psychological Science
#: 18, 233-239: smaller samples detect only large indirect effects); PLS
#: customer-satisfaction index: 100 (a floor above the "ten times the
#: largest number of arrows into a construct" rule, Hair et al. 2017, A
#: Primer on PLS-SEM, 2nd ed., ch. 1).
MIN_N: dict[str, int] = {
    "means": 30,
    "reliability": 30,
    "kano": 30,
    "paths": 100,
    "csi": 100,
}


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
    min_n : the stated minimum n of the result's headline figure
        (:data:`MIN_N`), ``None`` when none is stated.
    """

    analysis: str
    n_used: int
    n_excluded: int = 0
    missing: str = ""
    formula: str = ""
    test: str = ""
    reference: str = ""
    notes: list[str] = field(default_factory=list)
    min_n: int | None = None

    @property
    def few_responses(self) -> bool:
        """True when the result rests on fewer cases than its stated minimum."""
        return self.min_n is not None and self.n_used < self.min_n

    def as_text(self) -> str:
        """One line for a methods section.

        Examples
        --------
        >>> Methods("SERVQUAL gaps", n_used=6, test="paired t", min_n=30).as_text()
        'SERVQUAL gaps: n = 6 (FEW RESPONSES: below the stated minimum of 30); test: paired t.'
        """
        parts = [f"{self.analysis}: n = {self.n_used}"]
        if self.few_responses:
            parts[0] += f" (FEW RESPONSES: below the stated minimum of {self.min_n})"
        if self.n_excluded:
            parts.append(f"{self.n_excluded} excluded")
        for label, value in (("missing values", self.missing), ("formula", self.formula),
                             ("test", self.test), ("reference", self.reference)):
            if value:
                parts.append(f"{label}: {value}")
        parts.extend(self.notes)
        return "; ".join(parts) + "."


def float_columns(frame, columns):
    """``frame[columns]`` as float64; text that holds numbers is parsed (``pandas.to_numeric``,
    errors raise). Columns that are numeric already are not parsed again: a per-column
    ``apply`` costs seconds on a million rows and changes nothing there.

    The result is a frame of one float64 block of its own (:func:`float_matrix`).
    """
    import pandas as pd

    columns = list(columns)
    return pd.DataFrame(float_matrix(frame, columns), index=frame.index, columns=columns, copy=False)


def float_matrix(frame, columns):
    """``frame[columns]`` as one new float64 matrix (rows x columns, each column contiguous:
    the layout of a pandas block), text parsed as in :func:`float_columns`.

    Filled a column at a time: selecting the columns first and converting them
    copies the block twice (and once more per dtype when the frame's columns
    are of several dtypes, e.g. ``float32`` answers beside ``float64`` ones).

    Examples
    --------
    >>> import pandas as pd
    >>> float_matrix(pd.DataFrame({"a": [1, 2], "b": ["3.5", None], "c": [0.5, 1]}), ["b", "a"]).tolist()
    [[3.5, 1.0], [nan, 2.0]]
    """
    import numpy as np
    import pandas as pd

    columns = list(columns)
    matrix = np.empty((len(columns), len(frame)))
    for row, column in zip(matrix, columns):
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values.dtype):
            values = pd.to_numeric(values, errors="raise")
        row[:] = values.astype("float64", copy=False).to_numpy()
    return matrix.T


def release_freed_memory() -> None:
    """Hand the heap memory freed so far back to the system (glibc ``malloc_trim``).

    glibc keeps freed blocks below its mmap threshold (32 MB once large arrays
    have been freed) in the process heap for reuse; after a section of the
    analysis has freed hundreds of MB of columns, the next section's large
    arrays come from fresh pages while the freed ones stay resident, so the
    resident peak is the sum of both. ``malloc_trim(0)`` returns the free heap
    pages (``madvise``), a few ms. Where there is no glibc nothing is done.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's ``malloc_trim``, looked up once (None where there is no glibc)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def row_means(values):
    """Mean of the answered (non-NaN) cells of each row of a float matrix, NaN where a row
    has none: what ``DataFrame.mean(axis=1)`` computes (sum of the answered cells over
    their count), without a frame and its mask per call.

    Examples
    --------
    >>> import numpy as np
    >>> row_means(np.array([[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]])).tolist()
    [1.5, nan]
    """
    import numpy as np

    missing = np.isnan(values)
    answered = values.shape[1] - missing.sum(axis=1)
    total = np.where(missing, 0.0, values).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(answered > 0, total / answered, np.nan)


def complete_rows(frame, columns):
    """The rows of ``frame[columns]`` answered on every column, as one float64 matrix
    (listwise deletion, the rows ``DataFrame.dropna()`` keeps, in order).

    One copy, the column selection; the row filter copies again only when
    some row is incomplete. ``astype`` + ``dropna`` on a frame copy twice and
    build a frame each time (a second per statistic at a million rows).

    Examples
    --------
    >>> import pandas as pd
    >>> complete_rows(pd.DataFrame({"a": [1, 2, None], "b": [3, None, 5], "c": [1, 1, 1]}), ["a", "c"]).tolist()
    [[1.0, 1.0], [2.0, 1.0]]
    """
    import numpy as np

    values = frame[list(columns)].to_numpy(dtype="float64")
    complete = ~np.isnan(values).any(axis=1)
    return values if complete.all() else values[complete]


def paired_blocks(frame, pairs):
    """Expectation and perception matrices ``(E, P, complete)`` of ``{item: (E col, P col)}``.

    Columns are item codes; a respondent-item enters only when both E and P
    are answered (pairwise deletion), so ``E`` and ``P`` are NaN together.
    """
    import numpy as np
    import pandas as pd

    items = list(pairs)
    # One float64 matrix per facet (a single copy each), masked in place: a
    # frame per column and DataFrame.where would copy every column twice more.
    e = frame[[pairs[i][0] for i in items]].to_numpy(dtype="float64", copy=True)
    p = frame[[pairs[i][1] for i in items]].to_numpy(dtype="float64", copy=True)
    complete = ~(np.isnan(e) | np.isnan(p))
    e[~complete] = np.nan
    p[~complete] = np.nan
    return (pd.DataFrame(e, index=frame.index, columns=items, copy=False),
            pd.DataFrame(p, index=frame.index, columns=items, copy=False),
            pd.DataFrame(complete, index=frame.index, columns=items, copy=False))


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
