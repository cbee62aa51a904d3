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
from bot.transcript.stamp import STAMP_FILE

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


FILES = ("transcript.md", "transcript.json", "index.html")  # what a chat's folder holds


def write_transcript(
    root: Path,
    t: Transcript,
    messages: Messages,
    nav: ChatNav | None = None,
    *,
    stamp: str | None = None,
    durable: bool = True,
) -> Path:
    """Renders everything before writing anything, so a rendering bug leaves no partial set.

    ``stamp`` (bot/transcript/stamp.py) is written last, after the old one is removed, so
    a stamp never vouches for files it does not describe, even after a crash midway.
    ``durable`` False skips the fsyncs: the static export is rebuilt whole if interrupted.
    """
    directory = root / check_slug(t.session.slug)
    files = dict(
        zip(
            FILES,
            (render_markdown(t, messages), render_json(t), render_html(t, messages, nav)),
            strict=True,
        )
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STAMP_FILE).unlink(missing_ok=True)
    for name, text in files.items():
        if durable:
            _write_atomically(directory / name, text)
        else:
            (directory / name).write_text(text, encoding="utf-8", newline="\n")
    if stamp is not None:
        _write_atomically(directory / STAMP_FILE, stamp)
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
