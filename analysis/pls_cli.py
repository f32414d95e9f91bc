"""``python -m analysis pls data.csv --model model.yaml``: a PLS path model of one's own.

The model file is YAML::

    constructs:            # construct -> its item columns in the CSV
      Satisfaction: [CUSA1, CUSA2, CUSA3]
      Loyalty: [CUSL1, CUSL2, CUSL3]
    modes:                 # optional, A (default) or B per construct
      Satisfaction: A
    paths:                 # [from, to] pairs
      - [Satisfaction, Loyalty]

Every problem with the file is reported as ``model.yaml: reason`` and every
problem with the data as ``data.csv: reason``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .pls import SCHEMES, PLSBootstrap, PLSModel, PLSModelError, PLSResult, bootstrap_pls, fit_pls

__all__ = ["ModelFileError", "read_model_file", "add_pls_parser", "run_pls"]

_KEYS = ("constructs", "modes", "paths")


class ModelFileError(ValueError):
    """A model or data file that cannot be used; the message starts with the file name."""


def read_model_file(path: Path) -> PLSModel:
    """The :class:`~analysis.pls.PLSModel` of a model YAML file.

    Raises
    ------
    ModelFileError
        ``path: reason`` for an unreadable file, invalid YAML, a wrong shape
        (constructs not a mapping of lists of item names, a path that is not
        a ``[from, to]`` pair, unknown keys) or a model PLS cannot estimate
        (undefined construct in a path, cycle, item in two blocks ...).
    """
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ModelFileError(f"{path}: not valid YAML{where}") from error

    def fail(reason: str) -> ModelFileError:
        return ModelFileError(f"{path}: {reason}")

    if not isinstance(spec, dict):
        raise fail("expected a mapping with constructs and paths")
    unknown = [str(k) for k in spec if k not in _KEYS]
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)} (expected {', '.join(_KEYS)})")
    constructs = spec.get("constructs")
    if not isinstance(constructs, dict) or not constructs:
        raise fail("constructs must map each construct name to its list of item columns")
    for name, items in constructs.items():
        if isinstance(items, str):
            items = constructs[name] = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise fail(f"construct {name}: items must be a list of column names")
    paths = spec.get("paths")
    if not isinstance(paths, list) or not paths:
        raise fail("paths must be a list of [from, to] pairs")
    for number, pair in enumerate(paths, start=1):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(c, str) for c in pair)):
            raise fail(f"path {number} must be a [from, to] pair of construct names; got {pair!r}")
    modes = spec.get("modes") or {}
    if not isinstance(modes, dict):
        raise fail("modes must map construct names to A or B")
    try:
        return PLSModel({str(k): v for k, v in constructs.items()}, [tuple(p) for p in paths],
                        {str(k): str(v) for k, v in modes.items()})
    except PLSModelError as error:
        raise fail(str(error)) from error


def read_model_data(csv_path: Path, model: PLSModel, model_path: Path) -> tuple[pd.DataFrame, int]:
    """The model's item columns of a CSV as numbers, incomplete rows dropped; and how many were dropped."""
    try:
        frame = pd.read_csv(csv_path, sep=None, engine="python", encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{csv_path}: cannot read as CSV ({error})") from error
    frame.columns = [str(c).strip() for c in frame.columns]
    for construct, items in model.constructs.items():
        absent = [i for i in items if i not in frame.columns]
        if absent:
            raise ModelFileError(f"{model_path}: item(s) {', '.join(absent)} of construct {construct} "
                                 f"are not columns of {csv_path}")
    data = frame[model.items]
    for column in model.items:
        numbers = pd.to_numeric(data[column], errors="coerce")
        bad = numbers.isna() & data[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ModelFileError(f"{csv_path}: line {row + 2}, column {column}: "
                                 f"not a number ({data[column].iloc[row]!r})")
        data = data.assign(**{column: numbers})
    complete = data.dropna()
    return complete.astype(float), len(data) - len(complete)


def add_pls_parser(subparsers) -> None:
    """The ``pls`` subcommand of ``python -m analysis``."""
    pls = subparsers.add_parser("pls", help="estimate a PLS path model of your own on a CSV",
                                description="PLS path model (Lohmöller's algorithm, standardized items) "
                                            "of a model YAML: constructs, optional modes, paths.")
    pls.add_argument("csv", type=Path, help="data, one row per case, columns named as the model's items")
    pls.add_argument("--model", type=Path, required=True,
                     help="YAML: constructs {Name: [item, ...]}, optional modes {Name: A|B}, paths [[from, to], ...]")
    pls.add_argument("--scheme", choices=SCHEMES, default="path", help="inner weighting scheme (default path)")
    pls.add_argument("--bootstrap", type=int, default=0, metavar="N",
                     help="bootstrap resamples for SE and percentile CI of the paths (default 0: none)")
    pls.add_argument("--seed", type=int, default=None, help="seed of the bootstrap")
    pls.add_argument("--format", choices=("text", "json"), default="text")


def run_pls(args: argparse.Namespace) -> int:
    """Run the ``pls`` subcommand; 0 on success, 1 with ``file: reason`` on stderr."""
    if args.bootstrap and args.bootstrap < 2:
        print("error: --bootstrap must be 0 or at least 2", file=sys.stderr)
        return 1
    try:
        model = read_model_file(args.model)
        data, dropped = read_model_data(args.csv, model, args.model)
        fit = fit_pls(data, model, scheme=args.scheme)
        boot = bootstrap_pls(data, model, n_boot=args.bootstrap, seed=args.seed, scheme=args.scheme,
                             fit=fit) if args.bootstrap else None
    except ModelFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # data PLS cannot use: constant item, no convergence, too few rows
        print(f"error: {args.csv}: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        json.dump(pls_json(fit, boot, dropped), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(pls_text(fit, boot, dropped))
    return 0


def _records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts with plain Python numbers (NaN as null)."""
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
             for k, v in row.items()} for row in table.to_dict("records")]


def _path_table(fit: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    if boot is None:
        return fit.paths
    return boot.paths[["source", "target", "estimate", "se", "ci_low", "ci_high", "t"]]


def pls_json(fit: PLSResult, boot: PLSBootstrap | None, dropped: int) -> dict:
    """JSON document: paths, outer, r2, and how the model was estimated."""
    outer = fit.outer[["construct", "item", "mode", "weight", "raw_weight", "loading"]]
    out = {"n": fit.n, "n_dropped_incomplete": dropped, "scheme": fit.scheme, "iterations": fit.iterations,
           "paths": _records(_path_table(fit, boot)), "outer": _records(outer),
           "r2": _records(fit.r2.reset_index())}
    if boot is not None:
        out["bootstrap"] = {"n_boot": boot.n_boot, "n_failed": boot.n_failed, "seed": boot.seed,
                            "ci": boot.ci, "interval": "percentile"}
    return out


def pls_text(fit: PLSResult, boot: PLSBootstrap | None, dropped: int) -> str:
    """Plain-text report of the paths, R² and outer model."""
    lines = [f"PLS path model: {fit.n} cases ({dropped} incomplete dropped), {fit.scheme} scheme, "
             f"standardized items, converged in {fit.iterations} iterations.", ""]
    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.float_format", "{:.4f}".format):
        lines += ["Paths", _path_table(fit, boot).to_string(index=False), ""]
        lines += ["R²", fit.r2.to_string(), ""]
        lines += ["Outer model", fit.outer[["construct", "item", "mode", "weight", "loading"]].to_string(index=False),
                  ""]
    if boot is not None:
        lines.append(f"Bootstrap: {boot.n_boot} resamples (seed {boot.seed}), {boot.n_failed} left out; "
                     f"{boot.ci:.0%} percentile intervals; t = estimate / SE.")
    lines.append("Method: Lohmöller (1989); Tenenhaus et al. (2005).")
    return "\n".join(lines) + "\n"
