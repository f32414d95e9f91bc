"""``python -m analysis report responses.csv --instrument servqual [...]``

Runs the same analysis as the web app on responses collected elsewhere (a
LimeSurvey or Qualtrics export with columns named by codebook variable, e.g.
``SQ01_E``, or renamed with ``--map``), and prints the text report or writes
every table to an XLSX/CSV folder.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import InsufficientData
from .instruments import DEFAULT_DIR, InstrumentError, compose_codebook, load_instruments
from .io import ResponseFileError, read_responses_csv
from .pls_cli import add_pls_parser, run_pls
from .report import ReportOptions, analyse_survey


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Analyse survey responses from a CSV file.")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="print every analysis of a responses CSV")
    report.add_argument("csv", type=Path, help="responses, one row each, columns by variable name")
    report.add_argument("--instrument", "-i", action="append", required=True,
                        help="instrument id (repeat for several): servqual, kano, relationship, ...")
    report.add_argument("--instruments-dir", type=Path, default=DEFAULT_DIR)
    report.add_argument("--map", type=Path, help="JSON file {header in the CSV: variable name}")
    report.add_argument("--keep-flagged", action="store_true",
                        help="do not exclude responses flagged by data-quality screening")
    report.add_argument("--bootstrap", type=int, default=2000, help="mediation resamples")
    report.add_argument("--csi-bootstrap", type=int, default=100, help="PLS index resamples (0 or >= 50)")
    report.add_argument("--seed", type=int, default=20261123)
    report.add_argument("--tables", type=Path, help="also write every table to this .xlsx file")
    add_pls_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "pls":
        return run_pls(args)
    try:
        library = load_instruments(args.instruments_dir)
        unknown = [i for i in args.instrument if i not in library]
        if unknown:
            print(f"unknown instrument(s) {', '.join(unknown)}; available: "
                  f"{', '.join(sorted(library))}", file=sys.stderr)
            return 2
        codebook = compose_codebook([(library[i], None) for i in args.instrument])
        mapping = json.loads(args.map.read_text(encoding="utf-8")) if args.map else None
        frame = read_responses_csv(args.csv, mapping=mapping)
    except (InstrumentError, ResponseFileError, OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    present = [name for name in codebook.names if name in frame.columns]
    if not present:
        print(f"error: {args.csv} has none of the columns of {', '.join(args.instrument)} "
              f"(expected e.g. {', '.join(codebook.names[:4])})", file=sys.stderr)
        return 1
    # Variables the file lacks are analysed as unanswered, and said so.
    missing = [name for name in codebook.names if name not in frame.columns]
    for name in missing:
        frame[name] = float("nan")
    options = ReportOptions(exclude_flagged=not args.keep_flagged, n_boot=args.bootstrap,
                            csi_boot=args.csi_bootstrap, seed=args.seed)
    try:
        result = analyse_survey(frame, codebook, options)
    except InsufficientData as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if missing:
        print(f"note: {len(missing)} variable(s) not in the file, treated as unanswered: "
              f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    sys.stdout.write(result.text())
    if args.tables:
        write_tables_xlsx(result.tables(), args.tables)
        print(f"tables written to {args.tables}")
    return 0


def write_tables_xlsx(tables, path: Path) -> None:
    """Every table a sheet (names cut to Excel's 31 characters), numbers as numbers."""
    import pandas as pd
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False)


if __name__ == "__main__":
    sys.exit(main())
