"""PLS path modelling (PLS-PM, PLS-SEM) with Lohmöller's algorithm, in numpy.

A path model has *constructs* (latent variables), each measured by a block of
items, and a recursive structural model of *paths* between constructs.
:func:`fit_pls` estimates it with the iterative algorithm of Wold (1982) in
the form of Lohmöller (1989), as SmartPLS, R semPLS, R seminr and R plspm do;
:func:`bootstrap_pls` resamples respondents for standard errors and
percentile intervals.

Every step of the algorithm depends on the data only through the item
covariance matrix, so the fit runs on that ``p x p`` matrix (a fit at 100 000
rows costs one matrix product), and the bootstrap runs all resamples at once
on a stack of resample covariance matrices.
"""
from __future__ import annotations

import graphlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SCHEMES", "MODES", "PLSModel", "PLSModelError", "PLSConvergenceError", "PLSResult",
           "PLSBootstrap", "fit_pls", "bootstrap_pls", "total_effects"]

#: Inner weighting schemes (Lohmöller 1989, section 2.3; Tenenhaus et al. 2005, 2.2).
SCHEMES: tuple[str, ...] = ("path", "centroid", "factorial")
#: Outer modes: A (reflective-style, item-score covariances), B (regression weights).
MODES: tuple[str, ...] = ("A", "B")

REFERENCES = ("Lohmöller, J.-B. (1989) Latent Variable Path Modeling with Partial Least Squares, "
              "Physica; Wold, H. (1982) Soft modeling: the basic design and some extensions, in "
              "Jöreskog & Wold (eds.) Systems under Indirect Observation II, 1-54; Tenenhaus, "
              "Esposito Vinzi, Chatelin & Lauro (2005) PLS path modeling, Computational Statistics & "
              "Data Analysis 48(1), 159-205")


class PLSModelError(ValueError):
    """A path model specification that cannot be estimated (the message says why)."""


class PLSConvergenceError(ValueError):
    """The PLS iteration did not reach the tolerance within the allowed iterations.

    A ValueError: it is a property of the data and model (e.g. blocks whose
    items hardly correlate), not of the code.
    """


@dataclass(frozen=True)
class PLSModel:
    """A PLS path model: constructs with their items, outer modes, and paths.

    Parameters
    ----------
    constructs : mapping of str to sequence of str
        Construct name -> its item columns, in the order they are reported.
    paths : sequence of (source, target)
        Structural paths; the model must be recursive (no cycle).
    modes : mapping of str to {"A", "B"}, optional
        Outer mode per construct; constructs not listed use mode A.

    Raises
    ------
    PLSModelError
        Empty or overlapping blocks, a path naming an undefined construct, a
        self-loop, a repeated path, a cycle, a construct on no path, or an
        unknown mode.

    Examples
    --------
    >>> model = PLSModel({"Image": ["IMAG1", "IMAG2"], "Loyalty": ["CUSL1"]},
    ...                  [("Image", "Loyalty")], modes={"Loyalty": "B"})
    >>> model.items
    ['IMAG1', 'IMAG2', 'CUSL1']
    >>> model.endogenous
    ['Loyalty']
    """

    constructs: Mapping[str, Sequence[str]]
    paths: Sequence[tuple[str, str]]
    modes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        constructs = {str(name): tuple(items) for name, items in dict(self.constructs).items()}
        paths = tuple((str(s), str(t)) for s, t in self.paths)
        modes = {name: str(dict(self.modes).get(name, "A")).upper() for name in constructs}
        object.__setattr__(self, "constructs", constructs)
        object.__setattr__(self, "paths", paths)
        unknown_modes = [name for name in dict(self.modes) if name not in constructs]
        object.__setattr__(self, "modes", modes)
        if len(constructs) < 2:
            raise PLSModelError("a path model needs at least two constructs")
        for name, items in constructs.items():
            if not items:
                raise PLSModelError(f"construct {name} has no items")
        seen: dict[str, str] = {}
        for name, items in constructs.items():
            for item in items:
                if item in seen:
                    raise PLSModelError(f"item {item} is listed under two constructs ({seen[item]} and {name})")
                seen[item] = name
        if unknown_modes:
            raise PLSModelError(f"mode given for undefined construct(s): {', '.join(unknown_modes)}")
        bad_modes = [f"{name}: {mode}" for name, mode in modes.items() if mode not in MODES]
        if bad_modes:
            raise PLSModelError(f"mode must be A or B ({', '.join(bad_modes)})")
        if not paths:
            raise PLSModelError("the model has no paths")
        for source, target in paths:
            undefined = [c for c in (source, target) if c not in constructs]
            if undefined:
                raise PLSModelError(f"path {source} -> {target}: construct {undefined[0]} is not defined")
            if source == target:
                raise PLSModelError(f"path {source} -> {target} points to itself")
        if len(set(paths)) != len(paths):
            repeated = sorted({f"{s} -> {t}" for s, t in paths if paths.count((s, t)) > 1})
            raise PLSModelError(f"path listed twice: {', '.join(repeated)}")
        cycle = _find_cycle(list(constructs), paths)
        if cycle:
            raise PLSModelError(f"the paths form a cycle ({' -> '.join(cycle)}); PLS needs a recursive model")
        linked = {c for path in paths for c in path}
        lonely = [c for c in constructs if c not in linked]
        if lonely:
            raise PLSModelError(f"construct(s) on no path: {', '.join(lonely)}")

    @property
    def names(self) -> list[str]:
        """Construct names in the order given."""
        return list(self.constructs)

    @property
    def items(self) -> list[str]:
        """All item columns, block after block."""
        return [item for items in self.constructs.values() for item in items]

    @property
    def endogenous(self) -> list[str]:
        """Constructs with at least one incoming path, in the order given."""
        targets = {t for _, t in self.paths}
        return [c for c in self.constructs if c in targets]

    def predecessors(self, construct: str) -> list[str]:
        """Constructs with a path into ``construct``, in the order of the paths."""
        return [s for s, t in self.paths if t == construct]


