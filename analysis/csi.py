"""Customer satisfaction index (ACSI / ECSI style) by PLS path modelling.

The measurement model is reflective (mode A) and the structural model is the
ECSI one (image, expectation, perceived quality, perceived value ->
satisfaction -> complaints, loyalty). Estimation uses the ``plspm`` package
(a port of R's plspm, Sanchez 2013) on centred, unscaled items, as the ACSI
does, so the outer weights can be turned into 0-100 index scores.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .common import Methods, require_n, item_ranges

__all__ = ["ECSI_CONSTRUCTS", "ECSI_PATHS", "CSIResult", "csi_model", "csi_index"]

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
               "Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005) Computational Statistics "
               "& Data Analysis 48(1), 159-205; Sanchez (2013) PLS Path Modeling with R")


@dataclass
class CSIResult:
    """Results of :func:`csi_model`.

    Attributes
    ----------
    outer : one row per item: construct, item, weight (plspm outer weight
        on the centred item), loading, communality, rescaled_weight (weight
        normalised to sum 1 within the construct, the index weight), and
        bootstrap SE / CI of the loading.
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
    scores : standardized latent-variable scores (plspm).
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
    w = weights.to_numpy(dtype=float)
    total = w.sum()
    if total == 0:
        raise ValueError("outer weights sum to 0: the index is undefined")
    w = w / total
    lo, hi = scale.loc[items, "min"].to_numpy(), scale.loc[items, "max"].to_numpy()
    x = means.loc[items].to_numpy(dtype=float)
    # (x - lo) per item first: a respondent at the top of every item then
    # scores exactly 100 instead of 100 plus rounding error
    return float(100 * (w @ (x - lo)) / (w @ (hi - lo)))


def _config(blocks: Mapping[str, Sequence[str]], edges: Sequence[tuple[str, str]]):
    import plspm.config as c
    from plspm.mode import Mode

    structure = c.Structure()
    for source, target in edges:
        structure.add_path([source], [target])
    config = c.Config(structure.path(), scaled=False)
    for construct, items in blocks.items():
        config.add_lv(construct, Mode.A, *[c.MV(i) for i in items])
    return config


def _fit(data: pd.DataFrame, blocks, edges, scheme: str):
    from plspm.plspm import Plspm
    from plspm.scheme import Scheme

    return Plspm(data, _config(blocks, edges), Scheme[scheme.upper()])


def _boot_estimates(model, blocks, edges, means: pd.Series, scale: pd.DataFrame) -> dict[str, pd.Series]:
    outer = model.outer_model()
    coef = model.path_coefficients()
    paths = pd.Series({f"{s} -> {t}": coef.loc[t, s] for s, t in edges})
    r2 = model.inner_summary()["r_squared"]
    index = pd.Series({k: csi_index(outer.loc[list(v), "weight"], means, scale) for k, v in blocks.items()})
    return {"paths": paths, "loadings": outer["loading"], "r2": r2, "index": index}


def _boot_chunk(args):
    """Worker: estimate the model on each resample in one chunk of indices."""
    data, blocks, edges, scheme, scale, index_rows = args
    results, failed = [], 0
    for idx in index_rows:
        sample = data.iloc[idx].reset_index(drop=True)
        try:
            model = _fit(sample, blocks, edges, scheme)
            results.append(_boot_estimates(model, blocks, edges, sample.mean(), scale))
        except Exception:  # plspm signals non-convergence with a bare Exception
            failed += 1
    return results, failed


