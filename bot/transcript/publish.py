"""Writes a transcript's files where the web server (or a browser) can find them."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from bot.i18n import Messages
from bot.site.chatnav import ChatNav
from bot.transcript.build import Transcript
from bot.transcript.render import render_html, render_json, render_markdown

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*/\d{4}-\d{2}-\d{2}(-\d+)?", re.ASCII)


def check_slug(slug: str) -> str:
    """The slug becomes a path under the public root, so nothing like ``..`` may get through."""
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"invalid transcript slug {slug!r}: expected 'community/yyyy-mm-dd'")
    return slug


def _write_atomically(path: Path, text: str) -> None:
    """Readers of the public directory never see a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the page from the web server
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_transcript(
    root: Path, t: Transcript, messages: Messages, nav: ChatNav | None = None
) -> Path:
    """Renders everything before writing anything, so a rendering bug leaves no partial set."""
    directory = root / check_slug(t.session.slug)
    files = {
        "transcript.md": render_markdown(t, messages),
        "transcript.json": render_json(t),
        "index.html": render_html(t, messages, nav),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        _write_atomically(directory / name, text)
    return directory


def transcript_url(public_url: str | None, slug: str, root: Path) -> str:
    check_slug(slug)
    if public_url:
        return f"{public_url.rstrip('/')}/{slug}/"
    return (root / slug / "index.html").resolve().as_uri()


def remove_transcript(root: Path, slug: str) -> bool:
    """Take a published transcript down (retention); False when there was none."""
    directory = root / check_slug(slug)
    if not directory.is_dir():
        return False
    shutil.rmtree(directory)
    return True
