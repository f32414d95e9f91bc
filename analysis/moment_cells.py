"""The dashboard's sufficient statistics of a survey: what is kept per cell, and what follows from it.

A *cell* is a set of responses whose sums are kept together (the whole
survey, one segment value, one day). :class:`MomentLayout` says, for one
codebook, which columns are summed in which block (:class:`analysis.moments.Moments`)
and packs all of a cell's blocks into one flat float64 vector, so that
combining cells is adding vectors and storing one is writing its bytes.

The columns are the respondent-level values the dashboard's statistics are
means of:

* ``items``: each SERVQUAL expectation and perception column (item gaps,
  t tests, CIs, ratio of means);
* ``units``: each respondent's mean E and mean P per dimension (over all the
  dimension's items, as :func:`analysis.servqual.servqual` requires) and
  overall (the mean of the dimension means when every dimension is there);
* ``negative``: 0/1 "gap below 0" per item, dimension and overall (the
  share of customers below expectation);
* ``scores``: the respondent scores that segments and trends compare
  (``ratio`` = Σ P / Σ E over answered pairs, ``gap`` = the unweighted
  SERVQUAL gap), each respondent's mean E and mean P (the survey's ratio of
  means), 0/1 delighted/met/disappointed, and the construct scores of the
  relationship and emotion instruments;
* ``alpha:<score>:<dimension>``: E, P and P - E item columns of each
  SERVQUAL dimension over the respondents complete on them (Cronbach's
  alpha needs listwise rows).

Rows are the complete responses after the per-respondent screening rules
(straight-lining, identical E/P, questionable KANO answers: each decided on
the response alone). The speed rule of :func:`analysis.report.analyse_survey`
(a third of the *selection's* median duration) is not applied here: its
threshold moves with every response and differs per filter, so it cannot be
kept in a cell. Whoever reads cells subtracts the vectors of the selection's
speeders, computed by the same functions from their rows (the app does so in
services/dashboard_moments.py), and gets the raw-row analysis exactly.

Everything here is a pure function of frames and vectors (no database).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from .common import InsufficientData
from .instruments import Codebook
from .moments import Moments, anova_oneway, correlations, cronbach_alpha, describe, paired_gaps
from .report import (EMOTIONS, RELATIONSHIP, SERVQUAL, ReportOptions, construct_columns, ep_pairs,
                     pair_dimensions, screening_rules)
from . import screening

__all__ = ["MomentLayout", "MomentFigures", "COUNTERS", "derive", "figures", "holm", "segment_anova",
           "period_means"]

#: The counters at the head of every cell vector.
COUNTERS = ("complete", "used", "partial")
#: Respondent scores kept per cell, compared across segments and drawn as trends.
SCORES = ("ratio", "gap")
RATIO_CLASSES = ("delighted", "met", "disappointed")


@dataclass(frozen=True)
class MomentLayout:
    """Which columns a codebook's cells sum, and where each block sits in a cell vector.

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> layout = MomentLayout.of(compose_codebook([(load_instruments()["servqual"], None)]))
    >>> layout.blocks[0][0], len(layout.pairs), len(layout.dimensions)
    ('items', 22, 5)
    """

    blocks: tuple[tuple[str, tuple[str, ...], bool], ...]
    pairs: Mapping[str, tuple[str, str]]
    dimensions: Mapping[str, Sequence[str]]
    segments: tuple[str, ...]
    constructs: Mapping[str, Sequence[str]]
    emotions: Mapping[str, Sequence[str]]

    @classmethod
    def of(cls, codebook: Codebook) -> "MomentLayout":
        pairs = ep_pairs(codebook, SERVQUAL) if codebook.select(instrument=SERVQUAL) else {}
        dimensions = pair_dimensions(codebook, pairs) if pairs else {}
        constructs = construct_columns(codebook, RELATIONSHIP) if codebook.select(instrument=RELATIONSHIP) else {}
        emotions = construct_columns(codebook, EMOTIONS) if codebook.select(instrument=EMOTIONS) else {}
        blocks: list[tuple[str, tuple[str, ...], bool]] = []
        if pairs:
            blocks.append(("items", tuple(c for pair in pairs.values() for c in pair), False))
            units = [*dimensions, "overall"]
            blocks.append(("units", tuple(f"{side}|{unit}" for unit in units for side in "EP"), False))
            blocks.append(("negative", tuple(f"neg|{unit}" for unit in [*pairs, *units]), False))
        scores = ([*SCORES, "resp_E", "resp_P", *RATIO_CLASSES] if pairs else []) + \
            [f"construct|{name}" for name in constructs] + [f"emotion|{name}" for name in emotions]
        if scores:
            blocks.append(("scores", tuple(scores), False))
        for dimension, items in dimensions.items():
            if len(items) >= 2:
                for score in ("E", "P", "gap"):
                    blocks.append((f"alpha:{score}:{dimension}",
                                   tuple(f"{score}|{item}" for item in items), True))
        return cls(tuple(blocks), pairs, dimensions,
                   tuple(v.name for v in codebook.select(segment=True)), constructs, emotions)

    @cached_property
    def offsets(self) -> dict[str, tuple[int, int]]:
        """Block name -> (start, number of columns) in the cell vector."""
        out, start = {}, len(COUNTERS)
        for name, columns, _complete in self.blocks:
            out[name] = (start, len(columns))
            start += 4 * len(columns) ** 2
        return out

    @property
    def size(self) -> int:
        """Length of a cell vector."""
        if not self.blocks:
            return len(COUNTERS)
        start, p = self.offsets[self.blocks[-1][0]]
        return start + 4 * p * p

    def block(self, vector: np.ndarray, name: str) -> Moments:
        """The moments of block ``name`` in ``vector`` (views, no copy)."""
        start, p = self.offsets[name]
        columns = next(c for n, c, _ in self.blocks if n == name)
        parts = vector[start:start + 4 * p * p].reshape(4, p, p)
        return Moments(columns, parts[0], parts[1], parts[2], parts[3])

    def vector(self, derived: pd.DataFrame | np.ndarray, complete: int, partial: int = 0) -> np.ndarray:
        """The cell vector of the rows of ``derived`` (from :func:`derive`, or its values as an
        array in the order of :attr:`columns`), plus the counters."""
        values = derived.loc[:, list(self.columns)].to_numpy(dtype=float) \
            if isinstance(derived, pd.DataFrame) else derived
        out = np.zeros(self.size)
        out[:3] = (complete, len(values), partial)
        if not len(values):
            return out  # no rows: every sum is 0 (a cell of partial or screened-out responses only)
        position = self.positions
        for name, columns, listwise in self.blocks:
            start, p = self.offsets[name]
            block = values[:, [position[c] for c in columns]]
            if listwise:
                block = block[~np.isnan(block).any(axis=1)]
            moments = Moments.from_array(block, columns)
            out[start:start + 4 * p * p] = np.concatenate(
                [moments.n.ravel(), moments.sx.ravel(), moments.sxx.ravel(), moments.sxy.ravel()])
        return out

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every column of the blocks, once each, in block order."""
        return tuple(dict.fromkeys(c for _name, columns, _l in self.blocks for c in columns))

    @cached_property
    def positions(self) -> dict[str, int]:
        return {column: i for i, column in enumerate(self.columns)}

    def counters(self, vector: np.ndarray) -> dict[str, int]:
        return {name: int(round(vector[i])) for i, name in enumerate(COUNTERS)}


