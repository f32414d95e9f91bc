"""``flask export`` and ``flask import-responses``: the data jobs of the admin pages, scripted."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import Survey
from .services.exports import EXPORT_FORMATS, ExportError, export_to_file
from .services.imports import ImportRejected, import_responses, max_import_bytes
from .services.responses import ResponseFilter


def register_data_commands(app: Flask) -> None:
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)


def _survey(slug: str) -> Survey:
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    return survey


def parse_segment(text: str) -> tuple[str, list[float]]:
    """``COL=V1,V2`` -> ``("COL", [V1, V2])``; raises ValueError with the reason."""
    column, sep, values = text.partition("=")
    if not sep or not column.strip() or not values.strip():
        raise ValueError(f"{text!r}: write a segment as VARIABLE=CODE[,CODE...], e.g. PR_BRANCH=1,2")
    try:
        codes = [float(value) for value in values.split(",")]
    except ValueError:
        raise ValueError(f"{text!r}: segment codes must be numbers") from None
    return column.strip(), codes


@click.command("export", help="Export a survey's data: raw responses, codebook or statistics tables.")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="File to write.")
@click.option("--segment", "segments", multiple=True, metavar="VARIABLE=CODE[,CODE]",
              help="Only responses with these codes (repeatable).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Submitted on or after this day (UTC).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Submitted on or before this day (UTC).")
@click.option("--version", "versions", type=int, multiple=True, help="Survey version number (repeatable).")
@click.option("--include-partial", is_flag=True, help="Also export unfinished responses.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the labels in SPSS/Stata files.")
def export_command(slug: str, fmt: str, output: Path, segments: tuple[str, ...], start, end,
                   versions: tuple[int, ...], include_partial: bool, lang: str) -> None:
    survey = _survey(slug)
    try:
        parsed = dict(parse_segment(text) for text in segments)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--segment") from None
    filters = ResponseFilter(complete_only=not include_partial,
                             start=start.date() if start else None, end=end.date() if end else None,
                             versions=list(versions), segments=parsed)
    try:
        export_to_file(survey, fmt, filters, output, lang)
    except (ExportError, ValueError) as error:
        if output.exists():
            output.unlink()
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {output} ({os.path.getsize(output):,} bytes)")


@click.command("import-responses",
               help="Import responses from a CSV (UTF-8) or XLSX file: all rows or none.")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(slug: str, file: Path) -> None:
    survey = _survey(slug)
    size, limit = file.stat().st_size, max_import_bytes()
    if size > limit:
        # Refused before reading, so a huge file is never loaded.
        raise click.ClickException(f"{file}: {size:,} bytes; the limit (MAX_IMPORT_BYTES) is {limit:,}")
    try:
        result = import_responses(survey, file.name, file.read_bytes())
    except ImportRejected as error:
        raise click.ClickException(f"{file}: {error}") from None
    versions = ", ".join(f"version {n}: {count}" for n, count in sorted(result.by_version.items()))
    click.echo(f"imported {result.imported} responses into {survey.slug} ({versions})")
