"""The dashboard's moment-based figures, read from the stored cells instead of the rows.

When a dashboard filter is a union of stored cells (:func:`plan`: no
filter, values of one segment variable, a date range, versions), the
figures that depend on the data only through sums (SERVQUAL gaps with t and
CI, the ratio of means, alpha, construct correlations, segment ANOVA,
trends, counts) are computed from the sum of those cells, less the
selection's speeders (the survey-relative speed rule, see "The speed rule"
below): the same numbers as :func:`analysis.report.analyse_survey` on the
rows, current as soon as the queue task has applied a new response (seconds;
services/moment_store.py).

The figures that need the rows (Wilcoxon tests, medians, Kruskal-Wallis,
the mediation bootstrap, PLS, KANO tables, IPA, follow-up list) come from
the last full analysis of the same filter (the background job of
services/dashboard_cache.py), which the page labels with its time; until it
has run they show "being computed". :func:`moment_analysis` builds the
:class:`~analysis.report.SurveyAnalysis` the charts draw: the job's result
(or an empty one) with every moment-based table replaced by the one from the
cells.
"""
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from datetime import date, datetime, time as clock

import numpy as np
import pandas as pd
from flask_babel import gettext as _

from analysis import moment_cells
from analysis.common import Methods
from analysis.moment_cells import MomentFigures, MomentLayout
from analysis.reliability import DimensionReliability
from analysis.report import COMPARED_SCORES, ReportOptions, SurveyAnalysis
from analysis.satisfaction import _DIMENSION_COLUMNS, SatisfactionResult
from analysis.segments import GroupComparison
from analysis.servqual import ServqualResult

from analysis.screening import too_fast
from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import MomentApplied, Response, ResponseStatus, Survey
from . import moment_store
from .moment_store import ALL, cells_stamp, layout_of, read_cells, segment_cell

COMPLETE = ResponseStatus.COMPLETE.value
#: The speed rule of analysis.report.screening_rules: too_fast()'s default fraction of the median,
#: and the durations its median needs (fewer, and the whole screening is skipped there).
SPEED_FRACTION = inspect.signature(too_fast).parameters["fraction"].default
MIN_DURATIONS = 3

#: Sections that need the rows: shown from the background job, "being computed" before it.
RAW_SECTIONS = ("kano", "kano_continuous", "paths", "mediation", "emotions", "ipa_stated", "ipa_derived",
                "csi", "follow_up", "respondents")


@dataclass(frozen=True)
class CellPlan:
    """Which cells a filter is the union of, in each of ``version_ids``: the named segment cells,
    or the day cells from ``first_day`` to ``last_day`` (``None`` = open end), or else ``all``."""

    version_ids: tuple[int, ...]
    segment_cells: tuple[str, ...] | None = None
    day_range: tuple[str | None, str | None] | None = None

    @property
    def whole(self) -> bool:
        """No segment or date filter: the segment and day cells split the same responses."""
        return self.segment_cells is None and self.day_range is None


def plan(survey: Survey, filters) -> CellPlan | None:
    """The cells of ``filters``, or ``None`` when it is not a union of stored cells."""
    if not filters.complete_only:
        return None
    versions = [v for v in survey.versions if not filters.versions or v.number in set(filters.versions)]
    if not versions:
        return None
    if filters.segments and (filters.start is not None or filters.end is not None):
        return None
    if len(filters.segments) > 1:
        return None
    version_ids = tuple(sorted(v.id for v in versions))
    if filters.segments:
        (variable, values), = filters.segments.items()
        return CellPlan(version_ids, segment_cells=tuple(segment_cell(variable, v) for v in sorted(set(values))))
    if filters.start is not None or filters.end is not None:
        days = _days(filters.start, filters.end)
        return None if days is None else CellPlan(version_ids, day_range=days)
    return CellPlan(version_ids)


def _days(start, end) -> tuple[str, ...] | None:
    """The day cells from ``start`` to ``end`` inclusive; None for a time of day (not a day boundary)."""
    def as_day(value):
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        return value.date() if value.time() == clock(0) else False
    first, last = as_day(start), as_day(end)
    if first is False or last is False:
        return None
    return (first.isoformat() if first else None, last.isoformat() if last else None)  # type: ignore[return-value]


@dataclass
class CellData:
    """The summed cell of a plan, its layout, and the marginal cells the segment and trend figures use."""

    layout: MomentLayout
    total: np.ndarray
    segments: dict[str, dict[float, np.ndarray]]
    days: dict[str, np.ndarray]