def derive(frame: pd.DataFrame, codebook: Codebook, layout: MomentLayout) -> pd.DataFrame:
    """The columns of ``layout``'s blocks for the complete responses of ``frame`` that pass screening.

    ``frame`` is a response frame (docs/data-model.md §3) of *complete*
    responses; the result keeps the rows that the per-respondent screening
    rules do not flag (indexed by their position in ``frame``), one column
    per layout column.

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> from analysis.synthetic import synthetic_frame
    >>> codebook = compose_codebook([(load_instruments()["servqual"], None)])
    >>> layout = MomentLayout.of(codebook)
    >>> rows = synthetic_frame(codebook, 40, seed=1).query("status == 'complete'")
    >>> derived = derive(rows, codebook, layout)
    >>> len(derived) <= len(rows), "ratio" in derived and "E|tangibles" in derived
    (True, True)
    """
    frame = codebook.without_not_applicable(frame.reset_index(drop=True))
    # The kept rows keep their position in ``frame``: callers group them by cell.
    data = frame[_screened(frame, codebook)]
    out: dict[str, pd.Series | np.ndarray] = {}
    if layout.pairs:
        # numpy, not pandas: this runs once per completed response (services/moment_store.py),
        # where pandas' per-call overhead would cost more than the arithmetic.
        items = list(layout.pairs)
        raw_E = data[[e for e, _p in layout.pairs.values()]].to_numpy(dtype=float)
        raw_P = data[[p for _e, p in layout.pairs.values()]].to_numpy(dtype=float)
        both = ~np.isnan(raw_E) & ~np.isnan(raw_P)
        E, P = np.where(both, raw_E, np.nan), np.where(both, raw_P, np.nan)
        for i, (e, p) in enumerate(layout.pairs.values()):
            out[e], out[p] = E[:, i], P[:, i]
        position = {item: i for i, item in enumerate(items)}
        units = [*layout.dimensions, "overall"]
        dim_E = np.full((len(data), len(units)), np.nan)
        dim_P = np.full((len(data), len(units)), np.nan)
        with np.errstate(invalid="ignore"):
            for j, members in enumerate(layout.dimensions.values()):
                index = [position[item] for item in members]
                full = both[:, index].all(axis=1)
                dim_E[full, j] = E[full][:, index].mean(axis=1)
                dim_P[full, j] = P[full][:, index].mean(axis=1)
            everywhere = ~np.isnan(dim_E[:, :-1]).any(axis=1)
            dim_E[everywhere, -1] = dim_E[everywhere, :-1].mean(axis=1)
            dim_P[everywhere, -1] = dim_P[everywhere, :-1].mean(axis=1)
            for j, unit in enumerate(units):
                out[f"E|{unit}"], out[f"P|{unit}"] = dim_E[:, j], dim_P[:, j]
            gaps = np.concatenate([P - E, dim_P - dim_E], axis=1)
            negative = np.where(np.isnan(gaps), np.nan, (gaps < 0).astype(float))
            for j, unit in enumerate([*items, *units]):
                out[f"neg|{unit}"] = negative[:, j]
            answered = both.any(axis=1)
            count = both.sum(axis=1)
            sum_e, sum_p = np.nansum(E, axis=1), np.nansum(P, axis=1)
            ratio = np.where(answered & (sum_e > 0), sum_p / np.where(sum_e > 0, sum_e, 1), np.nan)
            out["ratio"], out["gap"] = ratio, dim_P[:, -1] - dim_E[:, -1]
            out["resp_E"] = np.where(answered, sum_e / np.maximum(count, 1), np.nan)
            out["resp_P"] = np.where(answered, sum_p / np.maximum(count, 1), np.nan)
            for label, band in (("delighted", ratio > 1), ("met", ratio == 1), ("disappointed", ratio < 1)):
                out[label] = np.where(np.isnan(ratio), np.nan, band.astype(float))
        # Alpha of E (of P) takes the respondents complete on the dimension's E (P) items,
        # whatever their other answers (analysis.reliability.servqual_reliability).
        for i, item in enumerate(items):
            out[f"E|{item}"], out[f"P|{item}"] = raw_E[:, i], raw_P[:, i]
            out[f"gap|{item}"] = raw_P[:, i] - raw_E[:, i]
    # As analyse_survey scores them (analysis.relationship.construct_scores; the tests check
    # equality): relationship constructs listwise with reverse items recoded, emotions as the
    # mean of the answered items. In numpy because it runs once per completed response.
    if layout.constructs:
        reverse = {v.name for v in codebook.select(instrument=RELATIONSHIP) if v.reverse}
        for name, columns in layout.constructs.items():
            out[f"construct|{name}"] = _item_means(data, codebook, columns, reverse, len(columns))
    for name, columns in layout.emotions.items():
        out[f"emotion|{name}"] = _item_means(data, codebook, columns, set(), 1)
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in out.items()}, index=data.index)


