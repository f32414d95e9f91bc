"""The whole analysis of one survey, from the response frame and its codebook.

:func:`analyse_survey` is the one place that decides which analysis runs on
which columns. The dashboard, the exports, the API, ``flask report`` and
``python -m analysis report`` all call it and read the same
:class:`SurveyAnalysis`; none of them computes a statistic of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .common import MIN_N, InsufficientData, Methods, release_freed_memory, row_means
from .instruments import Codebook
from . import csi, ipa, kano, relationship, reliability, satisfaction, screening, segments, servqual
from .followup import FollowUpThresholds, follow_up_list

SERVQUAL = "servqual"
KANO_QUESTIONABLE_RULE = "kano_questionable"
RELATIONSHIP = "relationship"
EMOTIONS = "emotions"


@dataclass
class ReportOptions:
    """Choices a researcher or manager can make; defaults follow the literature.

    exclude_flagged : drop responses flagged by data-quality screening.
    confidence : level of every confidence interval.
    zero_method : Wilcoxon zero handling ("pratt" keeps zero gaps in the ranking).
    ratio_tolerance : |P/E - 1| within this counts as "met".
    n_boot, seed : bootstrap resamples and seed of the mediation CIs; 0 leaves
        the mediation out (listed under "not computed"), else at least 200.
    kano_questionable_share : a respondent is flagged (and, with
        ``exclude_flagged``, left out of every analysis) when more than this
        share of their answered KANO pairs is questionable (like/like or
        dislike/dislike). Default 0.5: more than half. A single questionable
        pair never screens a respondent by default; the KANO table counts Q
        per feature in its own column (Berger et al. 1993).
    csi_boot : bootstrap resamples of the CSI model's intervals (0 or at least 50).
        The analysis job runs the report with 0 and leaves them to a job of
        their own (:func:`survey_csi_bootstrap`, the same intervals).
    """

    exclude_flagged: bool = True
    confidence: float = 0.95
    zero_method: str = "pratt"
    ratio_tolerance: float = 0.0
    n_boot: int = 2000
    seed: int = 20261123
    kano_questionable_share: float = 0.5
    follow_up: FollowUpThresholds = field(default_factory=FollowUpThresholds)
    period: str = "W"
    csi_boot: int = 100
    csi_blocks: dict[str, list[str]] | None = None


@dataclass
class SurveyAnalysis:
    """Every result of :func:`analyse_survey`. A section that could not be
    computed (too few cases, instrument not in the survey) is ``None`` and,
    when the data were too few, its reason is in ``skipped``. Parts of a
    section are skipped alone: ``servqual_weighted``, ``kano:K06``,
    ``segments:branch:ratio``.

    ``emotion_scores`` are respondents' positive/negative emotion scores
    (mean of answered items), indexed like the analysed frame.
    ``segment_comparisons[segment][score]`` compares each score of
    :data:`COMPARED_SCORES` across the groups of each segment (profile)
    variable, post-hoc tests included."""

    n_total: int
    n_used: int
    options: ReportOptions
    flags: pd.DataFrame | None = None
    exclusion: screening.ExclusionReport | None = None
    satisfaction: dict[str, satisfaction.SatisfactionResult] = field(default_factory=dict)
    servqual: servqual.ServqualResult | None = None
    servqual_reliability: reliability.DimensionReliability | None = None
    kano: pd.DataFrame | None = None
    kano_continuous: pd.DataFrame | None = None
    construct_scores: pd.DataFrame | None = None
    construct_reliability: pd.DataFrame | None = None
    construct_correlations: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    mediation: relationship.MediationResult | None = None
    emotions: pd.DataFrame | None = None
    emotion_scores: pd.DataFrame | None = None
    follow_up: pd.DataFrame | None = None
    respondent_scores: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    ipa: dict[str, ipa.IPAResult] = field(default_factory=dict)
    csi: csi.CSIResult | None = None
    segment_comparisons: dict[str, dict[str, segments.GroupComparison]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def methods(self) -> list[Methods]:
        """The methods record of every computed result, in report order."""
        found = []
        for value in (self.exclusion, *self.satisfaction.values(), self.servqual, self.servqual_reliability,
                      self.kano, self.kano_continuous, self.construct_scores,
                      self.construct_reliability, self.paths, self.mediation, self.emotions,
                      self.follow_up, self.trends, *self.ipa.values(), self.csi):
            record = getattr(value, "methods", None)
            if record is None and isinstance(value, pd.DataFrame):
                record = value.attrs.get("methods")
            if isinstance(record, Methods):
                found.append(record)
        return found

    def tables(self, posthoc: bool = False) -> dict[str, pd.DataFrame]:
        """Every result as a named tidy table (an XLSX sheet each, a CSV each).

        ``posthoc=True`` adds ``segment_posthoc``, the pairwise tests of every
        segment comparison; they take about 35 ms a pair of groups (scipy's
        studentized range), so callers that answer requests leave them out.
        """
        out: dict[str, pd.DataFrame] = {}

        def put(name: str, table: pd.DataFrame | None, index_name: str | None = None) -> None:
            table = _tidy(table, index_name)
            if table is not None:
                out[name] = table

        for instrument, ratio in self.satisfaction.items():
            put(f"ratio_{instrument}_items", ratio.items)
            put(f"ratio_{instrument}_dimensions", ratio.dimensions)
            put(f"ratio_{instrument}_survey", _as_frame(ratio.survey))
        if self.servqual is not None:
            put("servqual_items", self.servqual.items)
            put("servqual_dimensions", self.servqual.dimensions)
            put("servqual_overall", _as_frame(self.servqual.overall))
            put("servqual_scores", _as_frame(self.servqual.scores))
        if self.servqual_reliability is not None:
            put("reliability_servqual", self.servqual_reliability.summary)
            put("reliability_servqual_items", self.servqual_reliability.items)
        put("kano", self.kano, "feature")
        put("kano_continuous", self.kano_continuous, "feature")
        put("reliability_constructs", self.construct_reliability, "construct")
        put("correlations", self.construct_correlations)
        put("regressions", self.paths)
        if self.mediation is not None:
            put("mediation", mediation_table(self.mediation))
        put("emotions", self.emotions, "dimension")
        put("follow_up", self.follow_up)
        put("trends", self.trends)
        for kind, result in self.ipa.items():
            put(f"ipa_{kind}", result.table)
        if self.csi is not None:
            out.update(csi_tables(self.csi))
        put("segment_tests", self._segment_table("tests"))
        if posthoc:
            put("segment_posthoc", self._segment_table("posthoc"))
        if self.exclusion is not None:
            put("screening", self.exclusion.by_rule if isinstance(self.exclusion.by_rule, pd.DataFrame)
                else _as_frame(self.exclusion.by_rule))
        out["methods"] = pd.DataFrame([_methods_row(m) for m in self.methods()])
        return out

    def _segment_table(self, part: str) -> pd.DataFrame | None:
        """``tests`` or ``posthoc`` of every segment comparison, one long table."""
        pieces = [getattr(comparison, part).assign(segment=segment, score=score, n=comparison.methods.n_used)
                  for segment, by_score in self.segment_comparisons.items()
                  for score, comparison in by_score.items()]
        if not pieces:
            return None
        table = pd.concat(pieces, ignore_index=True)
        return table[["segment", "score", *[c for c in table.columns if c not in ("segment", "score")]]]

    def report_json(self, posthoc: bool = True) -> dict[str, Any]:
        """``{"tables": {name: [row objects]}, "not_computed": [...], "methods": [...]}``,
        numbers as JSON numbers (NaN and infinity as ``null``), for ``--format json``."""
        tables = self.tables(posthoc=posthoc)
        methods = tables.pop("methods")
        return {"n_total": self.n_total, "n_used": self.n_used,
                "tables": {name: _records(table) for name, table in tables.items()},
                "not_computed": [{"section": name, "reason": reason}
                                 for name, reason in self.skipped.items()],
                "methods": _records(methods)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: every table as records, plus counts and skipped sections."""
        return {
            "n_total": self.n_total,
            "n_used": self.n_used,
            "skipped": dict(self.skipped),
            "tables": {name: _records(table) for name, table in self.tables().items()},
        }

    def text(self, posthoc: bool = True) -> str:
        """A plain-text report: every table (post-hoc tests included), then the methods section."""
        lines = [f"Responses: {self.n_total} complete, {self.n_used} analysed."]
        with pd.option_context("display.width", 160, "display.max_columns", 40,
                               "display.float_format", "{:.3f}".format):
            for name, table in self.tables(posthoc=posthoc).items():
                if name == "methods":
                    continue
                lines += ["", name.replace("_", " ").upper(), table.to_string(index=False)]
        if self.skipped:
            lines += ["", "NOT COMPUTED"]
            lines += [f"- {name}: {reason}" for name, reason in self.skipped.items()]
        lines += ["", "METHODS"] + [f"- {m.as_text()}" for m in self.methods()]
        return "\n".join(lines) + "\n"