def _find_cycle(nodes: list[str], edges: Sequence[tuple[str, str]]) -> list[str] | None:
    """One directed cycle as a node list (first node repeated at the end), or None."""
    predecessors = {n: [s for s, t in edges if t == n] for n in nodes}
    try:
        graphlib.TopologicalSorter(predecessors).prepare()
    except graphlib.CycleError as error:
        # each node of the reported cycle is a predecessor of the next
        return list(error.args[1])
    return None


@dataclass
class PLSResult:
    """Estimates of :func:`fit_pls`.

    Attributes
    ----------
    paths : one row per path: source, target, estimate (standardized OLS
        coefficient of the source's score in the regression of the target's
        score on all its predecessors).
    outer : one row per item: construct, item, mode, weight (on the items as
        analysed: standardized, or centred when ``standardize=False``),
        raw_weight (per unit of the item as given: the score is
        ``sum_i raw_weight_i (x_i - mean_i)``), rescaled_weight (raw weights
        divided by their sum within the construct, the ACSI/ECSI index
        weight), loading (item-score correlation), communality (loading²).
    r2 : per endogenous construct (index): r2, r2_adj.
    effects : source, target, direct, indirect, total for every pair joined
        by a directed chain of paths.
    scores : construct scores, mean 0 and sample variance 1, indexed like
        the data.
    score_correlations : correlation matrix of the construct scores.
    item_means, item_sds : of the items as given (sd with n - 1).
    item_covariance : covariance matrix of the items as given (n - 1), the
        matrix every estimate is computed from; block correlations (R
        plspm's block quality) follow from it without another pass over the rows.
    iterations : iterations until the outer weights changed by less than
        the tolerance.
    n : cases used.
    model, scheme, standardize : what was fitted.
    """

    paths: pd.DataFrame
    outer: pd.DataFrame
    r2: pd.DataFrame
    effects: pd.DataFrame
    scores: pd.DataFrame
    score_correlations: pd.DataFrame
    item_means: pd.Series
    item_sds: pd.Series
    iterations: int
    n: int
    model: PLSModel
    scheme: str
    standardize: bool
    item_covariance: pd.DataFrame | None = None


@dataclass
class PLSBootstrap:
    """Bootstrap of :func:`bootstrap_pls`.

    Attributes
    ----------
    paths : one row per path: source, target, estimate (full sample),
        boot_mean, se (SD of the resample estimates, n - 1), ci_low,
        ci_high (percentile interval), t (estimate / se).
    draws : resample estimates, one DataFrame per kind with one row per
        converged resample: ``"paths"`` (columns ``"source -> target"``),
        ``"loadings"``, ``"weights"``, ``"raw_weights"``, ``"item_means"``
        (columns by item), ``"r2"`` (columns by endogenous construct).
    n_boot : resamples drawn.
    n_failed : resamples left out because the iteration did not converge
        or a resample item had no variance.
    seed : seed of ``numpy.random.default_rng`` (None when the resamples
        were given).
    ci : level of the percentile intervals.
    """

    paths: pd.DataFrame
    draws: dict[str, pd.DataFrame]
    n_boot: int
    n_failed: int
    seed: int | None
    ci: float

    def summary(self, kind: str, estimate: pd.Series) -> pd.DataFrame:
        """Estimate, boot_mean, se, ci_low, ci_high of one kind of draws.

        ``estimate`` is the full-sample value, indexed like the columns of
        ``draws[kind]``.
        """
        draws = self.draws[kind][estimate.index]
        lo, hi = (1 - self.ci) / 2, (1 + self.ci) / 2
        values = draws.to_numpy()
        out = pd.DataFrame({"estimate": estimate.astype(float),
                            "boot_mean": values.mean(axis=0),
                            "se": values.std(axis=0, ddof=1),
                            "ci_low": np.quantile(values, lo, axis=0),
                            "ci_high": np.quantile(values, hi, axis=0)}, index=estimate.index)
        return out


