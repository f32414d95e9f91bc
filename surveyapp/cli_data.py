"""``flask export`` and ``flask import-responses``: the data jobs of the admin pages, scripted."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .extensions import db
from .models import Survey
from .services import audit
from .services.exports import EXPORT_FORMATS, ExportError, export_to_file
from .services.filters import FilterError, describe_filter, parse_filters
from .services.imports import ImportRejected, import_responses, max_import_bytes
from .services.responses import ResponseFilter


def register_data_commands(app: Flask) -> None:
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)


def filters_from_options(survey: Survey, segments, start, end, versions,
                         include_partial: bool = False) -> ResponseFilter:
    """The ResponseFilter of the filter options shared by the data commands.

    The options become the API's query parameters, so one parser
    (:func:`parse_filters`) checks both. Raises FilterError.
    """
    args = MultiDict([("from", start or ""), ("to", end or ""),
                      ("partial", "1" if include_partial else "")])
    for version in versions:
        args.add("version", str(version))
    for text in segments:
        column, sep, codes = text.partition("=")
        if not sep or not column.strip() or not codes.strip():
            raise click.BadParameter(f"{text!r}: write a segment as VARIABLE=CODE[,CODE...], "
                                     "e.g. PR_BRANCH=1,2", param_hint="--segment")
        args.add(f"segment.{column.strip()}", codes)
    return parse_filters(survey, args)


def _survey(slug: str) -> Survey:
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        raise click.ClickException(f"no survey {slug!r}")
    return survey


@click.command("export", help="Export a survey's data: raw responses, codebook or statistics tables.")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="File to write.")
@click.option("--segment", "segments", multiple=True, metavar="VARIABLE=CODE[,CODE]",
              help="Only responses with these codes, e.g. PR_BRANCH=1,2 (repeatable).")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="Submitted on or after this day (UTC).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Submitted on or before this day (UTC).")
@click.option("--version", "versions", multiple=True, help="Survey version number (repeatable).")
@click.option("--include-partial", is_flag=True, help="Also export unfinished responses.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the labels in SPSS/Stata files.")
def export_command(slug: str, fmt: str, output: Path, segments: tuple[str, ...], start: str | None,
                   end: str | None, versions: tuple[str, ...], include_partial: bool, lang: str) -> None:
    survey = _survey(slug)
    try:
        filters = filters_from_options(survey, segments, start, end, versions, include_partial)
        export_to_file(survey, fmt, filters, output, lang)
    except (ExportError, FilterError) as error:
        if output.exists():
            output.unlink()
        raise click.ClickException(str(error)) from None
    audit.record(audit.EXPORT, survey=survey, target=str(output)[-255:],
                 detail={"format": fmt, "contact_details": False, "source": "cli",
                         "filter": describe_filter(filters)})
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
    audit.record(audit.IMPORT, survey=survey, target=file.name,
                 detail={"kind": "responses", "imported": result.imported, "source": "cli"})
    versions = ", ".join(f"version {n}: {count}" for n, count in sorted(result.by_version.items()))
    click.echo(f"imported {result.imported} responses into {survey.slug} ({versions})")