def _tidy(table: pd.DataFrame | None, index_name: str | None = None) -> pd.DataFrame | None:
    """A report table: a copy without attrs, its index a column (named ``index_name``) unless a
    plain range; None when there is no table or no row."""
    if table is None or len(table) == 0:
        return None
    table = table.copy()
    table.attrs = {}
    if index_name is not None or not isinstance(table.index, pd.RangeIndex):
        table = table.rename_axis(index_name or table.index.name or "key").reset_index()
    return table


def csi_tables(result: csi.CSIResult | csi.CSIBootstrap) -> dict[str, pd.DataFrame]:
    """The CSI tables as the report names them (``csi_index``, ``csi_paths``, ``csi_r2``,
    ``csi_outer``), of a whole model or of its bootstrap alone (the same names and columns,
    so the intervals a bootstrap job computes read like the report's).

    Examples
    --------
    >>> from analysis.csi import csi_model
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(1, 8, 200).astype(float)
    >>> frame = pd.DataFrame({"a1": a, "a2": np.clip(a + rng.integers(-1, 2, 200), 1, 7),
    ...                       "b1": np.clip(a + rng.integers(-2, 3, 200), 1, 7)})
    >>> model = csi_model(frame, {"quality": ["a1", "a2"], "satisfaction": ["b1"]}, scale=(1, 7), n_boot=0)
    >>> {name: list(table.columns[:3]) for name, table in csi_tables(model).items()}
    {'csi_index': ['construct', 'index', 'se'], 'csi_paths': ['path', 'source', 'target'], 'csi_r2': ['construct', 'r2', 'r2_adj'], 'csi_outer': ['construct', 'item', 'weight']}
    """
    tables = {"csi_index": _tidy(result.index, "construct"), "csi_paths": _tidy(result.paths),
              "csi_r2": _tidy(result.r2, "construct"), "csi_outer": _tidy(result.outer)}
    return {name: table for name, table in tables.items() if table is not None}


def csi_bootstrap_json(boot: csi.CSIBootstrap) -> dict[str, Any]:
    """JSON-able: the bootstrap's tables (:func:`csi_tables`) as records, its counts and methods.

    Examples
    --------
    R plspm's satisfaction data (Sanchez 2013), two constructs:

    >>> from pathlib import Path
    >>> import analysis
    >>> from analysis.csi import csi_bootstrap
    >>> sat = pd.read_csv(Path(analysis.__file__).parents[1] / "tests/data/satisfaction_plspm.csv", index_col=0)
    >>> boot = csi_bootstrap(sat, {"value": ["val1", "val2"], "satisfaction": ["sat1", "sat2"]}, scale=(0, 10),
    ...                      n_boot=50, seed=1)
    >>> doc = csi_bootstrap_json(boot)
    >>> doc["n"], doc["n_boot"], doc["seed"], sorted(doc["tables"])
    (250, 50, 1, ['csi_index', 'csi_outer', 'csi_paths', 'csi_r2'])
    """
    return {"n": int(boot.n), "n_boot": int(boot.n_boot), "n_boot_failed": int(boot.n_boot_failed),
            "seed": boot.seed, "ci": float(boot.ci),
            "tables": {name: _records(table) for name, table in csi_tables(boot).items()},
            "methods": {str(k): _json_value(v) for k, v in _methods_row(boot.methods).items()}}


def _as_frame(value: Any) -> pd.DataFrame | None:
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pd.Series):
        return value.to_frame().T
    if isinstance(value, dict):
        return pd.DataFrame([value])
    return pd.DataFrame([{"value": value}])