# ---------------------------------------------------------------------------
# The algorithm on (a stack of) covariance matrices
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Structure:
    """Index arrays of a model, built once and reused by every resample."""

    membership: np.ndarray  # (p, k) 1 where item i belongs to construct j
    adjacency: np.ndarray  # (k, k) 1 where there is a path j -> l
    mode_b: list[tuple[int, np.ndarray]]  # (construct, its item positions) of mode-B blocks
    predecessors: list[tuple[int, np.ndarray]]  # (endogenous construct, its predecessors)
    block_of_item: np.ndarray  # (p,) construct of each item

    @classmethod
    def of(cls, model: PLSModel) -> _Structure:
        names = model.names
        items = model.items
        position = {c: j for j, c in enumerate(names)}
        membership = np.zeros((len(items), len(names)))
        block_of_item = np.empty(len(items), dtype=int)
        start = 0
        for j, block in enumerate(model.constructs.values()):
            membership[start:start + len(block), j] = 1.0
            block_of_item[start:start + len(block)] = j
            start += len(block)
        adjacency = np.zeros((len(names), len(names)))
        for source, target in model.paths:
            adjacency[position[source], position[target]] = 1.0
        mode_b = [(j, np.flatnonzero(membership[:, j])) for j, c in enumerate(names)
                  if model.modes[c] == "B" and membership[:, j].sum() > 1]
        predecessors = [(position[c], np.array([position[s] for s in model.predecessors(c)]))
                        for c in model.endogenous]
        return cls(membership, adjacency, mode_b, predecessors, block_of_item)


