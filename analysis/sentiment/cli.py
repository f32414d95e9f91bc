"""``python -m analysis sentiment FILE.csv --text-column text [--lang-column lang] -o OUT.csv``

Writes every input row and column unchanged plus ``score``, ``label`` and
``emotions`` (UTF-8 with a byte-order mark, so spreadsheet programs show
Chinese correctly).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    """Register the ``sentiment`` subcommand on an argparse subparsers object."""
    parser = sub.add_parser("sentiment", help="polarity score, label and emotions of free-text comments")
    parser.add_argument("csv", type=Path, help="CSV file, one comment per row")
    parser.add_argument("--text-column", required=True, help="column holding the comment")
    parser.add_argument("--lang-column", help="column with zh/en tags (empty cells: detected)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write")


def run(args: argparse.Namespace) -> int:
    """Run the ``sentiment`` subcommand; returns the exit status."""
    import pandas as pd

    from .engine import analyse_comments
    try:
        # Every cell as text, empty stays empty: the rows go out as they came in.
        frame = pd.read_csv(args.csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        print(f"error: cannot read {args.csv}: {error}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    try:
        result = analyse_comments(frame, args.text_column, args.lang_column)
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    result.to_csv(args.output, index=False, encoding="utf-8-sig")
    counts = result["label"].value_counts().to_dict()
    print(f"{len(result)} comment(s) in {seconds:.2f} s: "
          + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("negative", "neutral", "positive"))
          + f", {int(result['label'].isna().sum())} empty; written to {args.output}")
    return 0
