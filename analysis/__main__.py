"""``python -m analysis report responses.csv --instrument servqual [...]``

Runs the same analysis as the web app on responses collected elsewhere:
surveyapp's own CSV export as it is, a Qualtrics or LimeSurvey export (their
metadata columns recognised), or any CSV with columns named by codebook
variable (``SQ01_E``) or renamed with ``--map``. Prints the text report or
JSON (``--format json``), and can write every table to an XLSX file.
A researcher's own KANO features (``--kano-features``) or
expectation/perception items (``--items``) replace the shipped lists.
``python -m analysis pls`` fits a PLS path model (see :mod:`analysis.pls_cli`).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from .common import InsufficientData
from .instruments import DEFAULT_DIR, InstrumentError, compose_codebook, load_instruments
from .io import ResponseFileError, read_responses_csv, write_tables_xlsx
from .pls_cli import add_pls_parser, run_pls
from .report import ReportOptions, analyse_survey
from .sentiment import cli as sentiment_cli


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
    report.add_argument("--source", default="auto",
                        choices=["auto", "surveyapp", "qualtrics", "limesurvey", "plain"],
                        help="the tool that wrote the CSV (default: recognised from its columns)")
    report.add_argument("--kano-features", type=Path,
                        help="CSV code,en,zh: your own KANO features instead of the shipped list")
    report.add_argument("--items", type=Path,
                        help="CSV code,dimension,en,zh: your own expectation/perception items "
                             "(SERVQUAL-style) instead of the shipped 22")
    report.add_argument("--include-partial", action="store_true",
                        help="analyse partial responses too (default: complete ones only, when "
                             "the file says which are complete)")
    report.add_argument("--keep-flagged", action="store_true",
                        help="do not exclude responses flagged by data-quality screening")
    report.add_argument("--bootstrap", type=int, default=2000, help="mediation resamples")
    report.add_argument("--csi-bootstrap", type=int, default=100, help="PLS index resamples (0 or >= 50)")
    report.add_argument("--seed", type=int, default=20261123)
    report.add_argument("--format", choices=["text", "json"], default="text",
                        help="text report or JSON {tables, not_computed, methods}")
    report.add_argument("--tables", type=Path, help="also write every table to this .xlsx file")
    add_pls_parser(sub)
    sentiment_cli.add_parser(sub)
    return parser


def _csv_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a small UTF-8 CSV with the ``required`` columns."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InstrumentError(path, 1, f"missing column(s) {', '.join(missing)}; "
                                           f"expected {','.join(required)}")
        return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
                for row in reader]


def read_kano_features(path: Path) -> list[dict]:
    """A features CSV (``code,en,zh``) as ``[{code, feature: {zh, en}}]``."""
    return [{"code": row["code"], "feature": {"zh": row["zh"], "en": row["en"]}}
            for _, row in _csv_rows(path, ("code", "en", "zh"))]


def read_ep_items(path: Path) -> list[dict]:
    """An items CSV (``code,dimension,en,zh``; optionally ``E_en,E_zh,P_en,P_zh`` for a
    different expectation and perception wording) as the list of
    :meth:`~analysis.instruments.Instrument.with_items`."""
    items = []
    for _, row in _csv_rows(path, ("code", "dimension", "en", "zh")):
        text = {"zh": row["zh"], "en": row["en"]}
        if all(row.get(f"{facet}_{lang}") for facet in ("E", "P") for lang in ("en", "zh")):
            text = {facet: {lang: row[f"{facet}_{lang}"] for lang in ("zh", "en")} for facet in ("E", "P")}
        items.append({"code": row["code"], "dimension": row["dimension"], "text": text})
    return items


def _instruments(args) -> dict:
    library = load_instruments(args.instruments_dir)
    if args.kano_features and "kano" in library:
        library["kano"] = library["kano"].with_features(read_kano_features(args.kano_features))
    if args.items and "servqual" in library:
        library["servqual"] = library["servqual"].with_items(read_ep_items(args.items))
    return library


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "pls":
        return run_pls(args)
    if args.command == "sentiment":
        return sentiment_cli.run(args)
    try:
        library = _instruments(args)
        unknown = [i for i in args.instrument if i not in library]
        if unknown:
            print(f"unknown instrument(s) {', '.join(unknown)}; available: "
                  f"{', '.join(sorted(library))}", file=sys.stderr)
            return 2
        codebook = compose_codebook([(library[i], None) for i in args.instrument])
        mapping = json.loads(args.map.read_text(encoding="utf-8")) if args.map else None
        frame = read_responses_csv(args.csv, mapping=mapping, source=args.source)
    except (InstrumentError, ResponseFileError, OSError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    notes = []
    if "status" in frame and not args.include_partial:
        partial = int((frame["status"] != "complete").sum())
        if partial:
            frame = frame[frame["status"] == "complete"].reset_index(drop=True)
            notes.append(f"note: {partial} partial response(s) left out (--include-partial keeps them)")
    present = [name for name in codebook.names if name in frame.columns]
    if not present:
        print(f"error: {args.csv} has none of the columns of {', '.join(args.instrument)} "
              f"(expected e.g. {', '.join(codebook.names[:4])}; rename columns with --map FILE.json)",
              file=sys.stderr)
        return 1
    # Variables the file lacks are analysed as unanswered, and said so.
    missing = [name for name in codebook.names if name not in frame.columns]
    for name in missing:
        frame[name] = float("nan")
    if missing:
        notes.append(f"note: {len(missing)} variable(s) not in the file, treated as unanswered: "
                     f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    options = ReportOptions(exclude_flagged=not args.keep_flagged, n_boot=args.bootstrap,
                            csi_boot=args.csi_bootstrap, seed=args.seed)
    try:
        result = analyse_survey(frame, codebook, options)
    except InsufficientData as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        payload = result.report_json()
        payload["notes"] = [note.removeprefix("note: ") for note in notes]
        json.dump(payload, sys.stdout, ensure_ascii=False, allow_nan=False, indent=1)
        sys.stdout.write("\n")
    else:
        for note in notes:
            print(note)
        sys.stdout.write(result.text())
    if args.tables:
        write_tables_xlsx(result.tables(posthoc=True), args.tables,
                          about=[("file", str(args.csv)), ("n_total", result.n_total),
                                 ("n_used", result.n_used),
                                 *((f"not computed: {k}", v) for k, v in result.skipped.items())])
        print(f"tables written to {args.tables}", file=sys.stderr if args.format == "json" else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