def load(survey: Survey, cell_plan: CellPlan) -> CellData | None:
    """Read and add the cells of ``cell_plan``, less the responses the speed rule excludes.

    None when there are no cells (not built), the versions' layouts differ, or
    the full analysis would screen nobody at all (see :func:`_speed_excluded`).
    The cells and the speed rule's rows are read until the cells did not change
    in between (the queue task may commit meanwhile), so both are of one state.
    """
    for _attempt in range(3):
        before = cells_stamp(survey.id)
        rows = _read(survey, cell_plan)
        if not rows:
            return None
        excluded = _speed_excluded(survey, cell_plan)
        if cells_stamp(survey.id) == before:
            break
    else:
        return None
    if excluded is None:
        return None
    for key, vector in excluded.items():
        if key in rows:
            rows[key] = (rows[key][0] - vector, rows[key][1])
    return _sum(survey, cell_plan, rows)


def _read(survey: Survey, cell_plan: CellPlan) -> dict:
    if cell_plan.whole:
        return read_cells(survey.id, cell_plan.version_ids)
    if cell_plan.segment_cells is not None:
        return read_cells(survey.id, cell_plan.version_ids, cells=cell_plan.segment_cells)
    first, last = cell_plan.day_range
    return {key: value for key, value in read_cells(survey.id, cell_plan.version_ids, prefix="day:").items()
            if (first is None or key[1][4:] >= first) and (last is None or key[1][4:] <= last)}


def _sum(survey: Survey, cell_plan: CellPlan, rows: dict) -> CellData | None:
    versions = [v for v in survey.versions if v.id in cell_plan.version_ids]
    layouts = {v.id: layout_of(v) for v in versions}
    used = sorted({version_id for version_id, _cell in rows})
    layout = layouts[used[0]]
    if any(layouts[v] != layout for v in used[1:]):
        return None  # versions with other item sets: their sums do not add up column by column
    total = np.zeros(layout.size)
    segments: dict[str, dict[float, np.ndarray]] = {}
    days: dict[str, np.ndarray] = {}
    for (_version_id, cell), (vector, _revision) in rows.items():
        if cell_plan.whole and cell != ALL:
            if cell.startswith("seg:"):
                variable, value = cell[4:].rsplit("=", 1)
                group = segments.setdefault(variable, {})
                group[float(value)] = group.get(float(value), 0) + vector
            elif cell.startswith("day:"):
                days[cell[4:]] = days.get(cell[4:], 0) + vector
            continue
        total += vector
        if cell.startswith("day:"):
            days[cell[4:]] = days.get(cell[4:], 0) + vector
    return CellData(layout, total, segments, days)


# --------------------------------------------------------------------------
# The speed rule
# --------------------------------------------------------------------------
#
# analysis.report.analyse_survey screens out responses completed in less than a
# third of the *selection's* median duration (analysis.screening.too_fast). That
# threshold moves with every response and differs per filter, so it cannot be
# kept in the cells; a rule decided per response at completion time would give
# other numbers than the raw-row analysis (71 instead of 75 exclusions in the
# earlier test). The cells therefore hold every response the per-respondent
# rules keep, and each view subtracts the speeders of its own selection: the
# median from the applied set's durations (an index range, ``ix_moment_applied_
# duration``), then the rows below the threshold (a few per cent; their cell
# vectors are recomputed from their rows by the same code that built the cells).
# The figures are then those of the raw-row analysis exactly.

def _selection(survey: Survey, cell_plan: CellPlan):
    """The applied rows counted complete in the plan's selection (a WHERE clause)."""
    table = MomentApplied.__table__
    clause = [table.c.survey_id == survey.id, table.c.counted == COMPLETE,
              table.c.version_id.in_(cell_plan.version_ids)]
    if cell_plan.segment_cells is not None:
        clause.append(or_(*[table.c.segments.contains(f"|{cell}|", autoescape=True)
                            for cell in cell_plan.segment_cells]))
    if cell_plan.day_range is not None:
        first, last = cell_plan.day_range
        if first is not None:
            clause.append(table.c.day >= first)
        if last is not None:
            clause.append(table.c.day <= last)
    return and_(*clause)


