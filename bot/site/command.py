"""``hashchat site build``: the community site as static files, from the bot's config and
database, for any static host."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import click

from bot.clock import SystemClock
from bot.config import load_config
from bot.errors import ConfigError
from bot.site.build import BuildError, build_site
from bot.site.pagefind import PagefindError, index_site


@click.group()
def site() -> None:
    """The community site: home, past chats, search, numbers, links and feeds."""


@site.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("hashchat.toml"),
    show_default=True,
    help="The configuration file (the same as for run).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The folder to write the site into (created; existing files are replaced).",
)
def build(config_path: Path, out: Path) -> None:
    """Write every community's site as static files into OUT."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.secho(f"{len(exc.problems)} problem(s) found:", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    try:
        written = asyncio.run(build_site(config, out.resolve(), SystemClock().now()))
    except BuildError as exc:
        click.secho(f"cannot build the site: {exc}", fg="red", err=True)
        sys.exit(2)
    except sqlite3.Error as exc:  # not a hashchat database, or a damaged one
        database = config.database
        click.secho(f"cannot read {database} (bot.database): {exc}", fg="red", err=True)
        sys.exit(2)
    except OSError as exc:
        click.secho(f"cannot write the site into {out}: {exc.strerror or exc}", fg="red", err=True)
        sys.exit(2)
    click.echo(f"{len(written)} files written to {out.resolve()}")
    try:
        click.echo(index_site(out.resolve()))
    except PagefindError as exc:
        click.secho(f"cannot index the site for search: {exc}", fg="red", err=True)
        sys.exit(2)
    for community in config.communities:
        click.echo(
            f"  {community.hashtag}: {(out.resolve() / community.id / 'index.html').as_uri()}"
        )
