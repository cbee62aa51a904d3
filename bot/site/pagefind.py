"""The exported site's search index: Pagefind run over the built transcript pages.

A static host cannot answer queries, so the export carries an index the browser reads
(``pagefind/`` beside the communities). Pagefind is a Node tool from the project's
package.json; a build without it still writes every page and says how to get search.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import bot

_REPO = Path(bot.__file__).resolve().parent.parent
TIMEOUT = 600.0  # seconds; a 400,000-message site indexes in well under a minute


class PagefindError(Exception):
    """Pagefind ran and failed; the message carries its own words."""


def pagefind_binary() -> Path | None:
    """``node_modules/.bin/pagefind`` of the project (or of the current folder)."""
    for base in (_REPO, Path.cwd()):
        candidate = base / "node_modules" / ".bin" / "pagefind"
        if candidate.is_file():
            return candidate
    found = shutil.which("pagefind")
    return None if found is None else Path(found)


def index_site(out: Path) -> str:
    """Index the pages under ``out`` (only those marked ``data-pagefind-body``: the
    transcripts) into ``out/pagefind``; returns a line for the person building."""
    binary = pagefind_binary()
    if binary is None:
        return (
            "search index skipped: Pagefind is not installed (run `make node_modules/.installed`"
            " in hashchat's folder); the exported search page will say it cannot search"
        )
    try:
        done = subprocess.run(
            [str(binary), "--site", str(out), "--output-subdir", "pagefind", "--silent"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PagefindError(f"pagefind ({binary}) could not run: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise PagefindError(f"pagefind ({binary}) failed: " + " / ".join(detail))
    return f"search index written to {out / 'pagefind'}"