def _methods_row(m: Methods) -> dict[str, Any]:
    return {"analysis": m.analysis, "n_used": m.n_used, "n_excluded": m.n_excluded,
            "min_n": m.min_n, "few_responses": m.few_responses,
            "missing": m.missing, "formula": m.formula, "test": m.test,
            "reference": m.reference, "notes": "; ".join(m.notes)}


#: Which stated minimum (:data:`~analysis.common.MIN_N` key) each table's rows
#: answer to, by table-name prefix (first match wins), as in :func:`_state_minimum_n`.
TABLE_MINIMUM_N = (("ratio_", "means"), ("servqual_", "means"), ("emotions", "means"),
                   ("trends", "means"), ("ipa_", "means"), ("segment_", "means"),
                   ("reliability_", "reliability"), ("kano", "kano"),
                   ("correlations", "paths"), ("regressions", "paths"), ("mediation", "paths"),
                   ("csi_", "csi"))


def mark_few_responses(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``tables`` with ``min_n`` and ``few_responses`` columns on every table whose rows
    carry their own ``n``: ``few_responses`` is True where ``n`` is below the stated
    minimum of that kind of figure (:data:`~analysis.common.MIN_N`, :data:`TABLE_MINIMUM_N`).

    Tables without a per-row ``n`` are returned unchanged (their ``methods`` row
    carries the mark).

    Examples
    --------
    >>> marked = mark_few_responses({"servqual_items": pd.DataFrame({"item": ["SQ01", "SQ02"],
    ...                                                              "n": [6, 40]})})
    >>> marked["servqual_items"].to_dict("list")
    {'item': ['SQ01', 'SQ02'], 'n': [6, 40], 'min_n': [30, 30], 'few_responses': [True, False]}
    """
    out = {}
    for name, table in tables.items():
        key = next((key for prefix, key in TABLE_MINIMUM_N if name.startswith(prefix)), None)
        if key is None or "n" not in table.columns:
            out[name] = table
            continue
        minimum = MIN_N[key]
        out[name] = table.assign(min_n=minimum,
                                 few_responses=pd.to_numeric(table["n"], errors="coerce") < minimum)
    return out


def _state_minimum_n(result: "SurveyAnalysis") -> None:
    """Give every methods record of the result its stated minimum n."""
    sections = {"means": [*result.satisfaction.values(), result.servqual, result.emotions,
                          result.trends, *result.ipa.values(),
                          *(c for by_score in result.segment_comparisons.values()
                            for c in by_score.values())],
                "reliability": [result.servqual_reliability, result.construct_reliability],
                "kano": [result.kano, result.kano_continuous],
                "paths": [result.paths, result.mediation],
                "csi": [result.csi]}
    for key, values in sections.items():
        for value in values:
            record = getattr(value, "methods", None)
            if record is None and isinstance(value, pd.DataFrame):
                record = value.attrs.get("methods")
            if isinstance(record, Methods):
                record.min_n = MIN_N[key]


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, pd.Period)):
        return str(value) if isinstance(value, pd.Period) else value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_value(v) for k, v in row.items()} for row in table.to_dict("records")]


def mediation_table(result: relationship.MediationResult) -> pd.DataFrame:
    """One row per effect of a mediation result (total, direct, indirect)."""
    return pd.DataFrame([
        {"path": f"{result.x} -> {result.y}", "effect": "total", "estimate": result.total},
        {"path": f"{result.x} -> {result.y}", "effect": "direct", "estimate": result.direct},
        {"path": f"{result.x} -> {result.m} -> {result.y}", "effect": "indirect",
         "estimate": result.indirect, "se": result.indirect_se, "ci_low": result.ci_low,
         "ci_high": result.ci_high, "n_boot": result.n_boot, "n": result.n,
         "proportion_mediated": result.proportion_mediated},
    ])


# --------------------------------------------------------------------------
# Column mappings from the codebook
# --------------------------------------------------------------------------

def ep_pairs(codebook: Codebook, instrument: str | None = None) -> dict[str, tuple[str, str]]:
    """``{item: (E column, P column)}`` of expectation/perception instruments."""
    names = [instrument] if instrument else sorted(
        {v.instrument for v in codebook.select(kind="expectation_perception")})
    pairs: dict[str, tuple[str, str]] = {}
    for name in names:
        for e, p in codebook.pairs(name, "E", "P"):
            pairs[e.item] = (e.name, p.name)
    return pairs


def pair_dimensions(codebook: Codebook, pairs: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    dims: dict[str, list[str]] = {}
    for item, (e_col, _) in pairs.items():
        dims.setdefault(codebook[e_col].dimension, []).append(item)
    return dims


def servqual_weights(codebook: Codebook) -> dict[str, str]:
    """``{dimension: importance-points column}`` of the 100-point allocation."""
    return {v.weight_of: v.name for v in codebook.select(instrument=SERVQUAL) if v.weight_of}


def construct_columns(codebook: Codebook, instrument: str) -> dict[str, list[str]]:
    """``{construct: [columns]}``, higher-order constructs (``parent``) included."""
    constructs: dict[str, list[str]] = {}
    for variable in codebook.select(instrument=instrument):
        if variable.scale["type"] != "rating":
            continue
        constructs.setdefault(variable.dimension, []).append(variable.name)
        if variable.parent:
            constructs.setdefault(variable.parent, []).append(variable.name)
    return constructs


def _rating_ranges(codebook: Codebook, columns) -> dict[str, tuple[float, float]]:
    return {c: (codebook[c].scale["min"], codebook[c].scale["max"]) for c in columns}


# --------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------

#: Name under which a screening rule that cannot apply is listed in ``SurveyAnalysis.skipped``.
SCREENING_SKIPPED = "screening:{rule}"


def screening_rules(frame: pd.DataFrame, codebook: Codebook, options: ReportOptions,
                    skipped: dict[str, str] | None = None) -> list:
    """The data-quality rules that apply to this codebook's columns.

    A rule the survey's questions cannot support (straight-lining over a
    single SERVQUAL perception item) is left out, with its reason in
    ``skipped`` (``screening:<rule>``) when that mapping is given.
    """
    rules = []
    if "duration_seconds" in frame.columns and frame["duration_seconds"].notna().any():
        rules.append(screening.too_fast())
    pairs = ep_pairs(codebook, SERVQUAL) if codebook.select(instrument=SERVQUAL) else {}
    if len(pairs) >= 2:
        rules.append(screening.straightlining([p for _, p in pairs.values()]))
    elif pairs and skipped is not None:
        skipped[SCREENING_SKIPPED.format(rule="straightlining")] = (
            f"straight-lining needs a block of at least 2 items; the survey asks "
            f"{len(pairs)} SERVQUAL perception item")
    if pairs:
        rules.append(screening.identical_e_p(pairs))
    features = [f for f in kano_feature_codes(codebook)
                if f"{f}_F" in frame.columns and f"{f}_D" in frame.columns]
    if features:
        # rule_from_series takes flags indexed by response id, not by row position.
        share = kano.kano_questionable_shares(frame, features).set_axis(frame["response_id"])
        limit = options.kano_questionable_share
        rules.append(screening.rule_from_series(
            KANO_QUESTIONABLE_RULE, share > limit,
            f"more than {limit:.0%} of the answered KANO pairs questionable",
            description="KANO answers contradicting themselves (like/like or dislike/dislike) "
                        f"in more than {limit:.0%} of a respondent's answered pairs"))
    return rules


def kano_feature_codes(codebook: Codebook) -> list[str]:
    """The KANO feature codes of the codebook (items with a functional question)."""
    return sorted({v.item for v in codebook.select(kind="kano") if v.facet == "F"})


def _answered_features(data: pd.DataFrame, codebook: Codebook, skipped: dict[str, str]) -> list[str]:
    """KANO features with at least one answered pair; each other feature is
    skipped alone (``kano:<code>``) so the rest still get their table."""
    answered = []
    for feature in kano_feature_codes(codebook):
        columns = [f"{feature}_F", f"{feature}_D"]
        n = int(data[columns].notna().all(axis=1).sum()) if set(columns) <= set(data.columns) else 0
        if n == 0:
            skipped[f"kano:{feature}"] = str(InsufficientData(f"KANO feature {feature}", 0, 1))
        else:
            answered.append(feature)
    return answered


class AnalysedRows:
    """The rows of a response frame that the analysis uses, handed out a column group at a time.

    Screening leaves most rows in; copying the kept rows of every column at
    once costs as much memory as the frame itself (a GB at a million
    responses, 142 answer columns). Each section instead gets
    :meth:`of` the columns it reads, plus the frame's metadata columns
    (``response_id``, ``submitted_at``, ``contact_ok``, ...), and drops the
    copy when it is done. The index is the frame's, as after a boolean filter.

    Examples
    --------
    >>> from analysis.instruments import load_instruments, compose_codebook
    >>> codebook = compose_codebook([(load_instruments()["overall"], None)])
    >>> frame = pd.DataFrame({"response_id": [1, 2, 3], "OV01_E": [5.0, 6, 7], "OV01_P": [4.0, 6, 6]})
    >>> rows = AnalysedRows(frame, codebook, keep=np.array([True, False, True]))
    >>> len(rows), rows.of(["OV01_P"]).to_dict("list")
    (2, {'response_id': [1, 3], 'OV01_P': [4.0, 6.0]})
    """

    def __init__(self, frame: pd.DataFrame, codebook: Codebook, keep: np.ndarray | None = None):
        if keep is not None and len(keep) != len(frame):
            raise ValueError(f"keep has {len(keep)} entries for {len(frame)} rows")
        self.frame = frame
        self.keep = None if keep is None or bool(np.all(keep)) else np.asarray(keep, dtype=bool)
        answers = set(codebook.names)
        self.meta = [c for c in frame.columns if c not in answers]

    def __len__(self) -> int:
        return len(self.frame) if self.keep is None else int(self.keep.sum())

    def of(self, columns, meta: bool = True, stored: bool = False) -> pd.DataFrame:
        """The kept rows of the metadata columns (unless ``meta=False``) and of ``columns``
        (those in the frame): the metadata and any answer column that is not a float
        first, then the float answers in the order asked, as ``float64``.

        The frame may hold its answers as ``float32`` (:func:`analysis.io.compact_answer_frame`);
        each section gets them as ``float64``, so every statistic computes exactly as on a
        ``float64`` frame. ``stored=True`` keeps the frame's float type instead (half the
        memory), for sections that read every column through a float64 conversion
        (``to_numpy(dtype="float64")``, :func:`analysis.common.float_matrix`,
        :func:`analysis.common.paired_blocks`); ``test_scale_paths`` pins their tables
        to the float64 frame's, bit for bit.
        """
        wanted = list(dict.fromkeys([*(self.meta if meta else ()),
                                     *(c for c in columns if c in self.frame.columns)]))
        floats = [c for c in wanted if c not in self.meta and self.frame[c].dtype.kind == "f"]
        dtype = np.result_type(np.float32, *(self.frame[c].dtype for c in floats)) if stored else np.float64
        if self.keep is None and all(self.frame[c].dtype == dtype for c in floats):
            return self.frame[wanted]
        # The float answer columns are compressed straight into one new float64 matrix:
        # DataFrame.loc[rows, columns] holds about three times the result while it
        # copies (1.2 GB for 400 MB of answers at a million responses).
        others = [c for c in wanted if c not in floats]
        index = self.frame.index if self.keep is None else self.frame.index[self.keep]
        matrix = np.empty((len(floats), len(index)), dtype=dtype)
        buffers: dict = {}  # compress writes only into its input's dtype: one buffer per dtype
        for row, column in zip(matrix, floats):
            values = self.frame[column].to_numpy()
            if self.keep is None:
                row[:] = values
            elif values.dtype == dtype:
                np.compress(self.keep, values, out=row)
            else:
                buffer = buffers.setdefault(values.dtype, np.empty(len(index), dtype=values.dtype))
                row[:] = np.compress(self.keep, values, out=buffer)
        # matrix.T is the column-major (rows x columns) block pandas stores: no copy.
        answers = pd.DataFrame(matrix.T, index=index, columns=floats, copy=False)
        # The other columns go in front one by one: pd.concat copies the answer
        # matrix, and .loc[rows, columns] filters every column of the frame first.
        for position, column in enumerate(others):
            values = self.frame[column]
            answers.insert(position, column, values if self.keep is None else values[self.keep])
        return answers


def _instrument_columns(codebook: Codebook, instrument: str) -> list[str]:
    return [v.name for v in codebook.select(instrument=instrument)]


def _overall_columns(codebook: Codebook) -> list[str]:
    return [v.name for v in codebook.select(dimension="overall_satisfaction")]


def analyse_survey(frame: pd.DataFrame, codebook: Codebook,
                   options: ReportOptions | None = None) -> SurveyAnalysis:
    """Run every analysis the codebook's instruments call for.

    Parameters
    ----------
    frame : DataFrame
        The response frame (docs/data-model.md §3): ``response_id``, metadata
        columns and one float column per codebook variable.
    codebook : Codebook
        The variables of the frame.
    options : ReportOptions, optional

    Returns
    -------
    SurveyAnalysis
        Each section's result, ``None`` with a reason in ``skipped`` where it
        could not be computed.
    """
    options = options or ReportOptions()
    frame, result, run = _start(frame, codebook, options)
    rows, kano_rows = _screened_rows(frame, codebook, options, result, run)

    # The ratio is computed per instrument: averaging P/E across instruments
    # would mix scales (SERVQUAL's 1-7 with the overall pair's 1-10).
    sq_pairs = ep_pairs(codebook, SERVQUAL) if codebook.select(instrument=SERVQUAL) else {}
    # One copy of the expectation/perception answers (and SERVQUAL's importance
    # points) serves the ratios, the gaps and their reliability.
    ep_instruments = sorted({v.instrument for v in codebook.select(kind="expectation_perception")})
    data = rows.of([c for instrument in ep_instruments for pair in ep_pairs(codebook, instrument).values()
                    for c in pair] + list(servqual_weights(codebook).values()), stored=True)
    skipped_before = set(result.skipped)

    def ratio_of(instrument: str) -> None:
        pairs = ep_pairs(codebook, instrument)
        if not pairs:
            return
        ratio = run(f"satisfaction_{instrument}", lambda: satisfaction.satisfaction_ratio(
            data, pairs, pair_dimensions(codebook, pairs), tolerance=options.ratio_tolerance))
        if ratio is not None:
            result.satisfaction[instrument] = ratio

    # SERVQUAL's ratio and sections before the other instruments' ratios: the widest
    # computations then run before the other ratios' per-respondent tables (0.2 GB each
    # at a million responses) are kept; the report lists them in instrument order below.
    if SERVQUAL in ep_instruments:
        ratio_of(SERVQUAL)
    if sq_pairs:
        dims = pair_dimensions(codebook, sq_pairs)
        weights = servqual_weights(codebook)
        # Importance weights only when the allocation columns are in the data;
        # a survey or file without them still gets every gap and test.
        weights = weights if weights and all(c in data for c in weights.values()) else None
        result.servqual = run("servqual", lambda: servqual.servqual(
            data, sq_pairs, dims, weights=weights, zero_method=options.zero_method,
            confidence=options.confidence))
        if result.servqual is not None:
            for part, reason in result.servqual.skipped.items():
                result.skipped[f"servqual_{part}"] = reason
        result.servqual_reliability = run("servqual_reliability", lambda: reliability.servqual_reliability(
            data, sq_pairs, dims, confidence=options.confidence))
    for instrument in ep_instruments:
        if instrument != SERVQUAL:
            ratio_of(instrument)
    result.satisfaction = {i: result.satisfaction[i] for i in ep_instruments if i in result.satisfaction}
    # the ratios' reasons first, in instrument order, then the SERVQUAL sections' (as listed before)
    ratios = [f"satisfaction_{i}" for i in ep_instruments]
    added = [name for name in result.skipped if name not in skipped_before]
    for name in [n for n in ratios if n in added] + [n for n in added if n not in ratios]:
        result.skipped[name] = result.skipped.pop(name)

    del data
    release_freed_memory()  # the E/P sections' matrices, before the KANO copy
    # Only the KANO columns (F and D answers, and the self-stated importance
    # kano_continuous reports), copied here and dropped after the KANO tables.
    kano_data = kano_rows.of([f"{feature}_{facet}" for feature in kano_feature_codes(codebook)
                              for facet in ("F", "D", "IMP")], meta=False)
    features = _answered_features(kano_data, codebook, result.skipped)
    if features:
        result.kano = run("kano", lambda: kano.kano_summary(kano_data, features))
        result.kano_continuous = run("kano_continuous", lambda: kano.kano_continuous(kano_data, features))
        for table in (result.kano, result.kano_continuous):
            if table is not None and len(kano_data) != len(rows):
                table.attrs["methods"].notes.append(
                    "respondents screened out only for questionable KANO answers are kept here: "
                    "their Q answers are counted per feature")

    # Each section below takes the columns it reads (AnalysedRows.of).
    del kano_data
    release_freed_memory()  # the KANO columns, before the relationship items
    if codebook.select(instrument=RELATIONSHIP):
        # As stored: construct scores and reliability read the items through float_matrix.
        _relationship_sections(result, run, rows.of(_instrument_columns(codebook, RELATIONSHIP),
                                                    stored=True), codebook, options)
    # The PLS index before the respondent tables below exist: its copy of the items is
    # the largest of the analysis, and it needs nothing the later sections compute.
    blocks = options.csi_blocks or default_csi_blocks(codebook)
    if len(blocks) >= 2:
        release_freed_memory()  # what the sections above freed, before the largest copy
        items_data, scale = _csi_items(rows, codebook, blocks)
        result.csi = run("csi", lambda: csi.csi_model(
            items_data, blocks, scale, n_boot=options.csi_boot, seed=options.seed))
        del items_data
    if codebook.select(instrument=EMOTIONS):
        data = rows.of(_instrument_columns(codebook, EMOTIONS) + _overall_columns(codebook))
        result.emotion_scores = emotion_scores(data, codebook)
        result.emotions = run("emotions", lambda: emotion_profile(
            data, codebook, result.construct_scores, scores=result.emotion_scores))
    data = rows.of([v.name for v in codebook.select(segment=True)])
    result.respondent_scores = respondent_scores(data, codebook, result)
    scores = result.respondent_scores
    if "contact_ok" in data.columns:
        result.follow_up = run("follow_up", lambda: follow_up_list(
            data, options.follow_up,
            **{name: _by_response(scores, name) for name in ("ratio", "gap", "negative_emotion")}))
    if "submitted_at" in scores and scores["submitted_at"].notna().any():
        result.trends = run("trends", lambda: trend_table(scores, options.period,
                                                          options.confidence))
    del data
    if sq_pairs:
        release_freed_memory()  # the emotion, follow-up and trend sections' temporaries
        _ipa_sections(result, run, rows, codebook, sq_pairs)
    result.segment_comparisons = _segment_sections(result, run, scores, codebook)
    _state_minimum_n(result)
    return result


def _start(frame: pd.DataFrame, codebook: Codebook, options: ReportOptions):
    """The options checked, the frame without "not applicable" answers, an empty result
    and the ``run`` wrapper that records a section without enough data in ``skipped``."""
    if options.n_boot != 0 and options.n_boot < 200:
        raise ValueError(f"n_boot must be 0 (no mediation) or at least 200; got {options.n_boot}")
    if not 0 <= options.kano_questionable_share <= 1:
        raise ValueError("kano_questionable_share must be a share between 0 and 1")
    # "Not applicable" answers (a code of their own) are missing to every statistic.
    frame = codebook.without_not_applicable(frame)
    result = SurveyAnalysis(n_total=len(frame), n_used=len(frame), options=options)

    def run(name: str, compute: Callable[[], Any]) -> Any:
        # Only a lack of data is "not computed"; any other error is a bug or
        # a wrong mapping and must surface, not hide as missing data.
        try:
            return compute()
        except InsufficientData as error:
            result.skipped[name] = str(error)
        return None

    return frame, result, run


def _screened_rows(frame: pd.DataFrame, codebook: Codebook, options: ReportOptions,
                   result: SurveyAnalysis, run) -> tuple[AnalysedRows, AnalysedRows]:
    """The rows every section analyses and the rows of the KANO tables, after screening
    (``result.flags``, ``result.exclusion`` and ``result.n_used`` are set here)."""
    rows = AnalysedRows(frame, codebook)
    rules = screening_rules(frame, codebook, options, result.skipped)
    kano_rows = rows
    if rules and len(frame):
        result.flags = run("screening", lambda: screening.flag_responses(frame, rules))
        if result.flags is not None and options.exclude_flagged:
            # The report and the kept rows from the id column alone: the analysed rows
            # are copied section by section (:class:`AnalysedRows`), never as a whole frame.
            kept_ids, result.exclusion = screening.exclude(frame[["response_id"]], result.flags)
            rows = AnalysedRows(frame, codebook, frame.index.isin(kept_ids.index))
            # The KANO table counts questionable answers per feature (its Q
            # column); dropping a respondent for them as well would shift
            # every other feature's shares, so KANO ignores that one rule.
            others = [c for c in result.flags.columns
                      if c not in ("response_id", "flagged", "reasons", KANO_QUESTIONABLE_RULE)]
            kano_kept = screening.exclude(frame[["response_id"]], result.flags, rules=others)[0]
            kano_rows = AnalysedRows(frame, codebook, frame.index.isin(kano_kept.index))
    result.n_used = len(rows)
    release_freed_memory()  # the screening rules' matrices
    return rows, kano_rows


def _csi_items(rows: AnalysedRows, codebook: Codebook,
               blocks: dict[str, list[str]]) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """The CSI model's items (exactly those, in model order: csi_model then fits on this
    copy itself), as stored (float32 in the job's frame: the PLS fit and bootstrap read
    them into float64 a block of rows at a time), and their scale end points."""
    items = list(dict.fromkeys(c for cols in blocks.values() for c in cols))
    return rows.of(items, meta=False, stored=True), _rating_ranges(codebook, items)


def survey_csi_bootstrap(frame: pd.DataFrame, codebook: Codebook,
                         options: ReportOptions | None = None) -> csi.CSIBootstrap | None:
    """The bootstrap intervals of the CSI model that :func:`analyse_survey` fits.

    The same rows (after "not applicable" answers and screening), the same
    blocks and scale, ``options.csi_boot`` resamples from ``options.seed``:
    :func:`analysis.csi.csi_bootstrap`, which gives exactly the intervals of
    ``analyse_survey(frame, codebook, options).csi``. The report can then run
    with ``csi_boot=0`` and leave these to a job of their own.

    Parameters
    ----------
    frame : DataFrame
        The response frame, as for :func:`analyse_survey`.
    codebook : Codebook
        The variables of the frame.
    options : ReportOptions, optional
        ``csi_boot`` must be at least 50.

    Returns
    -------
    analysis.csi.CSIBootstrap or None
        None when the codebook has fewer than two CSI constructs (the report
        has no CSI section then either).

    Raises
    ------
    InsufficientData
        Too few complete cases for the model (the report skips its CSI section).
    ValueError
        ``csi_boot`` below 50, or as :func:`analysis.csi.csi_bootstrap`.

    Examples
    --------
    >>> from analysis.instruments import compose_codebook, load_instruments
    >>> from analysis.synthetic import synthetic_frame
    >>> library = load_instruments()
    >>> codebook = compose_codebook([(library[key], None) for key in ("servqual", "relationship", "overall")])
    >>> frame = synthetic_frame(codebook, 300, seed=2)
    >>> frame = frame[frame["status"] == "complete"].reset_index(drop=True)
    >>> options = ReportOptions(n_boot=0, csi_boot=50)
    >>> boot = survey_csi_bootstrap(frame, codebook, options)
    >>> joint = analyse_survey(frame, codebook, options).csi
    >>> bool(boot.paths["ci_high"].equals(joint.paths["ci_high"])), boot.n == joint.n
    (True, True)
    """
    options = options or ReportOptions()
    blocks = options.csi_blocks or default_csi_blocks(codebook)
    if len(blocks) < 2:
        return None
    frame, result, run = _start(frame, codebook, options)
    rows, _ = _screened_rows(frame, codebook, options, result, run)
    items_data, scale = _csi_items(rows, codebook, blocks)
    return csi.csi_bootstrap(items_data, blocks, scale, n_boot=options.csi_boot, seed=options.seed)


#: Respondent-level scores that trends, segment comparisons and the follow-up
#: list are computed on: column -> (result attribute path, column of that table).
SCORE_LABELS = {
    "ratio": "satisfaction ratio P/E (SERVQUAL)",
    "gap": "SERVQUAL gap P - E (unweighted)",
    "weighted_gap": "SERVQUAL gap P - E (importance-weighted)",
    "overall_ratio": "overall satisfaction ratio P/E",
    "positive_emotion": "positive emotion",
    "negative_emotion": "negative emotion",
}


def respondent_scores(data: pd.DataFrame, codebook: Codebook, result: SurveyAnalysis) -> pd.DataFrame:
    """One row a respondent: id, submission time, segment answers and the per-respondent
    scores other sections produced (ratio, gaps, emotions, relationship constructs)."""
    segment_columns = [v.name for v in codebook.select(segment=True) if v.name in data]
    keep = ["response_id"] + [c for c in ("submitted_at",) if c in data] + segment_columns
    table = data[keep].reset_index(drop=True)
    pieces = {
        "ratio": _by_response(result.satisfaction.get(SERVQUAL), "ratio"),
        "overall_ratio": _by_response(result.satisfaction.get("overall"), "ratio"),
        "gap": _by_response(result.servqual, "unweighted"),
        "weighted_gap": _by_response(result.servqual, "weighted"),
    }
    if result.emotion_scores is not None:
        for dimension in ("positive", "negative"):
            if dimension in result.emotion_scores:
                pieces[f"{dimension}_emotion"] = pd.Series(result.emotion_scores[dimension].to_numpy(),
                                                           index=data["response_id"].to_numpy())
    for name, series in pieces.items():
        if series is not None:
            table[name] = series.reindex(table["response_id"]).to_numpy()
    if result.construct_scores is not None:
        # The construct columns are a frame over the construct score table's matrix
        # (100 MB at a million respondents and 12 constructs, not copied), the other
        # columns inserted in front; pd.concat or assigning each column would copy it.
        constructs = result.construct_scores
        shared = pd.DataFrame(constructs.to_numpy(), index=table.index, columns=constructs.columns,
                              copy=False)
        for position, name in enumerate(table.columns):
            shared.insert(position, name, table[name])  # same index: no reindex
        table = shared
    return table


def trend_table(scores: pd.DataFrame, period: str = "W", confidence: float = 0.95) -> pd.DataFrame:
    """Per-period mean and CI of every respondent score in :data:`SCORE_LABELS`."""
    tables = []
    periods = segments.row_periods(scores, period)  # once for every score
    for score in SCORE_LABELS:
        if score in scores and scores[score].notna().sum() >= 2:
            table = segments.period_summary(scores, score, period, confidence=confidence,
                                            periods=periods)
            tables.append(table.assign(score=score))
    if not tables:
        raise InsufficientData("trends", 0, 2)
    combined = pd.concat(tables, ignore_index=True)
    combined.attrs["methods"] = Methods(
        analysis="trends", n_used=int(scores["submitted_at"].notna().sum()),
        missing="respondents without a score or a submission time are left out of that series",
        formula=f"mean and t confidence interval ({confidence:.0%}) of each respondent score per period ({period})")
    return combined


#: Respondent scores compared across segments and drawn as trends, in menu order.
COMPARED_SCORES = ("ratio", "gap")


def _segment_sections(result: SurveyAnalysis, run, scores: pd.DataFrame,
                      codebook: Codebook) -> dict[str, dict[str, segments.GroupComparison]]:
    """Every score of :data:`COMPARED_SCORES` across every segment variable,
    computed once here so charts, exports and the API only read it."""
    out: dict[str, dict[str, segments.GroupComparison]] = {}
    for segment in (v.name for v in codebook.select(segment=True)):
        for score in COMPARED_SCORES:
            if segment not in scores or score not in scores:
                continue
            comparison = run(f"segments:{segment}:{score}",
                             lambda: compare_segments(scores, segment, score))
            if comparison is not None:
                out.setdefault(segment, {})[score] = comparison
    return out


def compare_segments(scores: pd.DataFrame, segment: str, score: str = "ratio",
                     min_group_n: int = 2) -> segments.GroupComparison:
    """Compare a respondent score across the groups of a segment (profile) variable:
    ANOVA, Welch's ANOVA and Kruskal-Wallis (:func:`analysis.segments.compare_groups`)."""
    if segment not in scores:
        raise ValueError(f"{segment!r} is not a segment variable of this survey")
    if score not in scores:
        raise ValueError(f"{score!r} is not a respondent score here; choose from "
                         f"{', '.join(c for c in SCORE_LABELS if c in scores)}")
    return segments.compare_groups(scores, score, segment, min_group_n=min_group_n)


