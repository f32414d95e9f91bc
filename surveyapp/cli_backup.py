"""``flask backup PATH`` and ``flask restore PATH``: the commands of services.backup."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .extensions import db
from .services import audit
from .services.backup import BackupError, backup_database, restore_database
from .services.jobs import results_dir


def register_backup_commands(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("backup", help="Write a consistent copy of the database to PATH while the app runs "
                              "(SQLite: online backup API; PostgreSQL: pg_dump -Fc).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-job-results", is_flag=True,
              help="Also archive the job result files (exports, analyses) as PATH.jobs.tar.gz.")
def backup_command(path: Path, with_job_results: bool) -> None:
    try:
        done = backup_database(db.engine.url, path,
                               job_results_dir=results_dir() if with_job_results else None)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    audit.record(audit.BACKUP, target=f"file:{done.path.name}",
                 detail={"kind": done.kind, "bytes": done.size, "job_results": done.job_results is not None})
    click.echo(f"{done.kind} backup written to {done.path} ({done.size:,} bytes)"
               + (f"; job results in {done.job_results}" if done.job_results else ""))


@click.command("restore", help="Bring the backup at PATH into the configured database, which must be "
                               "new and empty (no tables) unless --force.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the contents of a database that has tables.")
def restore_command(path: Path, force: bool) -> None:
    try:
        kind = restore_database(path, db.engine.url, db.engine, force=force,
                                job_results_dir=results_dir())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    audit.record(audit.RESTORE, target=f"file:{path.name}", detail={"kind": kind, "forced": force})
    click.echo(f"{kind} backup {path} restored")
