"""The Atom feed of a community's published transcripts (RFC 4287, written by
``feedgen``): a feed reader learns of each chat's record as soon as it is published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import Messages
from bot.site.feed_chats import FeedChat

CONTENT_TYPE = "application/atom+xml"


@dataclass(frozen=True, slots=True, kw_only=True)
class AtomInfo:
    community: str
    name: str  # the community's name or hashtag
    hashtag: str
    locale: str
    feed_url: str | None  # the feed's own address, when the site has one
    site_url: str | None


def render_atom(info: AtomInfo, published: Sequence[FeedChat], now: datetime) -> str:
    """``published`` newest first, each with its transcript URL."""
    # Imported here: feedgen brings lxml, which the bot need not load until a feed is read.
    from feedgen.feed import FeedGenerator

    messages = Messages(info.locale)
    feed = FeedGenerator()
    # An id must never change: the feed's address when known, else a name of our own.
    feed.id(info.feed_url or f"urn:hashchat:{info.community}")
    feed.title(messages.gettext("{name}: chat transcripts", name=info.name))
    feed.subtitle(messages.gettext("Every published chat of {hashtag}", hashtag=info.hashtag))
    feed.language(info.locale.replace("_", "-"))
    feed.generator("hashchat")
    if info.feed_url:
        feed.link(href=info.feed_url, rel="self", type=CONTENT_TYPE)
    if info.site_url:
        feed.link(href=info.site_url, rel="alternate", type="text/html")
    feed.updated(max((c.ends_at for c in published), default=now))
    # feedgen writes entries in the reverse order of adding them: oldest first here.
    for chat in reversed(published):
        assert chat.transcript_url is not None
        local = chat.starts_at.astimezone(ZoneInfo(chat.timezone))
        entry = feed.add_entry()
        entry.id(chat.transcript_url)
        entry.title(f"{format_date(local, 'long', locale=info.locale)}: {chat.title}")
        entry.link(href=chat.transcript_url, rel="alternate", type="text/html")
        entry.published(chat.starts_at)
        entry.updated(chat.ends_at)
        entry.summary(chat.topic or chat.title)
        entry.author({"name": info.name})
    text: bytes = feed.atom_str(pretty=True)
    return text.decode("utf-8")
