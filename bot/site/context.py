"""What every page renders from: one community, the store, the clock and where files are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config import CommunityConfig, Config
from bot.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteContext:
    """``static`` is True while ``hashchat site build`` exports files: a page may then
    leave out what needs the server (a search box that queries it, say)."""

    config: Config
    community: CommunityConfig
    store: Store
    now: datetime
    transcripts_root: Path
    static: bool = False


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page's body and type; the mount adds the headers, the build writes the body."""

    body: str
    content_type: str = "text/html"