def _ipa_sections(result: SurveyAnalysis, run, rows: AnalysedRows, codebook: Codebook,
                  sq_pairs: dict[str, tuple[str, str]]) -> None:
    """IPA of the SERVQUAL dimensions: stated importance (the 100-point allocation)
    and importance derived from overall satisfaction.

    Each section takes only the columns it reads (a dimension's P items, the
    importance points, the overall item), as stored: the dimension means read
    the P columns as float64, ipa.ipa converts the importance and overall
    columns with astype("float64")."""
    dims = pair_dimensions(codebook, sq_pairs)
    frame = None
    performance = {}
    for dimension, items in dims.items():
        data = rows.of([sq_pairs[i][1] for i in items], meta=False, stored=True)
        if frame is None:
            frame = pd.DataFrame(index=data.index)
        column = f"P_{dimension}"
        frame[column] = row_means(data.to_numpy(dtype="float64"))
        performance[dimension] = column
        del data
    weights = servqual_weights(codebook)
    if set(weights) >= set(dims) and all(weights[d] in rows.frame.columns for d in dims):
        stated = pd.concat([frame, rows.of([weights[d] for d in dims], meta=False, stored=True)], axis=1)
        stated_result = run("ipa_stated", lambda: ipa.ipa(
            stated, performance, importance="stated",
            importance_cols={d: weights[d] for d in dims}))
        if stated_result is not None:
            result.ipa["stated"] = stated_result
        del stated
    overall = [v.name for v in codebook.select(dimension="overall_satisfaction")]
    if overall and overall[0] in rows.frame.columns:
        derived = pd.concat([frame, rows.of(overall[:1], meta=False, stored=True)], axis=1)
        derived_result = run("ipa_derived", lambda: ipa.ipa(
            derived, performance, importance="correlation", overall=overall[0]))
        if derived_result is not None:
            result.ipa["derived"] = derived_result


