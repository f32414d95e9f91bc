"""Consistent copies of the database while the app runs, and bringing one back.

* SQLite: the online backup API (:meth:`sqlite3.Connection.backup`) copies
  every page in one step, under one read transaction, so the copy is the
  database as it was at one instant: a response is in it complete or as the
  partial row it was then, never half-written. Writers wait at most for the
  copy (WAL readers do not wait at all).
* PostgreSQL: ``pg_dump -Fc`` (custom format), which reads everything in one
  repeatable-read snapshot while the app goes on writing; ``pg_restore``
  brings it back in one transaction.

The copy is written to a temporary file next to ``path`` and renamed when
complete, so ``path`` is never a half-written backup. A restore goes into a
new, empty database (no tables) unless ``force``: then the target's tables are
replaced. Job result files (exports, analyses) live outside the database
(``JOB_RESULTS_DIR``); ``with_job_results`` adds them as ``PATH.jobs.tar.gz``.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str            # "sqlite" or "postgresql"
    size: int            # bytes of the database copy
    job_results: Path | None = None


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {url.get_backend_name()}")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it.

    The password goes in ``PGPASSWORD``, never on the command line (``ps`` shows it).
    """
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()[-1000:]}")


def backup_database(database_url: str | URL, path: Path, *, job_results_dir: Path | None = None) -> BackupResult:
    """Write a consistent copy of the database at ``database_url`` to ``path`` (see module docstring)."""
    url = make_url(database_url)
    kind = _kind(url)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            source_file = Path(url.database)
            if not source_file.exists():
                raise BackupError(f"no SQLite database at {source_file}")
            source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True, timeout=60)
            target = sqlite3.connect(partial)
            try:
                # pages=-1: every page in one step, so one read transaction, so one instant.
                source.backup(target, pages=-1)
            finally:
                target.close()
                source.close()
        else:
            dsn, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={dsn}"], env)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    archive = None
    if job_results_dir is not None and Path(job_results_dir).is_dir():
        archive = path.with_name(path.name + ".jobs.tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(job_results_dir, arcname="jobs")
    return BackupResult(path=path, kind=kind, size=path.stat().st_size, job_results=archive)


def backup_kind(path: Path) -> str:
    """What ``path`` holds: "sqlite" or "postgresql" (from the file's first bytes)."""
    with Path(path).open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither an SQLite backup nor a pg_dump custom-format file")


def existing_tables(engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def restore_database(path: Path, database_url: str | URL, engine, *, force: bool = False,
                     job_results_dir: Path | None = None) -> str:
    """Bring the backup at ``path`` into the database at ``database_url`` (``engine`` connects to it).

    Refuses a database that has tables unless ``force``. Returns the backup's kind.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    url = make_url(database_url)
    kind = _kind(url)
    found = backup_kind(path)
    if found != kind:
        raise BackupError(f"{path} is a {found} backup; the configured database is {kind}")
    tables = existing_tables(engine)
    if tables and not force:
        raise BackupError(f"the database is not empty ({len(tables)} tables, e.g. {', '.join(tables[:3])}); "
                          "restore into a new, empty database, or pass --force to replace its contents")
    engine.dispose()  # no pooled connection may hold the file or the tables
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(url.database, timeout=60)
        try:
            source.backup(target, pages=-1)  # replaces every page of the target
        finally:
            target.close()
            source.close()
    else:
        dsn, env = _libpq(url)
        command = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={dsn}"]
        if tables:
            command += ["--clean", "--if-exists"]
        _run(command + [str(path)], env)
    archive = path.with_name(path.name + ".jobs.tar.gz")
    if job_results_dir is not None and archive.is_file():
        Path(job_results_dir).mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("jobs/") and m.isfile()]
            for member in members:
                member.name = member.name[len("jobs/"):]
            tar.extractall(job_results_dir, members=members, filter="data")
    return kind