def _speed_excluded(survey: Survey, cell_plan: CellPlan) -> dict[tuple[int, str], np.ndarray] | None:
    """The cell vectors to subtract for the speed rule (empty: it excludes nobody; None: the full
    analysis screens nobody at all, as it does with fewer than 3 durations)."""
    table = MomentApplied.__table__
    selection = and_(_selection(survey, cell_plan), table.c.duration_seconds.is_not(None))
    n = db.session.execute(select(func.count()).select_from(table).where(selection)).scalar_one()
    if n == 0:
        return {}  # no durations: analyse_survey adds no speed rule
    if n < MIN_DURATIONS:
        return None  # analyse_survey's screening then fails as a whole: the rows decide
    middle = db.session.execute(select(table.c.duration_seconds).where(selection)
                                .order_by(table.c.duration_seconds)
                                .offset((n - 1) // 2).limit(1 if n % 2 else 2)).scalars().all()
    # As pandas' median (numpy: the mean of the two middle values), then the rule's own fraction.
    threshold = SPEED_FRACTION * float(np.mean(np.asarray(middle, dtype=float)))
    response = Response.__table__
    fast = db.session.execute(
        select(response.c.id.label("response_id"), response.c.version_id, response.c.status,
               response.c.answers, response.c.submitted_at)
        .select_from(table.join(response, response.c.id == table.c.response_id))
        # Speeders another rule screens out are not in the cells' sums: nothing to subtract.
        .where(selection, table.c.duration_seconds < threshold, table.c.kept.is_(True))).mappings().all()
    out: dict[tuple[int, str], np.ndarray] = {}
    by_version: dict[int, list[dict]] = {}
    for row in fast:
        by_version.setdefault(row["version_id"], []).append(dict(row))
    versions = {v.id: v for v in survey.versions}
    for version_id, states in by_version.items():
        for cell, vector in moment_store.vectors_of(versions[version_id], states).items():
            vector = vector.copy()
            vector[0] = 0  # still complete responses: only ``used`` and the sums go down
            out[(version_id, cell)] = vector
    return out


# --------------------------------------------------------------------------
# The analysis the charts draw
# --------------------------------------------------------------------------

def moment_analysis(data: CellData, options: ReportOptions, base: SurveyAnalysis | None) -> SurveyAnalysis:
    """``base`` (the last full analysis, or nothing) with every moment-based section from ``data``."""
    figures = moment_cells.figures(data.layout, data.total, options.confidence)
    result = copy.copy(base) if base is not None else SurveyAnalysis(
        n_total=0, n_used=0, options=options,
        skipped={name: _("being computed in the background") for name in RAW_SECTIONS})
    result.skipped = dict(result.skipped)
    result.n_total, result.n_used = figures.counts["complete"], figures.counts["used"]
    if figures.items is not None and len(figures.items):
        result.servqual = _servqual(figures, base.servqual if base is not None else None)
        result.servqual_reliability = _reliability(figures, base.servqual_reliability if base else None)
        ratio = _satisfaction(figures, base.satisfaction.get("servqual") if base is not None else None)
        result.satisfaction = {**(base.satisfaction if base is not None else {}), "servqual": ratio}
        for key in ("servqual", "satisfaction_servqual", "servqual_reliability"):
            result.skipped.pop(key, None)
    if figures.construct_correlations is not None:
        result.construct_correlations = figures.construct_correlations
    if data.segments:
        _segments(result, data, base)
    if data.days and any(name == "scores" for name, _c, _l in data.layout.blocks):
        trends = [moment_cells.period_means(data.layout, data.days, score, options.period,
                                            options.confidence).assign(score=score)
                  for score in moment_cells.SCORES]
        trends = [t for t in trends if len(t)]
        if trends:
            result.trends = pd.concat(trends, ignore_index=True)
            result.skipped.pop("trends", None)
    return result


def _merge_raw(moment_table: pd.DataFrame, raw: pd.DataFrame | None, key: str) -> pd.DataFrame:
    """``moment_table`` with the columns only ``raw`` has (Wilcoxon, notes), matched on ``key``."""
    if raw is None or not len(raw):
        return moment_table
    extra = [c for c in raw.columns if c not in moment_table.columns]
    return moment_table.merge(raw[[key, *extra]], on=key, how="left")


def _methods(analysis: str, n: int) -> Methods:
    return Methods(analysis=analysis, n_used=n, missing="pairwise (items); dimension means need every item",
                   formula="from stored sums, counts and cross-products of the responses",
                   notes=["Wilcoxon tests and medians come from the last full analysis"])


def _servqual(figures: MomentFigures, raw: ServqualResult | None) -> ServqualResult:
    items = _merge_raw(figures.items, raw.items if raw else None, "item")
    dimensions = _merge_raw(figures.dimensions, raw.dimensions if raw else None, "dimension")
    overall = _merge_raw(figures.overall, raw.overall if raw else None, "level")
    scores = pd.DataFrame([{**figures.score, "definition": "mean over dimensions of the dimension mean gap P - E"}]
                          if figures.score else [], columns=["score", "value", "n", "definition"])
    if raw is not None and "weighted" in set(raw.scores["score"]):
        # The importance-weighted score needs each respondent's allocation: from the full analysis.
        scores = pd.concat([scores, raw.scores[raw.scores["score"] == "weighted"]], ignore_index=True)
    return ServqualResult(items=items, dimensions=dimensions, overall=overall, scores=scores,
                          respondents=raw.respondents if raw else pd.DataFrame(columns=["response_id"]),
                          weights=raw.weights if raw else None,
                          methods=raw.methods if raw else _methods("SERVQUAL gaps", figures.counts["used"]),
                          skipped={} if figures.score else {"overall": "too few complete respondents"})


def _reliability(figures: MomentFigures, raw: DimensionReliability | None) -> DimensionReliability:
    summary = figures.alpha
    if raw is not None and len(raw.summary):
        extra = [c for c in raw.summary.columns if c not in summary.columns]
        summary = summary.merge(raw.summary[["dimension", "score", *extra]], on=["dimension", "score"], how="left")
    return DimensionReliability(summary=summary, items=raw.items if raw else pd.DataFrame(),
                                methods=raw.methods if raw else _methods("Cronbach's alpha", figures.counts["used"]))


def _satisfaction(figures: MomentFigures, raw: SatisfactionResult | None) -> SatisfactionResult:
    items = figures.items[["item", "dimension", "n", "mean_E", "mean_P", "ratio_of_means"]]
    items = _merge_raw(items, raw.items if raw else None, "item")
    survey = pd.DataFrame([{**figures.ratio, "n_items": len(figures.items)}]) if figures.ratio else pd.DataFrame()
    if raw is not None and len(raw.survey) and len(survey):
        survey = _merge_raw(survey, raw.survey, "level")
    return SatisfactionResult(
        items=items, survey=survey,
        # Per-dimension ratios average respondents' own ratios over the items they answered, and
        # the distribution is of respondents' ratios: both from the full analysis (None before it).
        dimensions=raw.dimensions if raw else pd.DataFrame(columns=_DIMENSION_COLUMNS),
        respondents=raw.respondents if raw else None,
        methods=raw.methods if raw else _methods("satisfaction ratio", figures.counts["used"]))


def _segments(result: SurveyAnalysis, data: CellData, base: SurveyAnalysis | None) -> None:
    comparisons: dict[str, dict[str, GroupComparison]] = {}
    for variable, cells in data.segments.items():
        for score in COMPARED_SCORES:
            name = f"segments:{variable}:{score}"
            raw = (base.segment_comparisons.get(variable, {}).get(score) if base is not None else None)
            try:
                comparison = _group_comparison(data.layout, cells, score, raw)
            except ValueError as error:
                result.skipped[name] = str(error)
                continue
            comparisons.setdefault(variable, {})[score] = comparison
            result.skipped.pop(name, None)
    result.segment_comparisons = comparisons
    if result.respondent_scores is None:
        # The charts ask the respondent table which segments and scores exist; none are loaded here.
        result.respondent_scores = pd.DataFrame(columns=["response_id", *data.segments, *COMPARED_SCORES])


def _group_comparison(layout: MomentLayout, cells: dict[float, np.ndarray], score: str,
                      raw: GroupComparison | None) -> GroupComparison:
    from analysis.common import InsufficientData
    table = moment_cells.segment_anova(layout, cells, score)
    groups = table["groups"]
    tested, dropped = groups[groups["n"] >= 2], groups[(groups["n"] < 2) & (groups["n"] > 0)]
    if len(tested) < 2:
        raise ValueError(str(InsufficientData(f"comparison of {score} (groups with at least 2 cases)",
                                              len(tested), 2)))
    f, df_b, df_w = table["F"], table["df_between"], table["df_within"]
    eta2 = f * df_b / (f * df_b + df_w) if np.isfinite(f) else np.nan
    tests = [{"test": "ANOVA", "statistic": f, "df1": float(df_b), "df2": float(df_w), "p": table["p"],
              "effect_size": eta2, "effect_name": "eta squared"},
             {"test": "Welch ANOVA", "statistic": table["F_welch"], "df1": float(df_b),
              "df2": table["df_welch"], "p": table["p_welch"], "effect_size": eta2,
              "effect_name": "eta squared"}]
    medians = None
    if raw is not None:
        tests += raw.tests[raw.tests["test"] == "Kruskal-Wallis"].to_dict("records")
        medians = raw.groups.set_index("group")["median"] if "median" in raw.groups else None
    out = tested[["group", "n", "mean", "sd"]].reset_index(drop=True)
    out["median"] = out["group"].map(medians) if medians is not None else np.nan
    return GroupComparison(groups=out, tests=pd.DataFrame(tests),
                           dropped=dropped[["group", "n"]].reset_index(drop=True),
                           methods=Methods(analysis=f"{score} across groups", n_used=int(out["n"].sum()),
                                           missing="respondents without the score or the group left out",
                                           formula="one-way ANOVA and Welch's ANOVA from group sums"))
