"""``hashchat migrate``: moving a community from its SQLite file to PostgreSQL.

The copy lands in one transaction and is checked table by table afterwards, so a failed
or partial move is seen before the community runs on the copy.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import click

from bot.config import Config
from bot.database_url import DatabaseUrl, password_from_env
from bot.store import Store
from bot.store.copying import TableCheck, TargetNotEmpty, copy_tables, verify


def run_migrate(config: Config, config_path: Path, target: str, password_env: str | None) -> int:
    """Returns the exit status: 0 copied and verified, 1 a mismatch or failure, 2 bad input."""
    source = config.database
    if not isinstance(source, Path):
        return _refuse(f"{config_path}: bot.database is {source}, not an SQLite file to copy")
    if not source.is_file():
        return _refuse(f"{source} (bot.database): no such file to copy")
    try:
        url = DatabaseUrl.parse(target)
        password = password_from_env(password_env or config.bot.database_password_env)
    except (ValueError, LookupError) as exc:
        return _refuse(f"--to {target}: {exc}" if isinstance(exc, ValueError) else str(exc))
    try:
        checks = asyncio.run(_move(source, url, password))
    except TargetNotEmpty as exc:
        return _refuse(f"{url}: {exc}; hashchat migrate copies into an empty database only")
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        click.secho(f"hashchat migrate failed: {exc}", fg="red", err=True)
        return 1
    _print(checks)
    if all(c.ok for c in checks):
        click.secho(f"Copied {source} into {url} and verified every table.", fg="green")
        return 0
    bad = ", ".join(c.table for c in checks if not c.ok)
    click.secho(f"MISMATCH in {bad}: do not run on the copy.", fg="red", err=True)
    return 1


def _refuse(message: str) -> int:
    click.secho(message, fg="red", err=True)
    return 2


async def _move(source: Path, url: DatabaseUrl, password: str | None) -> list[TableCheck]:
    # Both opened as stores: the source is brought to this hashchat's schema, and the
    # target's schema is created by the same migrations.
    old = await Store.open(source)
    try:
        new = await Store.open(url, password=password)
        try:
            await copy_tables(old.db, new.db, progress=_progress)
            return await verify(old.db, new.db)
        finally:
            await new.close()
    finally:
        await old.close()


def _progress(table: str, rows: int) -> None:
    click.echo(f"  copied {table}: {rows} rows")


def _print(checks: list[TableCheck]) -> None:
    click.echo(f"{'table':<20} {'sqlite':>8} {'postgres':>8}  checksum")
    for c in checks:
        verdict = "match" if c.ok else f"MISMATCH {c.source_sum[:12]} != {c.target_sum[:12]}"
        click.echo(f"{c.table:<20} {c.source_rows:>8} {c.target_rows:>8}  {verdict}")
