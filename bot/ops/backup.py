"""``hashchat backup``: a copy of the database that can be restored by copying it back."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.config import Config
from bot.store.backup import backup

POSTGRES_ADVICE = (
    "the database is PostgreSQL: back it up with PostgreSQL's own tools, e.g.\n"
    "  pg_dump --format=custom --file=hashchat.dump <database URL>\n"
    "and restore with pg_restore (or use continuous archiving for point-in-time recovery)."
)


def default_name(database: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return database.with_name(f"{database.stem}-{stamp}.backup{database.suffix or '.db'}")


def run_backup(config: Config, out: Path | None) -> None:
    """Back up the configured database to ``out`` (default: beside it, timestamped)."""
    database = config.database
    if not isinstance(database, Path):  # a postgresql:// URL
        click.echo(f"hashchat backup: {POSTGRES_ADVICE}", err=True)
        sys.exit(2)
    if not database.is_file():
        click.secho(
            f"hashchat backup: there is no database at {database} (bot.database) yet",
            fg="red",
            err=True,
        )
        sys.exit(2)
    target = out or default_name(database)
    if target.exists():
        click.secho(f"hashchat backup: {target} exists; name another file", fg="red", err=True)
        sys.exit(2)
    if not target.parent.is_dir():
        click.secho(f"hashchat backup: no folder {target.parent}", fg="red", err=True)
        sys.exit(2)
    try:
        tables = asyncio.run(backup(database, target))
    except (sqlite3.Error, OSError) as exc:
        click.secho(f"hashchat backup: could not copy {database}: {exc}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"backed up {database} to {target} ({tables} tables, integrity checked)")
