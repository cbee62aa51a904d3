"""The static export: every page of every community, its transcripts and the assets,
written as files any static host can serve (``hashchat site build --out DIR``)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from bot.config import Config, database_password
from bot.i18n import Messages
from bot.site.chatnav import chat_nav
from bot.site.context import SiteContext
from bot.site.mount import asset, asset_names
from bot.site.pages import PAGES, path_of
from bot.store import Store
from bot.store.backend import Location
from bot.store.site import SiteStore
from bot.transcript.build import build_transcript
from bot.transcript.publish import write_transcript


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
    """Rendered again from the store, so the export is complete and current wherever the
    published folder is."""
    written: list[Path] = []
    site = SiteStore(store.db)
    for community in config.communities:
        for row in await site.past(community.id):
            source = await store.transcript_source(row.session_id)
            transcript = build_transcript(source)
            messages = Messages(source.session.locale)
            nav = await chat_nav(store, row.session_id, site=True)
            folder = await asyncio.to_thread(write_transcript, out, transcript, messages, nav)
            written.append(folder / "index.html")
    return written