def _item_means(data: pd.DataFrame, codebook: Codebook, columns: Sequence[str], reverse: set[str],
                need: int) -> np.ndarray:
    """Mean of ``columns`` (reverse items recoded ``min + max - x``) where at least ``need`` are answered."""
    values = data[list(columns)].to_numpy(dtype=float)
    for j, column in enumerate(columns):
        if column in reverse:
            low, high = codebook[column].scale["min"], codebook[column].scale["max"]
            values[:, j] = low + high - values[:, j]
    answered = (~np.isnan(values)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        means = np.nansum(values, axis=1) / np.maximum(answered, 1)
    return np.where(answered >= need, means, np.nan)


def _screened(frame: pd.DataFrame, codebook: Codebook) -> np.ndarray:
    """True for the rows the per-respondent screening rules keep (see the module docstring)."""
    if not len(frame):
        return np.zeros(0, dtype=bool)
    rules = screening_rules(frame.drop(columns=["duration_seconds"], errors="ignore"), codebook,
                            ReportOptions())
    if not rules:
        return np.ones(len(frame), dtype=bool)
    ids = frame["response_id"] if "response_id" in frame else pd.Series(frame.index)
    flags = screening.flag_responses(frame.assign(response_id=ids.to_numpy()), rules)
    return ~flags["flagged"].to_numpy(dtype=bool)


# --------------------------------------------------------------------------
# Statistics of a cell vector
# --------------------------------------------------------------------------

@dataclass
class MomentFigures:
    """The dashboard's moment-based figures of one set of responses.

    Attributes
    ----------
    counts : ``complete, used, partial``.
    items, dimensions, overall : SERVQUAL paired gap tests (the t-test columns of
        :func:`analysis.servqual.paired_gap_test`, ``share_negative``, Holm and
        Benjamini-Hochberg adjusted ``p_t`` across items and across dimensions).
    score : the unweighted SERVQUAL score (mean of the dimension mean gaps) and its n.
    ratio : the survey's ratio of means P / E over respondents' own means, with
        the shares of delighted/met/disappointed respondents.
    alpha : Cronbach's alpha per dimension and score (E, P, gap).
    scores : ``describe`` of the respondent scores and construct scores.
    construct_correlations : ``x, y, n, r, p``: Pearson r of the construct scores, pairwise.
    """

    counts: dict[str, int]
    items: pd.DataFrame | None = None
    dimensions: pd.DataFrame | None = None
    overall: pd.DataFrame | None = None
    score: dict | None = None
    ratio: dict | None = None
    alpha: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    construct_correlations: pd.DataFrame | None = None
    skipped: dict[str, str] = field(default_factory=dict)


def _gap_table(layout: MomentLayout, vector: np.ndarray, block: str,
               units: Mapping[str, tuple[str, str]], confidence: float, min_n: int) -> pd.DataFrame:
    table = paired_gaps(layout.block(vector, block), units, confidence)
    negative = describe(layout.block(vector, "negative")).set_index("variable")["mean"]
    table["share_negative"] = [negative.get(f"neg|{unit}", np.nan) for unit in units]
    return table[table["n"] >= min_n].reset_index(drop=True)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values: sorted ascending, ``p_(i) (m - i + 1)``
    made non-decreasing, capped at 1 (the values of ``multipletests(method="holm")``).

    Written out because statsmodels' Holm branch calls ``gc.collect()`` on every
    call, which costs half a second in a web process holding many objects.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p_values = np.asarray(p_values, dtype=float)
    order = np.argsort(p_values, kind="stable")
    m = len(p_values)
    adjusted = np.minimum(np.maximum.accumulate(p_values[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def _adjust(table: pd.DataFrame) -> pd.DataFrame:
    """Holm and Benjamini-Hochberg adjusted ``p_t``, as :func:`analysis.servqual.servqual` reports."""
    holm_p, bh = np.full(len(table), np.nan), np.full(len(table), np.nan)
    ok = table["p_t"].notna().to_numpy()
    if ok.any():
        holm_p[ok] = holm(table.loc[ok, "p_t"].to_numpy())
        bh[ok] = stats.false_discovery_control(table.loc[ok, "p_t"].to_numpy(), method="bh")
    return table.assign(p_t_holm=holm_p, p_t_bh=bh)


def figures(layout: MomentLayout, vector: np.ndarray, confidence: float = 0.95,
            min_n: int = 3) -> MomentFigures:
    """Every moment-based figure of the responses summed in ``vector``.

    Each statistic is the one of :mod:`analysis.moments` on the block that
    holds its columns; ``min_n`` is the fewest pairs a SERVQUAL item or
    dimension needs to be tested (as in :func:`analysis.servqual.servqual`).

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> from analysis.synthetic import synthetic_frame
    >>> codebook = compose_codebook([(load_instruments()["servqual"], None)])
    >>> layout = MomentLayout.of(codebook)
    >>> rows = synthetic_frame(codebook, 40, seed=1).query("status == 'complete'")
    >>> half = len(rows) // 2   # two cells, added: the same as one cell of every row
    >>> vector = (layout.vector(derive(rows[:half], codebook, layout), half)
    ...           + layout.vector(derive(rows[half:], codebook, layout), len(rows) - half))
    >>> result = figures(layout, vector)
    >>> result.counts["complete"] == len(rows), list(result.items.columns[:3])
    (True, ['item', 'dimension', 'n'])
    """
    result = MomentFigures(layout.counters(vector))
    if layout.pairs:
        items = _gap_table(layout, vector, "items", layout.pairs, confidence, min_n)
        dimension_of = {item: d for d, its in layout.dimensions.items() for item in its}
        items.insert(1, "dimension", items["item"].map(dimension_of))
        result.items = _adjust(items)
        units = {unit: (f"E|{unit}", f"P|{unit}") for unit in [*layout.dimensions, "overall"]}
        table = _gap_table(layout, vector, "units", units, confidence, min_n)
        dims = table[table["item"] != "overall"].rename(columns={"item": "dimension"})
        result.dimensions = _adjust(dims.reset_index(drop=True))
        result.overall = table[table["item"] == "overall"].rename(columns={"item": "level"})
        if len(result.overall) and len(result.dimensions) == len(layout.dimensions):
            result.score = {"score": "unweighted", "value": float(result.dimensions["mean_gap"].mean()),
                            "n": int(result.overall["n"].iloc[0])}
        result.ratio = _ratio(layout, vector)
        result.alpha = _alpha_table(layout, vector)
    if any(name == "scores" for name, _c, _l in layout.blocks):
        moments = layout.block(vector, "scores")
        result.scores = describe(moments)
        names = [c for c in moments.columns if c.startswith("construct|")]
        if len(names) >= 2:
            result.construct_correlations = _correlation_table(_subset(moments, names))
    return result


def _correlation_table(moments: Moments) -> pd.DataFrame:
    """``x, y, n, r, p`` per pair, as :func:`analysis.relationship.construct_correlations` reports
    (pairwise rows; r and p need three cases and variance in both)."""
    r, n = correlations(moments)
    names = list(moments.columns)
    rows = []
    for i, j in itertools.combinations(range(len(names)), 2):
        count, value = int(n.iat[i, j]), float(r.iat[i, j])
        p = np.nan
        if count >= 3 and np.isfinite(value):
            t = value * np.sqrt((count - 2) / max(1.0 - value * value, np.finfo(float).tiny))
            p = float(2 * stats.t.sf(abs(t), count - 2))
        else:
            value = np.nan
        rows.append({"x": names[i].split("|", 1)[1], "y": names[j].split("|", 1)[1], "n": count,
                     "r": value, "p": p})
    return pd.DataFrame(rows)


def _subset(moments: Moments, columns: Sequence[str]) -> Moments:
    index = [moments.index(c) for c in columns]
    pick = np.ix_(index, index)
    return Moments(tuple(columns), moments.n[pick], moments.sx[pick], moments.sxx[pick], moments.sxy[pick])


def _ratio(layout: MomentLayout, vector: np.ndarray) -> dict | None:
    table = describe(layout.block(vector, "scores")).set_index("variable")
    n = int(table.loc["resp_E", "n"])
    if n == 0:
        return None
    ratio_of_means = table.loc["resp_P", "sum"] / table.loc["resp_E", "sum"]
    out = {"level": "survey", "n": n, "mean_E": table.loc["resp_E", "mean"],
           "mean_P": table.loc["resp_P", "mean"], "ratio_of_means": ratio_of_means,
           "mean_ratio": table.loc["ratio", "mean"],
           "class": "delighted" if ratio_of_means > 1 else "met" if ratio_of_means == 1 else "disappointed"}
    out.update({f"share_{label}": table.loc[label, "mean"] for label in RATIO_CLASSES})
    return out


def _alpha_table(layout: MomentLayout, vector: np.ndarray) -> pd.DataFrame:
    rows = []
    for name, columns, _listwise in layout.blocks:
        if not name.startswith("alpha:"):
            continue
        _, score, dimension = name.split(":", 2)
        moments = layout.block(vector, name)
        row = {"dimension": dimension, "score": score, "k": len(columns), "n": int(moments.n[0, 0]),
               "alpha": np.nan, "note": ""}
        try:
            # At least three respondents, as analysis.reliability.servqual_reliability asks.
            if row["n"] < 3:
                raise InsufficientData(f"Cronbach's alpha of {dimension} ({score})", row["n"], 3)
            row.update(cronbach_alpha(moments))
        except InsufficientData as error:
            row["note"] = str(error)
        rows.append(row)
    return pd.DataFrame(rows)


def segment_anova(layout: MomentLayout, cells: Mapping[float, np.ndarray], score: str) -> dict:
    """Per-group n, mean, SD of ``score`` and the classic and Welch one-way ANOVA across groups.

    ``cells``: segment value -> that value's cell vector.

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> from analysis.synthetic import synthetic_frame
    >>> codebook = compose_codebook([(load_instruments()["servqual"], None)])
    >>> layout = MomentLayout.of(codebook)
    >>> rows = synthetic_frame(codebook, 60, seed=2).query("status == 'complete'")
    >>> cells = {g: layout.vector(derive(part, codebook, layout), len(part))
    ...          for g, part in ((1.0, rows[::2]), (2.0, rows[1::2]))}
    >>> result = segment_anova(layout, cells, "gap")
    >>> result["groups"]["group"].tolist(), result["df_between"]
    ([1.0, 2.0], 1)
    """
    groups = []
    for value, vector in sorted(cells.items()):
        row = describe(layout.block(vector, "scores")).set_index("variable").loc[score]
        moments = layout.block(vector, "scores")
        i = moments.index(score)
        groups.append({"group": value, "n": int(row["n"]), "mean": row["mean"], "sd": row["sd"],
                       "sum": moments.sx[i, i], "sumsq": moments.sxx[i, i]})
    table = pd.DataFrame(groups)
    return {"groups": table, **anova_oneway(table)}


def period_means(layout: MomentLayout, days: Mapping[str, np.ndarray], score: str, period: str = "W",
                 confidence: float = 0.95) -> pd.DataFrame:
    """Mean, SD and t CI of ``score`` per period from the day cells (``YYYY-MM-DD`` -> vector):
    the table of :func:`analysis.segments.period_summary` (periods without the score left out).

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> from analysis.synthetic import synthetic_frame
    >>> codebook = compose_codebook([(load_instruments()["servqual"], None)])
    >>> layout = MomentLayout.of(codebook)
    >>> rows = synthetic_frame(codebook, 60, seed=2).query("status == 'complete'")
    >>> days = {"2026-03-02": layout.vector(derive(rows[:30], codebook, layout), 30),
    ...         "2026-03-10": layout.vector(derive(rows[30:], codebook, layout), len(rows) - 30)}
    >>> [str(p) for p in period_means(layout, days, "ratio", "W")["period"]]
    ['2026-03-02/2026-03-08', '2026-03-09/2026-03-15']
    """
    by_period: dict[pd.Period, np.ndarray] = {}
    for day, vector in days.items():
        key = pd.Period(day, freq=period)
        by_period[key] = by_period[key] + vector if key in by_period else vector.copy()
    rows = []
    for key in sorted(by_period):
        row = describe(layout.block(by_period[key], "scores")).set_index("variable").loc[score]
        n = int(row["n"])
        if n == 0:
            continue
        out = {"period": key, "n": n, "mean": row["mean"], "sd": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "note": "one response: no interval"}
        if n >= 2:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * row["sd"] / np.sqrt(n)
            out.update(sd=row["sd"], ci_low=row["mean"] - half, ci_high=row["mean"] + half, note="")
        rows.append(out)
    return pd.DataFrame(rows)
