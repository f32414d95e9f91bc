"""``flask invite``: personal links from the command line (N tokens or a contacts CSV)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from .extensions import db
from .models import Survey
from .services import audit


@click.command("invite", help="Create personal links for SURVEY (its link name) and write them as CSV.")
@click.argument("slug")
@click.option("--count", "-n", type=click.IntRange(min=1), default=None,
              help="Create this many anonymous links.")
@click.option("--contacts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Contacts CSV (UTF-8; id and/or email, other columns = segment).")
@click.option("--base-url", envvar="SURVEYAPP_BASE_URL", required=True,
              help="Public address of the app, e.g. https://surveys.example.org "
                   "(or SURVEYAPP_BASE_URL).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="Write the links CSV here (default: print it).")
@click.option("--all", "include_all", is_flag=True,
              help="List every invitation of the survey, not only the ones just created.")
def invite(slug: str, count: int | None, contacts: Path | None, base_url: str,
           output: Path | None, include_all: bool) -> None:
    from .services.invitations import (ContactsError, InvitationRow, InvitationStatus,
                                       generate_invitations, import_contacts, invitation_rows,
                                       links_csv, rows_carry_contacts)
    if (count is None) == (contacts is None):
        raise click.UsageError("give either --count N or --contacts FILE")
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--base-url")
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        raise click.ClickException(f"no survey with the link name {slug!r}")
    try:
        if count is not None:
            created = generate_invitations(survey, count)
        else:
            created = import_contacts(survey, contacts.read_bytes())
    except ContactsError as error:
        for problem in error.problems:
            click.echo(f"{contacts}:{problem.line}: "
                       f"{problem.column + ': ' if problem.column else ''}{problem.message}", err=True)
        raise click.ClickException("nothing was imported") from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if include_all:
        rows = invitation_rows(survey)
    else:
        rows = [InvitationRow(invitation, InvitationStatus.NOT_STARTED) for invitation in created]
    # Links are built by the same url_for as the web page, against the public base URL.
    with current_app.test_request_context(base_url=base_url.rstrip("/")):
        text = links_csv(survey, rows)
    # A links file with e-mail addresses or ids of the invited carries contact details.
    audit.record(audit.EXPORT, survey=survey, target=str(output)[-255:] if output else "stdout",
                 detail={"format": "links-csv", "contact_details": rows_carry_contacts(rows), "rows": len(rows),
                         "source": "cli"})
    if contacts is not None:
        audit.record(audit.IMPORT, survey=survey, target=contacts.name,
                     detail={"kind": "contacts", "imported": len(created), "source": "cli"})
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        click.echo(f"{len(created)} links created for {slug}; {len(rows)} written to {output}",
                   err=True)
