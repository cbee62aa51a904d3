"""A transcript page's stamp: what it was rendered from, so a copy can stand in for a render.

Rendering a chat of 800 messages takes a quarter of a second, and the static export holds
every chat. The publisher writes the stamp beside each page (``STAMP_FILE``); the export
copies a published folder whose stamp equals the stamp of the chat as the store holds it
now, and renders the others. The stamp covers everything the page shows (the transcript's
source as the store gives it, the links to the chats before and after it) and the code
and texts that render it, so an edit, a hidden message, a neighbour published since, a
page written without a site around it or an upgrade of hashchat all make it differ.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import babel
import jinja2

import bot
from bot.site.chatnav import ChatNav
from bot.transcript.model import TranscriptSource

STAMP_FILE = ".hashchat-stamp"  # the web server serves only .html, .md and .json files
_RENDERER_PARTS = ("*.py", "templates/**/*.html", "locale/**/*.po")


@cache
def renderer_stamp() -> str:
    """The hash of hashchat's code, templates and catalogs, and of the libraries that
    format the page: a page rendered by another version of any of them is rendered again.
    (All of ``bot/``, not only the renderer: a missed dependency would keep a stale page.)"""
    root = Path(bot.__file__).resolve().parent
    digest = hashlib.sha256(f"babel {babel.__version__} jinja2 {jinja2.__version__}".encode())
    files = sorted({p for pattern in _RENDERER_PARTS for p in root.rglob(pattern)})
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def page_stamp(source: TranscriptSource, nav: ChatNav | None) -> str:
    """The stamp of the page ``write_transcript`` makes from this source and navigation.

    The records are frozen dataclasses whose ``repr`` shows every field, so any change
    to what the store gives (a new field included) changes the stamp."""
    digest = hashlib.sha256(renderer_stamp().encode())
    digest.update(repr((source, nav)).encode())
    return digest.hexdigest()