#: Default mapping of the shipped instruments onto the ECSI constructs
#: (construct -> (instrument, facet or dimension)). Reverse-worded items are
#: left out: PLS blocks are reflective and assume same-direction indicators.
DEFAULT_CSI_MAPPING = {
    "expectation": [("servqual", "facet", "E"), ("overall", "facet", "E")],
    "quality": [("servqual", "facet", "P"), ("overall", "facet", "P")],
    "satisfaction": [("relationship", "dimension", "satisfaction_visit"),
                     ("relationship", "dimension", "satisfaction_cumulative"),
                     ("overall", "dimension", "overall_satisfaction")],
    "loyalty": [("relationship", "dimension", "repurchase"),
                ("relationship", "dimension", "word_of_mouth")],
}


def default_csi_blocks(codebook: Codebook) -> dict[str, list[str]]:
    """Columns of this codebook for each ECSI construct of :data:`DEFAULT_CSI_MAPPING`."""
    blocks: dict[str, list[str]] = {}
    for construct, sources in DEFAULT_CSI_MAPPING.items():
        columns = [v.name for instrument, attribute, value in sources
                   for v in codebook.select(instrument=instrument)
                   if getattr(v, attribute) == value and not v.reverse
                   and v.scale["type"] == "rating"]
        if columns:
            blocks[construct] = columns
    return blocks


