"""The static export's transcript pages: the published folder's copy where it is current,
a fresh render where it is missing or stale.

Rendering every chat again took most of a full build (a quarter of a second for each of
500 chats), although the bot keeps the published pages current as chats close and their
neighbours are published. Whether a page is current is not assumed: each published folder
carries the stamp of what it was rendered from (bot/transcript/stamp.py), and the export
compares it with the stamp of the chat as the store holds it now (an edit or a hidden
message since, a page written without a site around it, another hashchat version: any of
them means a render).
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.i18n import Messages
from bot.site.chatnav import chat_nav
from bot.store import Store
from bot.store.site import SiteStore
from bot.transcript.build import build_transcript
from bot.transcript.publish import FILES, check_slug, write_transcript
from bot.transcript.stamp import STAMP_FILE, page_stamp


@dataclass(frozen=True, slots=True)
class ExportedTranscripts:
    pages: list[Path]  # each chat's index.html in the export, newest chat first
    copied: int
    rendered: int


def _stamp_of(folder: Path) -> str | None:
    try:
        return (folder / STAMP_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _copy_if_current(published: Path, target: Path, stamp: str) -> bool:
    """Copies the published files when they carry ``stamp``, and checks it again after:
    a bot writing the page meanwhile (a neighbour published) makes this a render."""
    if _stamp_of(published) != stamp:
        return False
    if published.resolve() == target.resolve():
        return True  # exported into the published folder itself: nothing to copy
    target.mkdir(parents=True, exist_ok=True)
    try:
        for name in FILES:
            shutil.copyfile(published / name, target / name)
    except OSError:
        return False  # a file gone or unreadable: rendered instead
    return _stamp_of(published) == stamp


async def export_transcripts(
    store: Store, community: str, published_root: Path, out: Path
) -> ExportedTranscripts:
    """Every published chat of ``community`` under ``out``, linked as on the site."""
    pages: list[Path] = []
    copied = rendered = 0
    for session_id in await SiteStore(store.db).published_ids(community):
        source = await store.transcript_source(session_id)
        nav = await chat_nav(store, session_id, site=True)
        slug = check_slug(source.session.slug)
        target = out / slug
        current = await asyncio.to_thread(
            _copy_if_current, published_root / slug, target, page_stamp(source, nav)
        )
        if current:
            copied += 1
        else:
            transcript = build_transcript(source)
            messages = Messages(source.session.locale)
            await asyncio.to_thread(write_transcript, out, transcript, messages, nav, durable=False)
            rendered += 1
        pages.append(target / "index.html")
    return ExportedTranscripts(pages, copied, rendered)
