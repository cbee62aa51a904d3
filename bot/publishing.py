"""Publishes a closed session's transcript as HTML, Markdown and JSON, and returns its link."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from bot.i18n import Messages
from bot.site.chatnav import ChatNav, chat_nav
from bot.store import MessageWriter, Store
from bot.store.site_figures import SiteFigures
from bot.transcript.build import build_transcript
from bot.transcript.publish import transcript_url, write_transcript
from bot.transcript.stamp import page_stamp

log = logging.getLogger(__name__)


class Publisher:
    def __init__(
        self, *, store: Store, writer: MessageWriter, root: Path, public_url: str | None
    ) -> None:
        self.store = store
        self.writer = writer
        self.root = root
        self.public_url = public_url
        # One build at a time per community (its chats' pages link to each other): a
        # rebuild asked for during a build reads the store after it, so an older build
        # never overwrites a newer one. Communities build side by side: with one lock
        # for all, a thousand chats closing in the same minute waited for each other's
        # reads and writes, and the last link came half a minute late.
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, session_id: int) -> str:
        community = (await self.store.session(session_id)).plan.community
        async with self._locks.setdefault(community, asyncio.Lock()):
            await self.writer.flush()  # every message received so far belongs in the record
            first = (await self.store.session(session_id)).transcript_url is None
            slug, nav = await self._write(session_id, count=not first)
            if first:  # the chats beside a new one link to it from now on
                # Before the link is posted, not beside the close that follows it: both
                # would bring the site's numbers up to date at once, and a background
                # rewrite that met the close's count failed on the same new chat's row.
                for other in (nav.previous, nav.next):
                    if other is not None:
                        await self._write(other.session_id, publishing=session_id)
        return transcript_url(self.public_url, slug, self.root)

    async def _write(
        self, session_id: int, publishing: int | None = None, *, count: bool = True
    ) -> tuple[str, ChatNav]:
        return await write_page(
            self.store, self.root, self.public_url, session_id, publishing, count=count
        )


async def write_page(
    store: Store,
    root: Path,
    public_url: str | None,
    session_id: int,
    publishing: int | None = None,
    *,
    count: bool = True,
) -> tuple[str, ChatNav]:
    """Writes one chat's files, linked to the chats published before and after it.

    ``count``: bring the site's numbers up to date with the page. Not for a chat's first
    page, written before it is closed and waited for by its link: closing the chat
    counts it (``set_publication``), and ``SiteFigures.ensure`` checks before any read.
    """
    # Both read at once: at a chat's close its link waits for every trip to the store.
    source, nav = await asyncio.gather(
        store.transcript_source(session_id),
        chat_nav(store, session_id, site=public_url is not None, publishing=publishing),
    )
    transcript = build_transcript(source)
    messages = Messages(source.session.locale)
    # Rendering a large chat takes most of a second: keep the event loop free.
    stamp = page_stamp(source, nav)  # the static export copies the page while it holds
    folder = await asyncio.to_thread(write_transcript, root, transcript, messages, nav, stamp=stamp)
    log.info("%s: transcript written to %s", source.session.slug, folder)
    if count:  # the numbers show what the page shows
        await SiteFigures(store.db).follow(session_id)
    return source.session.slug, nav


def public_link(url: str) -> bool:
    """Only a web link opens for participants; a ``file://`` one points into the disk of
    the machine the bot runs on (no ``public_url`` is configured)."""
    return urlsplit(url).scheme.lower() in ("http", "https")


def files_of(url: str) -> str:
    """The folder a ``file://`` transcript link points into, for the moderators."""
    parts = urlsplit(url)
    return str(Path(url2pathname(parts.path)).parent) if parts.scheme == "file" else url