def _by_response(section: Any, column: str) -> pd.Series | None:
    """A per-respondent column of a result's ``respondents`` table (or of a table), indexed by
    response id. Only that column is indexed: ``set_index`` on the table would copy every column."""
    table = section if isinstance(section, pd.DataFrame) else getattr(section, "respondents", None)
    if table is None or column not in table:
        return None
    return pd.Series(table[column].to_numpy(), index=table["response_id"].to_numpy(), name=column)


def _relationship_sections(result: SurveyAnalysis, run, data: pd.DataFrame, codebook: Codebook,
                           options: ReportOptions) -> None:
    constructs = construct_columns(codebook, RELATIONSHIP)
    reverse = [v.name for v in codebook.select(instrument=RELATIONSHIP) if v.reverse]
    scale = _rating_ranges(codebook, [c for cols in constructs.values() for c in cols])
    # Reliability first: each of the two builds its own float64 copy of the items (0.4 GB
    # at a million responses), and the scores, kept to the end, would sit under the second.
    reliability = run("construct_reliability", lambda: relationship.construct_reliability(
        data, constructs, reverse=reverse, scale=scale))
    reliability_skipped = result.skipped.pop("construct_reliability", None)
    # Each of these leaves freed heap behind (glibc keeps it below its mmap threshold;
    # 90 MB after the reliability at 400k responses) that the next would stack on.
    release_freed_memory()
    result.construct_scores = run("construct_scores", lambda: relationship.construct_scores(
        data, constructs, reverse=reverse, scale=scale))
    release_freed_memory()
    result.construct_reliability = reliability
    if reliability_skipped is not None:  # listed after the scores, as the report reads
        result.skipped["construct_reliability"] = reliability_skipped
    scores = result.construct_scores
    if scores is None:
        return
    result.construct_correlations = run("correlations", lambda: relationship.construct_correlations(scores))
    release_freed_memory()
    available = set(scores.columns)
    paths = [p for p in relationship.SEED_PATHS
             if p.outcome in available and set(p.predictors) <= available]
    if paths:
        result.paths = run("regressions", lambda: relationship.seed_paths(scores, paths))
    if set(relationship.SEED_MEDIATION) <= available and options.n_boot == 0:
        result.skipped["mediation"] = "not requested (0 bootstrap resamples)"
    elif set(relationship.SEED_MEDIATION) <= available:
        result.mediation = run("mediation", lambda: relationship.seed_mediation(
            scores, n_boot=options.n_boot, seed=options.seed))