def _normalise(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Scale each weight column so its score ``X w`` has variance 1."""
    variance = (weights * (cov @ weights)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return weights / np.sqrt(variance)[:, None, :]


def _inner_weights(score_cor: np.ndarray, structure: _Structure, scheme: str) -> np.ndarray:
    """Inner weights ``E`` (b, k, k): the inner estimate of construct l is ``Z_l = sum_j Y_j E[j, l]``."""
    neighbours = structure.adjacency + structure.adjacency.T
    if scheme == "centroid":
        return np.sign(score_cor) * neighbours
    if scheme == "factorial":
        return score_cor * neighbours
    # path scheme: a successor l of j weighs in with cor(Y_j, Y_l); the
    # predecessors of j with their coefficients in the regression of Y_j on them
    inner = score_cor * structure.adjacency.T
    for target, preds in structure.predecessors:
        inner[:, preds, target] = np.linalg.solve(score_cor[:, preds[:, None], preds],
                                                  score_cor[:, preds, target][..., None])[..., 0]
    return inner


def _estimate_weights(cov: np.ndarray, structure: _Structure, scheme: str, tol: float,
                      max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lohmöller's iteration on a stack of item covariance matrices ``cov`` (b, p, p).

    Returns the outer weights (b, p, k) normalised to unit score variance,
    the iterations each matrix needed, and whether it converged. Each matrix
    stops at its own first iteration with ``sum |w_new - w_old| < tol``.
    """
    batch = cov.shape[0]
    weights = _normalise(np.broadcast_to(structure.membership, (batch, *structure.membership.shape)).copy(), cov)
    iterations = np.zeros(batch, dtype=int)
    converged = np.zeros(batch, dtype=bool)
    active = np.flatnonzero(~converged)
    for step in range(1, max_iter + 1):
        s, w = cov[active], weights[active]
        cov_items_scores = s @ w  # cov(x_i, Y_j)
        score_cor = np.swapaxes(w, 1, 2) @ cov_items_scores  # cov(Y) = cor(Y): unit variances
        inner = _inner_weights(score_cor, structure, scheme)
        # mode A: w_j = cov(x_block, Z_j) with Z = Y E, i.e. (S W E) on the block
        new = (cov_items_scores @ inner) * structure.membership
        for j, rows in structure.mode_b:
            # mode B: w_j = S_bb^-1 cov(x_block, Z_j), the regression of Z_j on the block
            new[:, rows, j] = np.linalg.solve(s[:, rows[:, None], rows], new[:, rows, j][..., None])[..., 0]
        new = _normalise(new, s)
        change = np.abs(new - w).sum(axis=(1, 2))
        weights[active] = new
        iterations[active] = step
        done = change < tol
        converged[active[done]] = True
        active = active[~done & np.isfinite(change)]
        if not active.size:
            break
    return weights, iterations, converged


#: Largest condition number of a mode-B block's covariance matrix accepted:
#: beyond it the regression weights are noise (R's solve() refuses at a
#: reciprocal condition number below about 1e-16; this is stricter).
_MAX_CONDITION = 1e12


def _singular_mode_b(cov: np.ndarray, structure: _Structure) -> np.ndarray:
    """(b, mode-B blocks): where a block's covariance matrix is (numerically) singular."""
    flags = [~(np.linalg.cond(cov[:, rows[:, None], rows]) < _MAX_CONDITION) for _, rows in structure.mode_b]
    return np.stack(flags, axis=1) if flags else np.zeros((cov.shape[0], 0), dtype=bool)


def _estimate_stack(cov: np.ndarray, structure: _Structure, scheme: str, tol: float,
                    max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_estimate_weights` on a stack; if one matrix is singular, each on its own.

    A batched solve fails as a whole when one resample has a singular
    mode-B block or collinear predecessor scores; that resample alone is
    then marked as not converged.
    """
    try:
        weights, _, converged = _estimate_weights(cov, structure, scheme, tol, max_iter)
        return weights, converged
    except np.linalg.LinAlgError:
        weights = np.full((cov.shape[0], *structure.membership.shape), np.nan)
        converged = np.zeros(cov.shape[0], dtype=bool)
        for b in range(cov.shape[0]):
            try:
                w, _, ok = _estimate_weights(cov[b:b + 1], structure, scheme, tol, max_iter)
            except np.linalg.LinAlgError:
                continue
            weights[b], converged[b] = w[0], ok[0]
        return weights, converged


def _estimates(cov: np.ndarray, weights: np.ndarray, structure: _Structure) -> dict[str, np.ndarray]:
    """Paths, R², loadings and score correlations from covariances and weights (stacked)."""
    cov_items_scores = cov @ weights
    score_cor = np.swapaxes(weights, 1, 2) @ cov_items_scores
    item_sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    loadings = np.take_along_axis(cov_items_scores, structure.block_of_item[None, :, None], axis=2)[..., 0] / item_sd
    coefs, r2 = [], []
    for target, preds in structure.predecessors:
        beta = np.linalg.solve(score_cor[:, preds[:, None], preds], score_cor[:, preds, target][..., None])[..., 0]
        coefs.append(beta)
        r2.append(np.einsum("bi,bi->b", beta, score_cor[:, preds, target]))
    weight_of_item = np.take_along_axis(weights, structure.block_of_item[None, :, None], axis=2)[..., 0]
    return {"paths": np.concatenate(coefs, axis=1), "r2": np.stack(r2, axis=1), "loadings": loadings,
            "weights": weight_of_item, "score_cor": score_cor}


def _path_order(model: PLSModel) -> list[tuple[str, str]]:
    """Paths in the order :func:`_estimates` returns their coefficients."""
    return [(s, t) for t in model.endogenous for s in model.predecessors(t)]


def _check_args(scheme: str, tol: float, max_iter: int) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if not tol > 0:
        raise ValueError(f"tol must be positive; got {tol}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter}")


def _item_matrix(data: pd.DataFrame, model: PLSModel) -> np.ndarray:
    if not isinstance(model, PLSModel):
        raise TypeError("model must be a PLSModel")
    missing = [i for i in model.items if i not in data.columns]
    if missing:
        raise ValueError(f"item column(s) not in the data: {', '.join(missing)}")
    # The data as they are when they hold exactly the items in order (csi_model's
    # complete cases): selecting the columns would copy the whole item matrix.
    items = data if list(data.columns) == list(model.items) else data[model.items]
    not_numeric = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if not_numeric:
        raise ValueError(f"item column(s) not numeric: {', '.join(not_numeric)}")
    # float32 answers (the job's compact frame) stay float32: every pass over the rows
    # reads them a block at a time into float64 (_column_means, _centred_blocks), where a
    # float64 copy of the whole matrix would be 0.5 GB at a million respondents.
    single = items.dtypes.iloc[0] if len(set(items.dtypes)) == 1 else None
    values = items.to_numpy(dtype=np.float32 if single == np.float32 else float)
    if len(values) < 3:
        raise ValueError(f"PLS needs at least 3 cases; got {len(values)}")
    # Per-column reductions, not masks of the whole matrix (a byte per answer, 58 MB for
    # 58 items at a million rows): a column's minimum is NaN exactly when it has a NaN,
    # and it has no variance exactly when its minimum is its maximum.
    lowest = values.min(axis=0)
    holes = [c for c, bad in zip(model.items, np.isnan(lowest)) if bad]
    if holes:
        raise ValueError(f"missing values in {', '.join(holes)}: drop or impute them first")
    constant = [c for c, low, high in zip(model.items, lowest, values.max(axis=0)) if low == high]
    if constant:
        raise ValueError(f"item(s) without variance: {', '.join(constant)}")
    return values


def fit_pls(data: pd.DataFrame, model: PLSModel, *, scheme: str = "path", standardize: bool = True,
            tol: float = 1e-7, max_iter: int = 300) -> PLSResult:
    r"""Estimate a PLS path model with Lohmöller's algorithm.

    The items ``X`` (n x p) are centred and, with ``standardize=True``,
    scaled to unit variance (SmartPLS, semPLS, seminr); with
    ``standardize=False`` they stay in their own units, as the ACSI and ECSI
    indices are estimated (R plspm ``scaled = FALSE``). Starting from unit
    weights, repeat until the outer weights change by less than ``tol``
    (sum of absolute changes, as seminr):

    1. outer estimate ``Y_j = X_j w_j``, scaled to variance 1;
    2. inner estimate ``Z_j = sum_l e_lj Y_l`` over the constructs ``l``
       adjacent to ``j``, with inner weights ``e_lj`` =
       ``sign(cor(Y_l, Y_j))`` (centroid), ``cor(Y_l, Y_j)`` (factorial), or
       (path) ``cor(Y_l, Y_j)`` for a successor ``l`` and, for the
       predecessors, their coefficients in the regression of ``Y_j`` on all
       predecessors of ``j``;
    3. new outer weights: mode A ``w_j = cov(X_j, Z_j)``, mode B
       ``w_j = (X_j'X_j)^{-1} X_j'Z_j`` (the regression of ``Z_j`` on its block).

    Then path coefficients are the OLS coefficients of each endogenous
    score on its predecessors' scores, :math:`\beta = R_{pp}^{-1} r_{py}`,
    :math:`R^2 = \beta' r_{py}` and
    :math:`R^2_{adj} = 1 - (1 - R^2)(n - 1)/(n - q - 1)` with ``q``
    predecessors; loadings are item-score correlations. All of it depends on
    the data only through the item covariance matrix ``S``
    (``cov(Y) = W'SW``, ``cov(X, Z) = S W E``), on which it is computed.
    Scores are normalised to sample variance 1 (n - 1, as SmartPLS, semPLS
    and seminr); R plspm normalises to ``sum Y² = n``, so its weights are
    ours times ``sqrt(n / (n - 1))``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per case; the model's item columns must be numeric and
        complete (drop or impute missing answers first).
    model : PLSModel
        Constructs, outer modes and paths.
    scheme : {"path", "centroid", "factorial"}, default "path"
        Inner weighting scheme.
    standardize : bool, default True
        Scale the items to unit variance; False keeps them centred in their
        own units (then ``outer["weight"]`` equals ``raw_weight``).
    tol : float, default 1e-7
        Convergence tolerance on ``sum |w_new - w_old|`` (seminr's default
        stop criterion ``10^-7``).
    max_iter : int, default 300
        Most iterations before :class:`PLSConvergenceError`.

    Returns
    -------
    PLSResult

    Raises
    ------
    ValueError
        Missing or non-numeric item columns, missing values, constant items,
        a bad ``scheme``/``tol``/``max_iter``, a singular mode-B block.
    PLSConvergenceError
        The weights did not converge within ``max_iter`` iterations.

    References
    ----------
    Lohmöller, J.-B. (1989). Latent Variable Path Modeling with Partial Least
    Squares. Heidelberg: Physica.
    Wold, H. (1982). Soft modeling: the basic design and some extensions. In
    K. G. Jöreskog & H. Wold (eds.), Systems under Indirect Observation,
    part II, 1-54. Amsterdam: North-Holland.
    Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M. & Lauro, C. (2005).
    PLS path modeling. Computational Statistics & Data Analysis 48(1),
    159-205 (algorithm in section 2).

    Examples
    --------
    The ECSI model on the mobile-phone data (seminr's demo model; SmartPLS,
    semPLS and seminr report satisfaction -> loyalty = 0.4855):

    >>> from pathlib import Path
    >>> import pandas as pd
    >>> import analysis
    >>> mobi = pd.read_csv(Path(analysis.__file__).parents[1] / "tests/data/mobi_ecsi.csv", index_col=0)
    >>> model = PLSModel(
    ...     {"Image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    ...      "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    ...      "Quality": ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"],
    ...      "Value": ["PERV1", "PERV2"], "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    ...      "Complaints": ["CUSCO"], "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]},
    ...     [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
    ...      ("Expectation", "Quality"), ("Expectation", "Value"), ("Expectation", "Satisfaction"),
    ...      ("Quality", "Value"), ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
    ...      ("Satisfaction", "Complaints"), ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")])
    >>> fit = fit_pls(mobi, model)
    >>> fit.paths.set_index(["source", "target"])["estimate"].round(4).loc["Satisfaction"]
    target
    Complaints    0.5281
    Loyalty       0.4855
    Name: estimate, dtype: float64
    >>> round(float(fit.r2.loc["Satisfaction", "r2"]), 4)
    0.6811
    """
    _check_args(scheme, tol, max_iter)
    values = _item_matrix(data, model)
    n = len(values)
    means = _column_means(values)
    # One cross-product (BLAS) gives the variances and the covariance matrix;
    # the standard deviations are not a separate pass over the rows. Centred a
    # block of rows at a time: a centred copy of the whole item matrix is half a
    # GB at a million respondents (one block, and the same numbers, below ROW_BLOCK rows).
    cross = np.zeros((values.shape[1], values.shape[1]))
    for _, centred in _centred_blocks(values, means):
        cross += centred.T @ centred
    cross /= n - 1
    sds = np.sqrt(np.diag(cross))
    if standardize:
        cov = (cross / np.outer(sds, sds))[None]
    else:
        cov = cross[None]
    structure = _Structure.of(model)
    singular = [model.names[j] for (j, _), bad in zip(structure.mode_b, _singular_mode_b(cov, structure)[0]) if bad]
    if singular:
        raise ValueError(f"mode-B block(s) {', '.join(singular)}: items are (nearly) exact linear "
                         "combinations of each other, the regression weights are undefined")
    try:
        weights, iterations, converged = _estimate_weights(cov, structure, scheme, tol, max_iter)
    except np.linalg.LinAlgError as error:
        raise ValueError(f"PLS estimation failed: singular matrix ({error}); check for constructs "
                         "whose scores are exact combinations of others") from error
    if not converged[0]:
        raise PLSConvergenceError(f"PLS ({scheme} scheme) did not converge in {max_iter} iterations "
                                  f"(tolerance {tol:g}); raise max_iter or check the model")
    est = _estimates(cov, weights, structure)
    scores = np.empty((n, len(model.names)))
    for start, analysed in _centred_blocks(values, means, sds if standardize else None):
        scores[start:start + len(analysed)] = analysed @ weights[0]
    return _result(data.index, scores, weights[0], est, model, scheme, standardize, means, sds,
                   int(iterations[0]), n, cross)


#: Rows of the item matrix centred at a time (:func:`_centred_blocks`).
ROW_BLOCK = 65_536


def _column_means(values: np.ndarray) -> np.ndarray:
    """Column means in float64, summed ``ROW_BLOCK`` rows at a time: the same numbers for
    float32 and float64 items (answer codes are sums exact in float64 in any order), without
    a float64 copy of a float32 matrix."""
    total = np.zeros(values.shape[1])
    for start in range(0, len(values), ROW_BLOCK):
        total += values[start:start + ROW_BLOCK].sum(axis=0, dtype=np.float64)
    return total / len(values)


def _centred_blocks(values: np.ndarray, means: np.ndarray, sds: np.ndarray | None = None):
    """``(first row, block)``: the item matrix centred (and divided by ``sds`` when given)
    ``ROW_BLOCK`` rows at a time, each block a new array."""
    for start in range(0, len(values), ROW_BLOCK):
        block = values[start:start + ROW_BLOCK] - means
        yield start, block if sds is None else block / sds


def _result(index, scores, weights, est, model, scheme, standardize, means, sds, iterations, n,
            item_covariance=None):
    names, items = model.names, model.items
    order = _path_order(model)
    paths = pd.DataFrame({"source": [s for s, _ in order], "target": [t for _, t in order],
                          "estimate": est["paths"][0]})
    # report the paths in the order the model lists them
    paths = paths.set_index(["source", "target"]).loc[list(model.paths)].reset_index()

    item_weight = est["weights"][0]
    raw_weight = item_weight / sds if standardize else item_weight
    construct_of = [c for c, block in model.constructs.items() for _ in block]
    raw_sums = pd.Series(raw_weight).groupby(construct_of).transform("sum").to_numpy()
    outer = pd.DataFrame({"construct": construct_of, "item": items,
                          "mode": [model.modes[c] for c in construct_of],
                          "weight": item_weight, "raw_weight": raw_weight,
                          "rescaled_weight": raw_weight / raw_sums,
                          "loading": est["loadings"][0], "communality": est["loadings"][0] ** 2})

    endogenous = model.endogenous
    q = np.array([len(model.predecessors(c)) for c in endogenous])
    r2 = est["r2"][0]
    r2 = pd.DataFrame({"r2": r2, "r2_adj": 1 - (1 - r2) * (n - 1) / (n - q - 1)},
                      index=pd.Index(endogenous, name="construct"))

    scores = pd.DataFrame(scores, index=index, columns=names, copy=False)
    score_cor = pd.DataFrame(est["score_cor"][0], index=names, columns=names)
    return PLSResult(paths=paths, outer=outer, r2=r2, effects=total_effects(paths, names), scores=scores,
                     score_correlations=score_cor, item_means=pd.Series(means, index=items),
                     item_sds=pd.Series(sds, index=items), iterations=iterations, n=n, model=model,
                     scheme=scheme, standardize=standardize,
                     item_covariance=None if item_covariance is None else
                     pd.DataFrame(item_covariance, index=items, columns=items))


def total_effects(paths: pd.DataFrame, constructs: Sequence[str]) -> pd.DataFrame:
    """Direct, indirect and total effects of a recursive path model.

    With ``B`` the matrix of path coefficients (``B[s, t]`` the path
    s -> t), the total effects are ``B + B² + ... = (I - B)^{-1} - I`` and
    the indirect effects are total minus direct (Alwin & Hauser 1975).

    Parameters
    ----------
    paths : pandas.DataFrame
        Columns source, target, estimate.
    constructs : sequence of str
        All construct names (order of the output).

    Returns
    -------
    pandas.DataFrame
        source, target, direct, indirect, total for every pair joined by a
        chain of paths.

    References
    ----------
    Alwin, D. F. & Hauser, R. M. (1975). The decomposition of effects in
    path analysis. American Sociological Review 40(1), 37-47.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"source": ["a", "b", "a"], "target": ["b", "c", "c"],
    ...                       "estimate": [0.5, 0.4, 0.1]})
    >>> total_effects(paths, ["a", "b", "c"]).round(3).to_dict("records")[1]
    {'source': 'a', 'target': 'c', 'direct': 0.1, 'indirect': 0.2, 'total': 0.3}
    """
    names = list(constructs)
    position = {c: i for i, c in enumerate(names)}
    direct = np.zeros((len(names), len(names)))
    for source, target, estimate in paths[["source", "target", "estimate"]].itertuples(index=False):
        direct[position[source], position[target]] = estimate
    total = np.linalg.inv(np.eye(len(names)) - direct) - np.eye(len(names))
    reach = np.linalg.matrix_power(np.eye(len(names)) + (direct != 0), len(names)) > 0
    rows = [{"source": s, "target": t, "direct": direct[i, j], "indirect": total[i, j] - direct[i, j],
             "total": total[i, j]}
            for i, s in enumerate(names) for j, t in enumerate(names) if i != j and reach[i, j]]
    return pd.DataFrame(rows, columns=["source", "target", "direct", "indirect", "total"])


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------

def _resample_moments(values: np.ndarray, centre: np.ndarray, counts: np.ndarray, chunk: int = 256):
    """Means (of ``values - centre``) and covariance matrices (n - 1) of every resample, from row counts.

    ``counts[b, i]`` is how often row i is drawn in resample b. The sums and
    second moments of all resamples are matrix products ``counts @ x_i`` and
    ``counts @ (x_i x_i')`` over the upper triangle of ``x_i x_i'`` (the rest
    is its mirror), ``x_i`` the row centred at ``centre``, done in row chunks:
    neither the centred matrix nor the products of all rows are held (at a
    million rows of 58 items each would be 0.5 GB or more), and each chunk's
    products serve every resample at once. Small chunks stay in the CPU
    cache: 256 rows ran 100 resamples of 200k rows x 58 items in 1.9 s of
    CPU, 4096 rows in 3.5 s.
    """
    n, p = values.shape
    upper_i, upper_j = np.triu_indices(p)
    sums = np.zeros((counts.shape[0], p))
    second = np.zeros((counts.shape[0], len(upper_i)))
    for start in range(0, n, chunk):
        block = values[start:start + chunk] - centre
        weights = counts[:, start:start + chunk].astype(float)
        sums += weights @ block
        second += weights @ (block[:, upper_i] * block[:, upper_j])
    means = sums / n
    moments = np.empty((counts.shape[0], p, p))
    moments[:, upper_i, upper_j] = second
    moments[:, upper_j, upper_i] = second
    cov = (moments - n * means[:, :, None] * means[:, None, :]) / (n - 1)
    return means, cov


#: Row positions drawn at a time by :func:`_resample_counts` (32 MB of int64 each for the
#: draws, their offsets and their bincount).
RESAMPLE_BLOCK = 2 ** 22


def _resample_counts(n: int, n_boot: int, seed: int | None, resamples: np.ndarray | None) -> np.ndarray:
    """``counts[b, i]``: how often row i is drawn in resample b, as small unsigned integers.

    Drawn a block of resamples at a time: the draws of
    ``numpy.random.default_rng(seed).integers(0, n, (n_boot, n))`` come from
    the generator in row-major order, so ``k`` rows at a time from one
    generator are the same resamples as one draw of them all. All draws at
    once held four ``n_boot x n`` arrays of 8-byte numbers (3 GB for 100
    resamples of a million rows); the counts are held as ``uint8`` (100 MB),
    widened only if a row is drawn more than 255 times in a resample.
    """
    rng = np.random.default_rng(seed) if resamples is None else None
    per_block = max(1, RESAMPLE_BLOCK // n)
    counts = np.empty((n_boot, n), dtype=np.uint8)
    for start in range(0, n_boot, per_block):
        k = min(per_block, n_boot - start)
        drawn = rng.integers(0, n, size=(k, n)) if rng is not None else resamples[start:start + k]
        # row counts of each resample, from one flat bincount (no Python loop)
        offsets = (drawn + n * np.arange(k)[:, None]).ravel()
        del drawn
        block = np.bincount(offsets, minlength=n * k).reshape(k, n)
        del offsets
        if block.max() > np.iinfo(counts.dtype).max:
            counts = counts.astype(np.min_scalar_type(n))
        counts[start:start + k] = block
    return counts


def bootstrap_pls(data: pd.DataFrame, model: PLSModel, *, n_boot: int = 500, seed: int | None = None,
                  scheme: str = "path", standardize: bool = True, ci: float = 0.95, tol: float = 1e-7,
                  max_iter: int = 300, fit: PLSResult | None = None,
                  resamples: np.ndarray | None = None) -> PLSBootstrap:
    """Nonparametric bootstrap of a PLS path model, all resamples at once.

    Resample ``b`` draws n cases with replacement
    (``numpy.random.default_rng(seed).integers(0, n, (n_boot, n))``) and is
    re-estimated exactly as :func:`fit_pls` (items re-standardized within the
    resample, same scheme, tolerance and start). Because the algorithm only
    needs the item covariance matrix, every resample's matrix comes from one
    matrix product of the row counts with the item cross-products, and the
    iteration runs on the stack of matrices (Efron & Tibshirani 1993,
    ch. 6 and 13; Chin 1998 for bootstrapping PLS paths).

    SE = standard deviation (n - 1) of the resample estimates; the interval
    is the percentile interval (quantiles, linear interpolation as R's
    type 7); t = estimate / SE. Resamples that do not converge, have an
    item without variance or a singular mode-B block are left out and
    counted. As in seminr, no sign-change correction is applied (every
    resample starts from unit weights, so scores keep the items' direction).

    Parameters
    ----------
    data, model, scheme, standardize, tol, max_iter
        As :func:`fit_pls`.
    n_boot : int, default 500
        Resamples (ignored when ``resamples`` is given).
    seed : int, optional
        Seed of the resampling.
    ci : float, default 0.95
        Level of the percentile intervals.
    fit : PLSResult, optional
        The full-sample fit, if already computed (else it is fitted here).
    resamples : array of int (n_boot, n), optional
        Row positions of each resample, e.g. R's to reproduce its bootstrap.

    Returns
    -------
    PLSBootstrap

    Raises
    ------
    ValueError
        Bad arguments, or fewer than half the resamples usable.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
    Chapman & Hall.
    Chin, W. W. (1998). The partial least squares approach to structural
    equation modeling. In G. A. Marcoulides (ed.), Modern Methods for
    Business Research, 295-336. Erlbaum.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> import analysis
    >>> mobi = pd.read_csv(Path(analysis.__file__).parents[1] / "tests/data/mobi_ecsi.csv", index_col=0)
    >>> model = PLSModel({"Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    ...                   "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}, [("Satisfaction", "Loyalty")])
    >>> boot = bootstrap_pls(mobi, model, n_boot=200, seed=1)
    >>> row = boot.paths.iloc[0]
    >>> bool(row["ci_low"] < row["estimate"] < row["ci_high"]), boot.n_failed
    (True, 0)
    """
    _check_args(scheme, tol, max_iter)
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1; got {ci}")
    values = _item_matrix(data, model)
    n = len(values)
    if resamples is not None:
        resamples = np.asarray(resamples)
        if resamples.ndim != 2 or resamples.shape[1] != n or not np.issubdtype(resamples.dtype, np.integer):
            raise ValueError(f"resamples must be an integer array of shape (n_boot, {n})")
        if resamples.min() < 0 or resamples.max() >= n:
            raise ValueError(f"resamples must hold row positions 0..{n - 1}")
        seed = None
        n_boot = len(resamples)
    else:
        if int(n_boot) != n_boot or n_boot < 2:
            raise ValueError(f"n_boot must be an integer of at least 2; got {n_boot}")
        n_boot = int(n_boot)
    if fit is None:
        fit = fit_pls(data, model, scheme=scheme, standardize=standardize, tol=tol, max_iter=max_iter)

    means = _column_means(values)
    boot_means, cov = _resample_moments(values, means, _resample_counts(n, n_boot, seed, resamples))
    boot_sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    usable = (boot_sd > 0).all(axis=1)
    cov, boot_sd, boot_means = cov[usable], boot_sd[usable], boot_means[usable]
    if standardize:
        cov = cov / (boot_sd[:, :, None] * boot_sd[:, None, :])
    structure = _Structure.of(model)
    usable = ~_singular_mode_b(cov, structure).any(axis=1)
    cov, boot_sd, boot_means = cov[usable], boot_sd[usable], boot_means[usable]
    with np.errstate(invalid="ignore", divide="ignore"):
        weights, converged = _estimate_stack(cov, structure, scheme, tol, max_iter)
    cov, weights, boot_sd, boot_means = cov[converged], weights[converged], boot_sd[converged], boot_means[converged]
    n_ok = int(converged.sum())
    if n_ok < max(2, n_boot // 2):
        raise ValueError(f"bootstrap failed: only {n_ok} of {n_boot} resamples usable")
    est = _estimates(cov, weights, structure)

    items = model.items
    order = _path_order(model)
    labels = [f"{s} -> {t}" for s, t in order]
    raw = est["weights"] / boot_sd if standardize else est["weights"]
    draws = {"paths": pd.DataFrame(est["paths"], columns=labels),
             "r2": pd.DataFrame(est["r2"], columns=model.endogenous),
             "loadings": pd.DataFrame(est["loadings"], columns=items),
             "weights": pd.DataFrame(est["weights"], columns=items),
             "raw_weights": pd.DataFrame(raw, columns=items),
             "item_means": pd.DataFrame(boot_means + means, columns=items)}
    boot = PLSBootstrap(paths=pd.DataFrame(), draws=draws, n_boot=n_boot, n_failed=n_boot - n_ok,
                        seed=seed, ci=ci)
    estimate = pd.Series(fit.paths["estimate"].to_numpy(),
                         index=[f"{s} -> {t}" for s, t in fit.paths[["source", "target"]].itertuples(index=False)])
    table = boot.summary("paths", estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["t"] = table["estimate"] / table["se"]
    table.insert(0, "target", fit.paths["target"].to_numpy())
    table.insert(0, "source", fit.paths["source"].to_numpy())
    boot.paths = table.reset_index(drop=True)
    return boot
