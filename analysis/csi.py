"""Customer satisfaction index (ACSI / ECSI style) by PLS path modelling.

The measurement model is reflective (mode A) and the structural model is the
ECSI one (image, expectation, perceived quality, perceived value ->
satisfaction -> complaints, loyalty). Estimation is :mod:`analysis.pls`
(Lohmöller's algorithm, checked against R seminr and R plspm) on centred,
unscaled items, as the ACSI does, so the outer weights can be turned into
0-100 index scores.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .common import Methods, float_columns, item_ranges, require_n
from .pls import ROW_BLOCK, PLSBootstrap, PLSModel, PLSResult, bootstrap_pls, fit_pls
from .reliability import _alpha_std_from_corr

__all__ = ["ECSI_CONSTRUCTS", "ECSI_PATHS", "CSIBootstrap", "CSIResult", "csi_bootstrap", "csi_model",
           "csi_index"]

#: Construct codes of the ECSI model, in causal order.
ECSI_CONSTRUCTS: tuple[str, ...] = ("image", "expectation", "quality", "value",
                                    "satisfaction", "complaints", "loyalty")

#: Structural model of the ECSI (Tenenhaus, Esposito Vinzi, Chatelin & Lauro
#: 2005, section 5; the ACSI of Fornell et al. 1996 without image).
#: Paths whose constructs a study does not measure are dropped.
ECSI_PATHS: tuple[tuple[str, str], ...] = (
    ("image", "expectation"), ("image", "satisfaction"), ("image", "loyalty"),
    ("expectation", "quality"), ("expectation", "value"), ("expectation", "satisfaction"),
    ("quality", "value"), ("quality", "satisfaction"), ("value", "satisfaction"),
    ("satisfaction", "complaints"), ("satisfaction", "loyalty"), ("complaints", "loyalty"),
)

_SCHEMES = ("centroid", "factorial", "path")

_REFERENCES = ("Fornell, Johnson, Anderson, Cha & Bryant (1996) J. Marketing 60(4), 7-18; "
               "Lohmöller (1989) Latent Variable Path Modeling with Partial Least Squares; "
               "Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005) Computational Statistics "
               "& Data Analysis 48(1), 159-205; Sanchez (2013) PLS Path Modeling with R")


@dataclass
class CSIResult:
    """Results of :func:`csi_model`.

    Attributes
    ----------
    outer : one row per item: construct, item, weight (outer weight on the
        centred item, scores of sample variance 1), rescaled_weight (weight
        normalised to sum 1 within the construct, the index weight),
        loading, communality, and bootstrap SE / CI of the loading.
    paths : one row per structural path: source, target, estimate, and from
        the bootstrap boot_mean, se, ci_low, ci_high, t (estimate / se), p
        (two-sided, t on n - 1 df), significant (CI excludes 0).
    effects : direct, indirect and total effect of every connected pair.
    r2 : per endogenous construct: r2, r2_adj, and bootstrap SE / CI of r2.
    constructs : per construct: type, n_items, ave, block_communality,
        cronbach_alpha, dillon_goldstein_rho, eig_1st, eig_2nd.
    index : per construct: index (0-100), bootstrap se, ci_low, ci_high,
        and the item scale used.
    respondent_index : each respondent's 0-100 index per construct.
    scores : standardized construct scores (mean 0, variance 1), indexed
        like the complete cases of the frame.
    gof : goodness of fit (Tenenhaus et al. 2005).
    n, n_boot, n_boot_failed, seed : cases, resamples asked, resamples that
        did not converge (left out), seed.
    methods : how it was computed.
    """

    outer: pd.DataFrame
    paths: pd.DataFrame
    effects: pd.DataFrame
    r2: pd.DataFrame
    constructs: pd.DataFrame
    index: pd.DataFrame
    respondent_index: pd.DataFrame
    scores: pd.DataFrame
    gof: float
    n: int
    n_boot: int
    n_boot_failed: int
    seed: int | None
    methods: Methods


def _item_scale(items: Sequence[str], scale) -> pd.DataFrame:
    rows = item_ranges(items, scale)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["min", "max"]).astype(float)


def csi_index(weights: pd.Series, means: pd.Series, scale: pd.DataFrame) -> float:
    """0-100 index of one construct from its outer weights and item means.

    ``index = 100 * (sum_i w_i mean_i - sum_i w_i min_i) / sum_i w_i (max_i - min_i)``

    with ``w_i`` the unstandardized outer weights rescaled to sum to 1
    (Fornell et al. 1996, p. 9, note 2). With one scale for all items this is
    ``100 * (weighted mean - min) / (max - min)``.

    Parameters
    ----------
    weights : pandas.Series
        Outer weights (on unscaled, centred items), indexed by item.
    means : pandas.Series
        Item means (or one respondent's answers), indexed by item.
    scale : pandas.DataFrame
        Columns ``min`` and ``max``, indexed by item.

    Returns
    -------
    float

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E.
    (1996). The American Customer Satisfaction Index: nature, purpose, and
    findings. Journal of Marketing 60(4), 7-18.

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.Series({"s1": 0.2, "s2": 0.6})
    >>> m = pd.Series({"s1": 7.0, "s2": 8.5})
    >>> sc = pd.DataFrame({"min": [1.0, 1.0], "max": [10.0, 10.0]}, index=["s1", "s2"])
    >>> round(csi_index(w, m, sc), 2)
    79.17
    """
    items = list(weights.index)
    values = means.loc[items].to_numpy(dtype=float)[None, :]
    return float(_index_rows(weights.to_numpy(dtype=float)[None, :], values,
                             scale.loc[items, "min"].to_numpy(), scale.loc[items, "max"].to_numpy())[0])


def _index_rows(weights: np.ndarray, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """:func:`csi_index` of every row of ``values`` (b, m) with the weights of that row (b, m) or shared (1, m)."""
    total = weights.sum(axis=1, keepdims=True)
    if (total == 0).any():
        raise ValueError("outer weights sum to 0: the index is undefined")
    w = weights / total
    # numerator and denominator summed the same way, (x - lo) per item first:
    # a respondent at the top of every item then scores exactly 100 instead
    # of 100 plus rounding error
    return 100 * ((values - lo) * w).sum(axis=1) / ((hi - lo) * w).sum(axis=1)


def csi_model(frame: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
              scale, paths: Sequence[tuple[str, str]] = ECSI_PATHS, n_boot: int = 500,
              seed: int | None = None, ci: float = 0.95, scheme: str = "centroid",
              min_n: int = 30) -> CSIResult:
    """ACSI/ECSI customer satisfaction index by PLS path modelling.

    Steps:

    1. Fit (:func:`_fit`): PLS path model (:func:`analysis.pls.fit_pls`,
       Lohmöller's algorithm) with reflective (mode A) blocks on centred,
       unscaled items (as R plspm ``scaled = FALSE``) and the structural
       ``paths`` restricted to the constructs in ``blocks``; inner weighting
       ``scheme`` (centroid by default, as R plspm).
    2. Bootstrap (:func:`_bootstrap`): ``n_boot`` resamples of respondents
       drawn with ``numpy.random.default_rng(seed)``, all re-estimated at
       once (:func:`analysis.pls.bootstrap_pls`). SE = SD of the resample
       estimates, CI = percentile interval, t = estimate / SE, p two-sided
       on n - 1 df; a path is significant when its CI excludes 0.
       Resamples that do not converge are left out and counted.
       :func:`csi_bootstrap` runs steps 1 and 2 alone and gives the same
       interval tables, for a report that shows the estimates first
       (``n_boot=0``) and the intervals when a later job has them.
    3. Describe (:func:`_describe`): the index per construct (Fornell et al.
       1996), ``100 * (sum_i w_i mean_i - sum_i w_i min_i) / sum_i w_i (max_i - min_i)``,
       ``w_i`` the unstandardized outer weights rescaled to sum 1 (see
       :func:`csi_index`), with bootstrap SE/CI from the same resamples; the
       same formula on each respondent's answers gives
       ``respondent_index``. Block quality as in R plspm (Sanchez 2013,
       ch. 4): AVE and block communality (mean squared loading), standardized
       Cronbach's alpha, Dillon-Goldstein's rho and the first two eigenvalues
       of the block correlation matrix; GoF = sqrt(mean communality of the
       multi-item blocks x mean R²) (Tenenhaus et al. 2005, 4.1).

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame.
    blocks : mapping of str to sequence of str
        Construct -> item columns, constructs named as in
        :data:`ECSI_CONSTRUCTS` (or as in your own ``paths``). At least two
        items per construct are advised; one is allowed.
    scale : (min, max) or mapping item -> (min, max)
        Item scale end points for the index (no default: a wrong guess
        would shift every index).
    paths : sequence of (source, target)
        Structural model; default :data:`ECSI_PATHS`. Paths with a construct
        missing from ``blocks`` are dropped.
    n_boot : int, default 500
        Bootstrap resamples; 0 skips the bootstrap (SE/CI NaN).
    seed : int, optional
        Seed of the resampling.
    ci : float, default 0.95
        Confidence level of the percentile intervals.
    scheme : {"centroid", "factorial", "path"}
        Inner weighting scheme.
    min_n : int, default 30
        Fewest complete cases; at least 10 times the largest number of
        arrows into a construct is always required (Barclay, Higgins &
        Thompson 1995).

    Returns
    -------
    CSIResult

    Raises
    ------
    InsufficientData
        Too few complete cases.
    ValueError
        Unknown columns, items outside the scale, constructs not linked by
        any path, bad arguments, no convergence
        (:class:`analysis.pls.PLSConvergenceError`).

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E.
    (1996). The American Customer Satisfaction Index: nature, purpose, and
    findings. Journal of Marketing 60(4), 7-18.
    Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M. & Lauro, C. (2005).
    PLS path modeling. Computational Statistics & Data Analysis 48(1),
    159-205.
    Sanchez, G. (2013). PLS Path Modeling with R. Trowchez Editions.

    Examples
    --------
    R plspm's satisfaction example (Sanchez 2013, ch. 5) reports
    value -> satisfaction = 0.589; the indices follow from R's outer
    weights to 1e-4 (tests/analysis/test_csi.py):

    >>> from pathlib import Path
    >>> import pandas as pd
    >>> import analysis
    >>> sat = pd.read_csv(Path(analysis.__file__).parents[1] / "tests/data/satisfaction_plspm.csv", index_col=0)
    >>> blocks = {"image": ["imag1", "imag2", "imag3", "imag4", "imag5"],
    ...           "expectation": ["expe1", "expe2", "expe3", "expe4", "expe5"],
    ...           "quality": ["qual1", "qual2", "qual3", "qual4", "qual5"],
    ...           "value": ["val1", "val2", "val3", "val4"],
    ...           "satisfaction": ["sat1", "sat2", "sat3", "sat4"],
    ...           "loyalty": ["loy1", "loy2", "loy3", "loy4"]}
    >>> res = csi_model(sat, blocks, scale=(0, 10), n_boot=0)
    >>> round(float(res.paths.set_index(["source", "target"]).loc[("value", "satisfaction"), "estimate"]), 3)
    0.589
    >>> res.index["index"].round(1).to_dict()
    {'image': 74.4, 'expectation': 74.8, 'quality': 69.4, 'value': 70.3, 'satisfaction': 68.6, 'loyalty': 71.5}
    """
    dropped, data, item_scale, fit = _fitted(frame, blocks, scale, paths, n_boot, ci, scheme, min_n)
    boot = _bootstrap(data, fit, n_boot, seed, ci) if n_boot else None
    return _describe(frame, data, fit, boot, item_scale, dropped, n_boot, seed, ci)


@dataclass
class CSIBootstrap:
    """Results of :func:`csi_bootstrap`: the bootstrap part of :func:`csi_model`.

    Attributes
    ----------
    outer, paths, r2, index : the tables of :class:`CSIResult` of the same
        name, with the bootstrap SE / CI filled in (the estimates are this
        fit's, on the same data).
    n, n_boot, n_boot_failed, seed, ci : cases, resamples asked, resamples
        left out, seed, level of the intervals.
    methods : how it was computed.
    """

    outer: pd.DataFrame
    paths: pd.DataFrame
    r2: pd.DataFrame
    index: pd.DataFrame
    n: int
    n_boot: int
    n_boot_failed: int
    seed: int | None
    ci: float
    methods: Methods


def csi_bootstrap(frame: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
                  scale, paths: Sequence[tuple[str, str]] = ECSI_PATHS, n_boot: int = 500,
                  seed: int | None = None, ci: float = 0.95, scheme: str = "centroid",
                  min_n: int = 30) -> CSIBootstrap:
    """The bootstrap intervals of :func:`csi_model`, computed on their own.

    The same steps 1 and 2 of :func:`csi_model` (fit, then ``n_boot``
    resamples from ``numpy.random.default_rng(seed)``) and the same interval
    tables, without the per-respondent tables and block statistics: so the
    report can show the point estimates at once (``csi_model(..., n_boot=0)``)
    and a queue job add the intervals later. ``csi_bootstrap(frame, ...,
    n_boot=B, seed=S)`` gives exactly the paths, outer, r2 and index tables of
    ``csi_model(frame, ..., n_boot=B, seed=S)`` (tests/analysis/test_csi.py):
    percentile intervals of the resample estimates (Efron & Tibshirani 1993,
    ch. 13; Chin 1998), SE = their SD, t = estimate / SE on n - 1 df.

    Parameters
    ----------
    frame, blocks, scale, paths, seed, ci, scheme, min_n
        As :func:`csi_model`.
    n_boot : int, default 500
        Bootstrap resamples, at least 50.

    Returns
    -------
    CSIBootstrap

    Raises
    ------
    InsufficientData
        Too few complete cases.
    ValueError
        As :func:`csi_model`; also ``n_boot`` below 50.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
    Chapman & Hall (percentile intervals, ch. 13); Chin (1998) for PLS, as
    cited by :func:`analysis.pls.bootstrap_pls`.

    Examples
    --------
    R plspm's satisfaction example (Sanchez 2013, ch. 5): the intervals on
    their own equal those :func:`csi_model` computes with the same seed.

    >>> from pathlib import Path
    >>> import pandas as pd
    >>> import analysis
    >>> sat = pd.read_csv(Path(analysis.__file__).parents[1] / "tests/data/satisfaction_plspm.csv", index_col=0)
    >>> blocks = {"image": ["imag1", "imag2", "imag3"], "value": ["val1", "val2", "val3", "val4"],
    ...           "satisfaction": ["sat1", "sat2", "sat3", "sat4"]}
    >>> boot = csi_bootstrap(sat, blocks, scale=(0, 10), n_boot=50, seed=1)
    >>> joint = csi_model(sat, blocks, scale=(0, 10), n_boot=50, seed=1)
    >>> boot.paths[["ci_low", "ci_high"]].equals(joint.paths[["ci_low", "ci_high"]])
    True
    >>> bool(boot.index["ci_low"].lt(boot.index["index"]).all()), boot.n_boot_failed
    (True, 0)
    """
    if n_boot == 0:
        raise ValueError("n_boot must be at least 50: csi_bootstrap computes the bootstrap only")
    dropped, data, item_scale, fit = _fitted(frame, blocks, scale, paths, n_boot, ci, scheme, min_n)
    boot = _bootstrap(data, fit, n_boot, seed, ci)
    tables = _interval_tables(fit, boot, item_scale)
    return CSIBootstrap(**tables, n=fit.n, n_boot=n_boot, n_boot_failed=boot.n_failed, seed=seed, ci=ci,
                        methods=_methods(fit, tables["outer"], dropped, n_boot, boot.n_failed, seed, ci,
                                         n_excluded=len(frame) - fit.n))


def _fitted(frame: pd.DataFrame, blocks: Mapping[str, Sequence[str]], scale,
            paths: Sequence[tuple[str, str]], n_boot: int, ci: float, scheme: str, min_n: int):
    """What :func:`csi_model` and :func:`csi_bootstrap` both start with (the arguments checked, the
    model, its complete cases and step 1, the fit): ``(dropped constructs, complete cases,
    item scale, fit)``."""
    _check_arguments(scheme, n_boot, ci)
    model, dropped = _structural_model(frame, blocks, paths)
    data, item_scale = _complete_cases(frame, model, scale, min_n)
    return dropped, data, item_scale, _fit(data, model, scheme)


def _check_arguments(scheme: str, n_boot: int, ci: float) -> None:
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(_SCHEMES)}; got {scheme!r}")
    if n_boot != 0 and n_boot < 50:
        raise ValueError(f"n_boot must be 0 (no bootstrap) or at least 50; got {n_boot}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1; got {ci}")


def _structural_model(frame: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
                      paths: Sequence[tuple[str, str]]) -> tuple[PLSModel, list[str]]:
    """The PLS model of the measured constructs, and the paths dropped for want of a construct."""
    if not blocks:
        raise ValueError("blocks is empty: map each construct to its item columns")
    blocks = {k: list(v) for k, v in blocks.items()}
    items = [i for cols in blocks.values() for i in cols]
    clash = [i for i in items if i in blocks]
    if clash:
        raise ValueError(f"item column(s) named like a construct: {', '.join(clash)}")
    edges = [(s, t) for s, t in paths if s in blocks and t in blocks]
    dropped = [f"{s} -> {t}" for s, t in paths if (s, t) not in edges]
    # checked before PLSModel, which would only say "no paths" when none is left
    unlinked = [c for c in blocks if all(c not in edge for edge in edges)]
    if unlinked:
        raise ValueError(f"construct(s) not on any path: {', '.join(unlinked)}")
    model = PLSModel(blocks, edges)
    missing = [i for i in items if i not in frame.columns]
    if missing:
        raise ValueError(f"item column(s) not in the frame: {', '.join(missing)}")
    return model, dropped


def _complete_cases(frame: pd.DataFrame, model: PLSModel, scale, min_n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete cases on the model's items (numbers), checked against the scale; and the scale table."""
    items = model.items
    if list(frame.columns) == list(items) and len(set(frame.dtypes)) == 1 \
            and frame.dtypes.iloc[0] in (np.float32, np.float64):
        # exactly the items already, of one float type (analyse_survey's copy, float32 as
        # the job's frame stores answers; the fit reads them into float64 a block at a time)
        block = frame
    else:
        block = float_columns(frame, items)
    # Complete rows and the scale check on the float matrix: DataFrame.dropna and a
    # comparison per column each copy the block again (half a GB at a million rows).
    values = block.to_numpy()
    # A block of rows at a time: the NaN mask of the whole matrix is a byte per answer
    # (58 MB for 58 items at a million respondents) for one flag per row.
    complete = np.empty(len(values), dtype=bool)
    for start in range(0, len(values), ROW_BLOCK):
        complete[start:start + ROW_BLOCK] = ~np.isnan(values[start:start + ROW_BLOCK]).any(axis=1)
    if complete.all():
        data = block  # every row complete: no second copy
    else:
        values = values[complete]
        data = pd.DataFrame(values, index=block.index[complete], columns=items, copy=False)
    del block
    indegree = max(len(model.predecessors(c)) for c in model.endogenous)
    require_n("PLS path model", len(data), max(min_n, 10 * indegree))
    item_scale = _item_scale(items, scale)
    lo, hi = item_scale.loc[items, "min"].to_numpy(float), item_scale.loc[items, "max"].to_numpy(float)
    # Each item's smallest and largest answer against its end points: comparing the whole
    # matrix made three byte masks as large as the answers.
    outside = [i for i, low, high in zip(items, values.min(axis=0) < lo, values.max(axis=0) > hi)
               if low or high]
    if outside:
        raise ValueError(f"answers outside the scale in {', '.join(outside)}")
    return data, item_scale


def _fit(data: pd.DataFrame, model: PLSModel, scheme: str) -> PLSResult:
    """The PLS path model on centred, unscaled items (the ACSI estimation)."""
    return fit_pls(data, model, scheme=scheme, standardize=False)


def _bootstrap(data: pd.DataFrame, fit: PLSResult, n_boot: int, seed: int | None, ci: float) -> PLSBootstrap:
    """All resamples at once; the draws feed the path, loading, R² and index intervals."""
    return bootstrap_pls(data, fit.model, n_boot=n_boot, seed=seed, scheme=fit.scheme, standardize=False,
                         ci=ci, fit=fit)


_INTERVAL_COLUMNS = ("boot_mean", "se", "ci_low", "ci_high")


def _interval(boot: PLSBootstrap | None, kind: str, estimate: pd.Series) -> pd.DataFrame:
    """Estimate with bootstrap mean, SE and CI (NaN without a bootstrap)."""
    if boot is not None:
        return boot.summary(kind, estimate)
    out = pd.DataFrame({"estimate": estimate.astype(float)})
    for column in _INTERVAL_COLUMNS:
        out[column] = np.nan
    return out


def _describe(frame: pd.DataFrame, data: pd.DataFrame, fit: PLSResult, boot: PLSBootstrap | None,
              item_scale: pd.DataFrame, dropped: list[str], n_boot: int, seed: int | None,
              ci: float) -> CSIResult:
    """The result tables: paths, outer model, R², block quality, index, methods."""
    tables = _interval_tables(fit, boot, item_scale)
    constructs = _block_quality(data, fit)
    n_failed = boot.n_failed if boot is not None else 0
    methods = _methods(fit, tables["outer"], dropped, n_boot, n_failed, seed, ci, n_excluded=len(frame) - fit.n)
    return CSIResult(**tables, effects=fit.effects, constructs=constructs,
                     respondent_index=_respondent_index(data, fit, item_scale), scores=fit.scores,
                     gof=_goodness_of_fit(constructs, tables["r2"]), n=fit.n, n_boot=n_boot,
                     n_boot_failed=n_failed, seed=seed, methods=methods)


def _interval_tables(fit: PLSResult, boot: PLSBootstrap | None, item_scale: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables that carry bootstrap intervals (NaN without a bootstrap): outer, paths, r2, index."""
    return {"outer": _outer_table(fit, boot), "paths": _path_table(fit, boot), "r2": _r2_table(fit, boot),
            "index": _index_table(fit, boot, item_scale)}


def _path_table(fit: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    """Paths with bootstrap SE/CI, t on n - 1 df, and significance (CI excludes 0)."""
    names = fit.paths["source"] + " -> " + fit.paths["target"]
    paths = _interval(boot, "paths", pd.Series(fit.paths["estimate"].to_numpy(), index=names))
    paths.insert(0, "target", fit.paths["target"].to_numpy())
    paths.insert(0, "source", fit.paths["source"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        paths["t"] = paths["estimate"] / paths["se"]
    paths["p"] = 2 * stats.t.sf(np.abs(paths["t"]), df=fit.n - 1)
    paths["significant"] = (paths["ci_low"] > 0) | (paths["ci_high"] < 0)
    return paths.rename_axis("path").reset_index()


def _outer_table(fit: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    """Outer weights, index weights and loadings with the loadings' bootstrap SE/CI."""
    outer = fit.outer.set_index("item")
    loading = _interval(boot, "loadings", outer["loading"])
    return pd.DataFrame({
        "construct": outer["construct"], "item": outer.index, "weight": outer["weight"],
        "rescaled_weight": outer["rescaled_weight"], "loading": outer["loading"],
        "communality": outer["communality"], "loading_se": loading["se"],
        "loading_ci_low": loading["ci_low"], "loading_ci_high": loading["ci_high"],
    }).reset_index(drop=True)


def _r2_table(fit: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    r2_boot = _interval(boot, "r2", fit.r2["r2"])
    return pd.DataFrame({"r2": fit.r2["r2"], "r2_adj": fit.r2["r2_adj"], "se": r2_boot["se"],
                         "ci_low": r2_boot["ci_low"], "ci_high": r2_boot["ci_high"]})


def _respondent_index(data: pd.DataFrame, fit: PLSResult, item_scale: pd.DataFrame) -> pd.DataFrame:
    """Each complete respondent's 0-100 index per construct (the index formula on their answers)."""
    weights = fit.outer.set_index("item")["weight"]
    values = data.to_numpy() if data.columns.is_unique else None
    index = np.full((len(fit.model.constructs), len(data)), np.nan)
    for row, (construct, items) in zip(index, fit.model.constructs.items()):
        items = list(items)
        positions = data.columns.get_indexer(items)
        contiguous = values is not None and np.array_equal(positions, np.arange(positions[0], positions[0] + len(items)))
        # A block of rows at a time: the index formula's temporaries (x - lo, times w)
        # are each as large as the construct's answers (0.2 GB at a million respondents);
        # each row's sum is the same computation in a block.
        for start in range(0, len(data), ROW_BLOCK):
            rows = slice(start, start + ROW_BLOCK)
            answers = values[rows, positions[0]:positions[0] + len(items)] if contiguous \
                else data[items].iloc[rows].to_numpy()
            row[rows] = _index_rows(weights[items].to_numpy()[None, :], answers,
                                    item_scale.loc[items, "min"].to_numpy(),
                                    item_scale.loc[items, "max"].to_numpy())
    return pd.DataFrame(index.T, index=data.index, columns=list(fit.model.constructs), copy=False)


def _goodness_of_fit(constructs: pd.DataFrame, r2: pd.DataFrame) -> float:
    """GoF = sqrt(mean communality of the multi-item blocks, weighted by items, x mean R²)."""
    multi = constructs["n_items"] > 1
    if not multi.any():
        return float("nan")
    communality = np.average(constructs.loc[multi, "block_communality"], weights=constructs.loc[multi, "n_items"])
    return float(np.sqrt(communality * r2["r2"].mean()))


def _methods(fit: PLSResult, outer: pd.DataFrame, dropped: list[str], n_boot: int, n_failed: int,
             seed: int | None, ci: float, n_excluded: int) -> Methods:
    notes = [f"inner weighting scheme: {fit.scheme}"]
    if dropped:
        notes.append(f"dropped paths (construct not measured): {', '.join(dropped)}")
    negative = outer.loc[outer["weight"] < 0, "item"].tolist()
    if negative:
        notes.append(f"negative outer weight(s) for {', '.join(negative)}: the index of that construct "
                     "may leave 0-100; check the items")
    if n_failed:
        notes.append(f"{n_failed} of {n_boot} bootstrap resamples did not converge and were left out")
    return Methods(
        analysis="customer satisfaction index (PLS path model)",
        n_used=fit.n,
        n_excluded=n_excluded,
        missing="listwise over all model items",
        formula="PLS-PM (Lohmöller), mode A blocks, centred unscaled items; index = 100 * (sum w_i mean_i - "
                "sum w_i min_i) / sum w_i (max_i - min_i), w_i outer weights rescaled to sum 1",
        test=(f"percentile bootstrap ({n_boot} resamples, seed {seed}, {ci:.0%} CI); t = estimate/SE on "
              f"n - 1 df" if n_boot else "no bootstrap"),
        reference=_REFERENCES,
        notes=notes,
    )


def _block_correlations(data: pd.DataFrame, fit: PLSResult, items: list[str]) -> np.ndarray:
    """Correlation matrix of a block's items: from the fit's item covariance matrix (the
    same centred cross-product ``numpy.corrcoef`` forms, without another pass over the rows)."""
    if fit.item_covariance is None:
        return np.corrcoef(data[items].to_numpy(), rowvar=False).reshape(len(items), len(items))
    cov = fit.item_covariance.loc[items, items].to_numpy()
    sd = np.sqrt(np.diag(cov))
    return np.clip(cov / np.outer(sd, sd), -1.0, 1.0)


def _block_quality(data: pd.DataFrame, fit: PLSResult) -> pd.DataFrame:
    """Per construct: type, n_items, AVE, block communality, alpha, DG rho, eigenvalues (R plspm's summary).

    Mode A blocks: AVE = block communality = mean squared loading;
    standardized alpha ``k r / (1 + (k - 1) r)`` (r the mean inter-item
    correlation); Dillon-Goldstein's rho ``(sum l)² / ((sum l)² + sum (1 - l²))``
    with ``l`` the loadings on the first principal component of the block
    (Tenenhaus et al. 2005, 3.1; Sanchez 2013, 4.3).
    """
    rows = {}
    outer = fit.outer.set_index("item")
    endogenous = set(fit.model.endogenous)
    for construct, items in fit.model.constructs.items():
        items = list(items)
        communality = outer.loc[items, "communality"]
        corr = _block_correlations(data, fit, items)
        eigenvalues, vectors = np.linalg.eigh(corr)
        eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
        pc_loadings = np.sqrt(eigenvalues[0]) * vectors[:, 0]
        rho = pc_loadings.sum() ** 2 / (pc_loadings.sum() ** 2 + (1 - pc_loadings ** 2).sum())
        rows[construct] = {
            "type": "Endogenous" if construct in endogenous else "Exogenous",
            "n_items": len(items), "ave": communality.mean(), "block_communality": communality.mean(),
            "cronbach_alpha": _alpha_std_from_corr(corr)[0] if len(items) > 1 else np.nan,
            "dillon_goldstein_rho": rho, "eig_1st": eigenvalues[0],
            "eig_2nd": eigenvalues[1] if len(items) > 1 else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("construct")


def _index_table(fit: PLSResult, boot: PLSBootstrap | None, item_scale: pd.DataFrame) -> pd.DataFrame:
    """0-100 index per construct with bootstrap SE and percentile CI from the same resamples."""
    outer = fit.outer.set_index("item")
    estimates, draws = {}, {}
    for construct, items in fit.model.constructs.items():
        items = list(items)
        lo, hi = item_scale.loc[items, "min"].to_numpy(), item_scale.loc[items, "max"].to_numpy()
        estimates[construct] = _index_rows(outer.loc[items, "weight"].to_numpy()[None, :],
                                           fit.item_means[items].to_numpy()[None, :], lo, hi)[0]
        if boot is not None:
            draws[construct] = _index_rows(boot.draws["raw_weights"][items].to_numpy(),
                                           boot.draws["item_means"][items].to_numpy(), lo, hi)
    estimate = pd.Series(estimates)
    if boot is not None:
        boot.draws["index"] = pd.DataFrame(draws)
    table = _interval(boot, "index", estimate).drop(columns="boot_mean").rename(columns={"estimate": "index"})
    table["scale"] = [f"{item_scale.loc[list(items), 'min'].min():g}-{item_scale.loc[list(items), 'max'].max():g}"
                      for items in fit.model.constructs.values()]
    return table.rename_axis("construct")
