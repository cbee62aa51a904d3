"""The static export: every page of every community, its transcripts and the assets,
written as files any static host can serve (``hashchat site build --out DIR``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from bot.config import Config, database_password
from bot.site.context import SiteContext
from bot.site.export_transcripts import export_transcripts
from bot.site.mount import asset, asset_names
from bot.site.pages import PAGES, path_of
from bot.store import Store
from bot.store.backend import Location

log = logging.getLogger(__name__)


class BuildError(Exception):
    """A build that cannot start (no database yet, an output path that is a file)."""


def _check(database: Location, out: Path) -> None:
    if isinstance(database, Path) and not database.is_file():
        raise BuildError(f"{database}: no database yet (bot.database): run the bot first")
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: exists and is not a folder")


def _target(out: Path, path: str) -> Path:
    relative = path.lstrip("/")
    return out / (relative + "index.html" if path.endswith("/") else relative)


async def build_site(config: Config, out: Path, now: datetime) -> list[Path]:
    """Writes the site under ``out`` and returns the files written, pages first."""
    database = config.database
    await asyncio.to_thread(_check, database, out)
    store = await Store.open(database, password=database_password(config.bot))
    try:
        written = [
            *await _pages(config, store, out, now),
            *await _transcripts(config, store, out),
        ]
    finally:
        await store.close()
    for name in asset_names():
        target = out / "_site" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(asset(name), encoding="utf-8")
        written.append(target)
    return written


async def _pages(config: Config, store: Store, out: Path, now: datetime) -> list[Path]:
    written: list[Path] = []
    for community in config.communities:
        ctx = SiteContext(
            config=config,
            community=community,
            store=store,
            now=now,
            transcripts_root=config.resolve(config.bot.transcripts_dir),
            static=True,
        )
        for page in PAGES:
            for params in await page.instances(ctx):
                rendered = await page.render(ctx, params)
                if rendered is None:
                    continue
                target = _target(out, path_of(community.id, page.pattern, params))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(rendered.body, encoding="utf-8")
                written.append(target)
    return written


async def _transcripts(config: Config, store: Store, out: Path) -> list[Path]:
    """Complete and current wherever the published folder is: each published page is
    copied when its stamp says it is current, rendered from the store otherwise."""
    written: list[Path] = []
    published = config.resolve(config.bot.transcripts_dir)
    for community in config.communities:
        done = await export_transcripts(store, community.id, published, out)
        log.info(
            "%s: %d transcripts copied from %s, %d rendered",
            community.id,
            done.copied,
            published,
            done.rendered,
        )
        written += done.pages
    return written
