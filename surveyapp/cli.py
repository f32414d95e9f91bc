"""Command-line jobs: ``flask users``, ``flask instruments``, ``flask demo``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from analysis.instruments import InstrumentError, load_instrument, load_instruments

from .extensions import db
from .models import Role, User


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(instruments)
    app.cli.add_command(demo)
    app.cli.add_command(report)
    app.cli.add_command(moments)
    app.cli.add_command(contacts)
    from .cli_invite import invite
    app.cli.add_command(invite)
    from .cli_data import register_data_commands
    register_data_commands(app)
    from .cli_backup import register_backup_commands
    register_backup_commands(app)


@click.group(help="The dashboard's stored sums (services/moment_store.py).")
def moments() -> None:
    pass


@moments.command("rebuild", help="Recompute the stored moments of every survey (or --survey) from its responses.")
@click.option("--survey", "slug", default=None, help="Only this survey (its slug).")
def rebuild_moments(slug: str | None) -> None:
    from .models import Survey
    from .services import moment_store
    query = select(Survey).order_by(Survey.id)
    if slug is not None:
        query = query.where(Survey.slug == slug)
    surveys = db.session.execute(query).scalars().all()
    if slug is not None and not surveys:
        raise click.ClickException(f"no survey {slug!r}")
    for survey in surveys:
        cells = moment_store.rebuild(survey)
        click.echo(f"{survey.slug}: {cells} cells")


@click.group(help="Manage accounts.")
def users() -> None:
    pass


@users.command("create", help="Create an account (prompts for the password unless --password).")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.RESEARCHER.value,
              show_default=True)
@click.option("--email", default=None)
@click.password_option(prompt=True, confirmation_prompt=True, help="Password (prompted if omitted).")
def create_user(username: str, role: str, email: str | None, password: str) -> None:
    from flask_babel import force_locale

    from .services import audit
    from .services.accounts import AccountError, create_account
    with force_locale("en"):
        try:
            user = create_account(username, role, password, email)
        except AccountError as error:
            raise click.ClickException(str(error)) from error
    audit.record(audit.USER_CREATED, target=f"user:{user.id}",
                 detail={"username": user.username, "role": user.role, "source": "cli"})
    click.echo(f"created {role} {username}")


@users.command("token", help="Issue a new API token for a user (shown once).")
@click.argument("username")
def issue_token(username: str) -> None:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    token = user.new_api_token()
    db.session.commit()
    click.echo(token)


@click.group(help="Validate and load the instrument files.")
def instruments() -> None:
    pass


@instruments.command("validate", help="Check instrument files (default: every file in instruments/).")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_instruments(files: tuple[Path, ...]) -> None:
    failures = 0
    if files:
        for path in files:
            try:
                instrument = load_instrument(path)
            except InstrumentError as error:
                failures += 1
                click.echo(str(error), err=True)
            else:
                click.echo(f"{path}: ok ({instrument.id} v{instrument.version}, "
                           f"{len(instrument.items)} items)")
    else:
        try:
            loaded = load_instruments(current_app.config["INSTRUMENTS_DIR"])
        except InstrumentError as error:
            failures += 1
            click.echo(str(error), err=True)
        else:
            for key, instrument in sorted(loaded.items()):
                click.echo(f"{instrument.path}: ok ({key} v{instrument.version}, "
                           f"{len(instrument.items)} items)")
    if failures:
        sys.exit(1)


@instruments.command("load", help="Store the instrument files in the database.")
def load_instruments_command() -> None:
    from .services.surveys import SurveyError, sync_instruments
    try:
        report = sync_instruments()
    except (InstrumentError, SurveyError) as error:
        raise click.ClickException(str(error)) from error
    for key, version, action in report:
        click.echo(f"{key} v{version}: {action}")


@click.command(help="Create the demo survey with synthetic responses, unless it exists.")
@click.option("--responses", type=int, default=None, help="How many (default: DEMO_RESPONSES).")
@click.option("--seed", type=int, default=None, help="Random seed (default: DEMO_SEED).")
def demo(responses: int | None, seed: int | None) -> None:
    from .services.demo import DEMO_USERS, ensure_demo
    n = responses if responses is not None else current_app.config["DEMO_RESPONSES"]
    result = ensure_demo(n, seed if seed is not None else current_app.config["DEMO_SEED"])
    if result.created:
        click.echo(f"demo survey '{result.survey.slug}' created with {result.responses} responses")
    else:
        click.echo(f"demo survey '{result.survey.slug}' exists already")
    for role, (username, password) in DEMO_USERS.items():
        click.echo(f"  demo {role.value}: user {username}  password {password}")


@click.command("report", help="Print every analysis of a survey as a text report.")
@click.argument("slug")
@click.option("--segment", "segments", multiple=True, metavar="VARIABLE=CODE[,CODE]",
              help="Only responses with these answers (repeatable).")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="First day (UTC).")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="Last day (UTC, inclusive).")
@click.option("--version", "versions", type=int, multiple=True, help="Survey version (repeatable).")
@click.option("--keep-flagged", is_flag=True, help="Keep responses flagged by data-quality screening.")
@click.option("--bootstrap", type=int, default=2000, show_default=True, help="Mediation resamples.")
@click.option("--csi-bootstrap", type=int, default=100, show_default=True,
              help="PLS index resamples (0, or at least 50).")
def report(slug: str, segments, start, end, versions, keep_flagged: bool, bootstrap: int,
           csi_bootstrap: int) -> None:
    from analysis.report import ReportOptions

    from .cli_data import _survey, filters_from_options
    from .services.analysis import survey_analysis

    survey = _survey(slug)
    try:
        filters = filters_from_options(survey, segments, start, end, versions)
        options = ReportOptions(exclude_flagged=not keep_flagged, n_boot=bootstrap,
                                csi_boot=csi_bootstrap)
        result = survey_analysis(survey, filters, options)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{survey.title_en} / {survey.title_zh} ({survey.slug})")
    click.echo(result.text())


@click.group(help="Contact details of respondents.")
def contacts() -> None:
    pass


@contacts.command("purge", help="Remove contact details past their retention period "
                                "(CONTACT_RETENTION_DAYS after the case closed; see "
                                "services/personal_data.py). Also runs every night on the queue.")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Retention in days (default: CONTACT_RETENTION_DAYS).")
def purge_contacts_command(days: int | None) -> None:
    from .services.personal_data import purge_contacts
    report = purge_contacts(retention_days=days)
    click.echo(f"purged {report.contacts} contact record(s) and {report.invitations} invitation "
               f"address(es) of cases closed (or responses without a case) before "
               f"{report.cutoff:%Y-%m-%d %H:%M} UTC")
