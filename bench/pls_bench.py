"""Benchmark: PLS path model fit and bootstrap (analysis.pls, analysis.csi).

Two workloads:

* the ECSI model of the mobile-phone data (24 items, 7 constructs, 12
  paths) on n cases drawn with replacement from its 250 respondents: one
  :func:`analysis.pls.fit_pls` and a 500-resample :func:`analysis.pls.bootstrap_pls`;
* :func:`analysis.csi.csi_model` (unscaled items, index and its bootstrap)
  on a synthetic response frame of the shipped instruments
  (:mod:`analysis.synthetic`), as the report runs it.

The target of issue 10 is 500 resamples at n = 10 000 in under 10 s.

Run: ``python -m bench pls [--sizes 10000 100000] [--resamples 500]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000)
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
MOBI = DATA / "mobi_ecsi.csv"
ECSI_MODEL = DATA / "pls_models" / "ecsi_mobi.yaml"


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure_ecsi(n: int, resamples: int) -> dict:
    """Fit and bootstrap seconds of the ECSI model on n resampled mobi cases."""
    from analysis.pls import bootstrap_pls, fit_pls
    from analysis.pls_cli import read_model_file

    mobi = pd.read_csv(MOBI, index_col=0)
    data = mobi.iloc[np.random.default_rng(1).integers(0, len(mobi), n)].reset_index(drop=True)
    model = read_model_file(ECSI_MODEL)
    fit_s = _seconds(lambda: fit_pls(data, model))
    boot_s = _seconds(lambda: bootstrap_pls(data, model, n_boot=resamples, seed=1))
    return {"n": n, "fit_s": fit_s, "boot_s": boot_s}


def measure_csi(n: int, resamples: int) -> dict:
    """csi_model seconds (fit, then fit + bootstrap) on a synthetic frame of n responses."""
    from analysis.csi import csi_model
    from analysis.instruments import compose_codebook, load_instruments
    from analysis.report import _rating_ranges, default_csi_blocks
    from analysis.synthetic import synthetic_frame

    library = load_instruments()
    codebook = compose_codebook([(library[key], None) for key in ("servqual", "relationship", "overall")])
    frame = synthetic_frame(codebook, n, seed=1)
    blocks = default_csi_blocks(codebook)
    scale = _rating_ranges(codebook, [c for cols in blocks.values() for c in cols])
    fit_s = _seconds(lambda: csi_model(frame, blocks, scale, n_boot=0))
    boot_s = _seconds(lambda: csi_model(frame, blocks, scale, n_boot=resamples, seed=1))
    return {"n": n, "fit_s": fit_s, "boot_s": boot_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pls")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--resamples", type=int, default=500)
    args = parser.parse_args(argv)
    print(f"{'workload':<22} {'n':>9} {'1 fit s':>8} {f'{args.resamples} resamples s':>16}")
    for n in args.sizes:
        for name, measure in (("ECSI model (mobi)", measure_ecsi), ("csi_model (synthetic)", measure_csi)):
            row = measure(n, args.resamples)
            print(f"{name:<22} {row['n']:>9} {row['fit_s']:>8.3f} {row['boot_s']:>16.2f}")
    return 0