def csi_model(frame: pd.DataFrame, blocks: Mapping[str, Sequence[str]],
              scale, paths: Sequence[tuple[str, str]] = ECSI_PATHS, n_boot: int = 500,
              seed: int | None = None, ci: float = 0.95, scheme: str = "centroid",
              processes: int = 1, min_n: int = 30) -> CSIResult:
    """ACSI/ECSI customer satisfaction index by PLS path modelling.

    Steps:

    1. PLS path model (Wold's algorithm as in R plspm, ``plspm`` package)
       with reflective blocks on centred, unscaled items (``scaled=False``)
       and the structural ``paths`` restricted to the constructs in
       ``blocks``; inner weighting ``scheme`` (centroid by default, as R
       plspm).
    2. Bootstrap: ``n_boot`` resamples of respondents drawn with
       ``numpy.random.default_rng(seed)``; each is re-estimated with plspm.
       SE = SD of the resample estimates, CI = percentile interval,
       t = estimate / SE, p two-sided on n - 1 df; a path is significant
       when its CI excludes 0. Resamples that do not converge are left out
       and counted.
    3. Index per construct (Fornell et al. 1996):
       ``100 * (sum_i w_i mean_i - sum_i w_i min_i) / sum_i w_i (max_i - min_i)``,
       ``w_i`` the unstandardized outer weights rescaled to sum 1 (see
       :func:`csi_index`); the same formula on each respondent's answers
       gives ``respondent_index``. Bootstrap SE/CI of the index come from
       the same resamples.

    The resamples are drawn here rather than by plspm's own ``Bootstrap``,
    which draws from numpy's global random state inside worker processes and
    so cannot be reproduced from a seed.

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
    processes : int, default 1
        Worker processes for the bootstrap; results do not depend on it.
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
        any path, bad arguments.

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
    >>> import pandas as pd
    >>> sat = pd.read_csv("tests/data/satisfaction_plspm.csv", index_col=0)  # doctest: +SKIP
    >>> blocks = {"image": ["imag1", "imag2", "imag3", "imag4", "imag5"],
    ...           "expectation": ["expe1", "expe2", "expe3", "expe4", "expe5"],
    ...           "quality": ["qual1", "qual2", "qual3", "qual4", "qual5"],
    ...           "value": ["val1", "val2", "val3", "val4"],
    ...           "satisfaction": ["sat1", "sat2", "sat3", "sat4"],
    ...           "loyalty": ["loy1", "loy2", "loy3", "loy4"]}
    >>> res = csi_model(sat, blocks, scale=(0, 10), n_boot=0)  # doctest: +SKIP
    >>> round(res.paths.set_index(["source", "target"]).loc[("value", "satisfaction"), "estimate"], 3)  # doctest: +SKIP
    0.589
    """
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(_SCHEMES)}; got {scheme!r}")
    if n_boot != 0 and n_boot < 50:
        raise ValueError(f"n_boot must be 0 (no bootstrap) or at least 50; got {n_boot}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1; got {ci}")
    if int(processes) != processes or processes < 1:
        raise ValueError(f"processes must be a positive integer; got {processes}")
    if not blocks:
        raise ValueError("blocks is empty: map each construct to its item columns")
    blocks = {k: list(v) for k, v in blocks.items()}
    for construct, items in blocks.items():
        if not items:
            raise ValueError(f"construct {construct} has no items")
    items = [i for cols in blocks.values() for i in cols]
    if len(set(items)) != len(items):
        raise ValueError("an item is listed under two constructs")
    clash = [i for i in items if i in blocks]
    if clash:
        raise ValueError(f"item column(s) named like a construct: {', '.join(clash)}")
    missing = [i for i in items if i not in frame.columns]
    if missing:
        raise ValueError(f"item column(s) not in the frame: {', '.join(missing)}")
    edges = [(s, t) for s, t in paths if s in blocks and t in blocks]
    dropped = [f"{s} -> {t}" for s, t in paths if (s, t) not in edges]
    linked = {c for e in edges for c in e}
    unlinked = [c for c in blocks if c not in linked]
    if unlinked:
        raise ValueError(f"construct(s) not on any path: {', '.join(unlinked)}")

    data = frame[items].apply(pd.to_numeric, errors="raise").astype(float)
    n_all = len(data)
    data = data.dropna().reset_index(drop=True)
    n = len(data)
    indegree = pd.Series([t for _, t in edges]).value_counts().max()
    require_n("PLS path model", n, max(min_n, 10 * int(indegree)))
    item_scale = _item_scale(items, scale)
    outside = [i for i in items if ((data[i] < item_scale.at[i, "min"]) | (data[i] > item_scale.at[i, "max"])).any()]
    if outside:
        raise ValueError(f"answers outside the scale in {', '.join(outside)}")
    constant = [i for i in items if data[i].std(ddof=1) == 0]
    if constant:
        raise ValueError(f"item(s) without variance: {', '.join(constant)}")

    model = _fit(data, blocks, edges, scheme)
    estimates = _boot_estimates(model, blocks, edges, data.mean(), item_scale)

    boot, failed = [], 0
    if n_boot:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, n, size=(n_boot, n))
        chunks = [(data, blocks, edges, scheme, item_scale, part)
                  for part in np.array_split(draws, processes) if len(part)]
        if processes == 1:
            outputs = [_boot_chunk(chunks[0])]
        else:
            with ProcessPoolExecutor(max_workers=processes) as pool:
                outputs = list(pool.map(_boot_chunk, chunks))
        for results, nfail in outputs:
            boot.extend(results)
            failed += nfail
        if len(boot) < max(10, n_boot // 2):
            raise ValueError(f"bootstrap failed: only {len(boot)} of {n_boot} resamples converged")

    lo_q, hi_q = (1 - ci) / 2, (1 + ci) / 2

    def summarise(key: str) -> pd.DataFrame:
        original = estimates[key]
        out = pd.DataFrame({"estimate": original})
        if boot:
            draws_ = pd.DataFrame([b[key] for b in boot])[original.index]
            out["boot_mean"] = draws_.mean()
            out["se"] = draws_.std(ddof=1)
            out["ci_low"] = draws_.quantile(lo_q)
            out["ci_high"] = draws_.quantile(hi_q)
        else:
            for col in ("boot_mean", "se", "ci_low", "ci_high"):
                out[col] = np.nan
        return out

    path_table = summarise("paths")
    path_table.insert(0, "target", [t for _, t in edges])
    path_table.insert(0, "source", [s for s, _ in edges])
    with np.errstate(divide="ignore", invalid="ignore"):
        path_table["t"] = path_table["estimate"] / path_table["se"]
    path_table["p"] = 2 * stats.t.sf(np.abs(path_table["t"]), df=n - 1)
    path_table["significant"] = (path_table["ci_low"] > 0) | (path_table["ci_high"] < 0)
    path_table.index.name = "path"
    path_table = path_table.reset_index()

    outer_pls = model.outer_model()
    load = summarise("loadings")
    outer_rows = []
    for construct, cols in blocks.items():
        w = outer_pls.loc[cols, "weight"]
        for item in cols:
            outer_rows.append({
                "construct": construct, "item": item, "weight": w[item],
                "rescaled_weight": w[item] / w.sum(),
                "loading": outer_pls.at[item, "loading"],
                "communality": outer_pls.at[item, "communality"],
                "loading_se": load.at[item, "se"], "loading_ci_low": load.at[item, "ci_low"],
                "loading_ci_high": load.at[item, "ci_high"],
            })
    outer = pd.DataFrame(outer_rows)

    inner = model.inner_summary()
    endogenous = inner.index[inner["type"] == "Endogenous"]
    r2_boot = summarise("r2").loc[endogenous]
    r2 = pd.DataFrame({"r2": inner.loc[endogenous, "r_squared"],
                       "r2_adj": inner.loc[endogenous, "r_squared_adj"],
                       "se": r2_boot["se"], "ci_low": r2_boot["ci_low"], "ci_high": r2_boot["ci_high"]})
    r2 = r2.reindex([c for c in blocks if c in r2.index])
    r2.index.name = "construct"

    unidim = model.unidimensionality()
    constructs = pd.DataFrame({
        "type": inner["type"], "n_items": pd.Series({k: len(v) for k, v in blocks.items()}),
        "ave": inner["ave"], "block_communality": inner["block_communality"],
        "cronbach_alpha": unidim["cronbach_alpha"], "dillon_goldstein_rho": unidim["dillon_goldstein_rho"],
        "eig_1st": unidim["eig_1st"], "eig_2nd": unidim["eig_2nd"],
    }).reindex(list(blocks))
    constructs.index.name = "construct"

    idx_table = summarise("index").drop(columns="boot_mean").rename(columns={"estimate": "index"})
    idx_table["scale"] = [f"{item_scale.loc[blocks[k], 'min'].min():g}-{item_scale.loc[blocks[k], 'max'].max():g}"
                          for k in idx_table.index]
    idx_table = idx_table.reindex(list(blocks))
    idx_table.index.name = "construct"

    respondent = pd.DataFrame(index=frame.index[frame[items].notna().all(axis=1)])
    raw = frame.loc[respondent.index, items].astype(float)
    for construct, cols in blocks.items():
        w = outer_pls.loc[cols, "weight"].to_numpy()
        w = w / w.sum()
        lo = item_scale.loc[cols, "min"].to_numpy()
        hi = item_scale.loc[cols, "max"].to_numpy()
        respondent[construct] = 100 * ((raw[cols].to_numpy() - lo) @ w) / (w @ (hi - lo))

    effects = model.effects().reset_index(drop=True).rename(columns={"from": "source", "to": "target"})
    scores = model.scores().copy()

    notes = [f"dropped paths (construct not measured): {', '.join(dropped)}"] if dropped else []
    negative = outer.loc[outer["weight"] < 0, "item"].tolist()
    if negative:
        notes.append(f"negative outer weight(s) for {', '.join(negative)}: the index of that construct "
                     "may leave 0-100; check the items")
    if failed:
        notes.append(f"{failed} of {n_boot} bootstrap resamples did not converge and were left out")
    methods = Methods(
        analysis="customer satisfaction index (PLS path model)",
        n_used=n,
        n_excluded=n_all - n,
        missing="listwise over all model items",
        formula="PLS-PM, reflective blocks, centred unscaled items; index = 100 * (sum w_i mean_i - "
                "sum w_i min_i) / sum w_i (max_i - min_i), w_i outer weights rescaled to sum 1",
        test=(f"percentile bootstrap ({n_boot} resamples, seed {seed}, {ci:.0%} CI); t = estimate/SE on "
              f"n - 1 df" if n_boot else "no bootstrap"),
        reference=_REFERENCES,
        notes=[f"inner weighting scheme: {scheme}"] + notes,
    )
    return CSIResult(outer=outer, paths=path_table, effects=effects, r2=r2, constructs=constructs,
                     index=idx_table, respondent_index=respondent, scores=scores,
                     gof=float(model.goodness_of_fit()), n=n, n_boot=n_boot, n_boot_failed=failed,
                     seed=seed, methods=methods)