def emotion_scores(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Each respondent's score per emotion dimension: the mean of the items they answered."""
    return relationship.construct_scores(frame, construct_columns(codebook, EMOTIONS), min_items=1)


def emotion_profile(frame: pd.DataFrame, codebook: Codebook,
                    construct_scores: pd.DataFrame | None = None,
                    scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean intensity of each consumption-emotion dimension and its correlation with satisfaction.

    Positive and negative emotions are scored as the mean of their items
    (Richins 1997; Westbrook & Oliver 1991); each score is correlated
    (Pearson, pairwise complete) with visit satisfaction when the survey
    measures it, else with the overall satisfaction item.

    ``scores`` are the respondents' emotion scores when already computed
    (:func:`emotion_scores`), so they are computed once per analysis.

    Returns
    -------
    DataFrame indexed by dimension: n, mean, sd, r_satisfaction, p_satisfaction.
    """
    from scipy import stats

    constructs = construct_columns(codebook, EMOTIONS)
    if scores is None:
        scores = emotion_scores(frame, codebook)
    satisfaction_score = None
    if construct_scores is not None and "satisfaction_visit" in construct_scores:
        satisfaction_score = construct_scores["satisfaction_visit"]
    else:
        overall = [v.name for v in codebook.select(dimension="overall_satisfaction")]
        if overall:
            satisfaction_score = frame[overall[0]]
    rows = []
    for dimension in constructs:
        values = scores[dimension]
        row = {"dimension": dimension, "n": int(values.notna().sum()),
               "mean": values.mean(), "sd": values.std(ddof=1)}
        if satisfaction_score is not None:
            both = pd.concat([values, satisfaction_score], axis=1).dropna()
            if len(both) >= 3 and both.iloc[:, 0].std() > 0 and both.iloc[:, 1].std() > 0:
                r, p = stats.pearsonr(both.iloc[:, 0], both.iloc[:, 1])
                row.update(r_satisfaction=float(r), p_satisfaction=float(p))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("dimension")
    table.attrs["methods"] = Methods(
        analysis="consumption emotions", n_used=int(scores.notna().any(axis=1).sum()),
        missing="mean of answered items per dimension; correlations pairwise complete",
        formula="dimension score = mean of its items; r = Pearson correlation with satisfaction",
        reference="Richins (1997) J. Consumer Research 24(2); Westbrook & Oliver (1991) "
                  "J. Consumer Research 18(1)")
    return table
