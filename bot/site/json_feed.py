"""The same data as the feeds, as read-only JSON (``/<community>/chats.json``) for
communities that embed their chats in a site of their own.

Shape (version 1; fields are only ever added):

    {"version": 1,
     "community": {"id", "name", "hashtag", "timezone", "locale",
                   "site", "calendar", "atom"},          # URLs, null without public_url
     "coming":    [{"uid", "series", "title", "topic", "starts_at", "ends_at",
                    "status", "calendar"}],              # soonest first
     "published": [{"uid", "series", "title", "topic", "starts_at", "ends_at",
                    "transcript"}]}                      # newest first

Times are ISO 8601 in the community's zone, with their offset; ``status`` is
"planned", "live" or "cancelled"; ``calendar`` is the chat's own ``.ics``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.site.feed_chats import FeedChat

CONTENT_TYPE = "application/json"
VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonInfo:
    community: str
    name: str
    hashtag: str
    timezone: str
    locale: str
    site_url: str | None
    calendar_url: str | None
    atom_url: str | None


def render_json(
    info: JsonInfo,
    coming: Sequence[FeedChat],
    published: Sequence[FeedChat],
    event_url: Callable[[str], str | None],
) -> str:
    """``event_url(uid)`` is the address of a chat's own ``.ics``."""
    zone = ZoneInfo(info.timezone)

    def times(chat: FeedChat) -> dict[str, Any]:
        return {
            "uid": chat.uid,
            "series": chat.series,
            "title": chat.title,
            "topic": chat.topic,
            "starts_at": chat.starts_at.astimezone(zone).isoformat(),
            "ends_at": chat.ends_at.astimezone(zone).isoformat(),
        }

    data = {
        "version": VERSION,
        "community": {
            "id": info.community,
            "name": info.name,
            "hashtag": info.hashtag,
            "timezone": info.timezone,
            "locale": info.locale,
            "site": info.site_url,
            "calendar": info.calendar_url,
            "atom": info.atom_url,
        },
        "coming": [{**times(c), "status": c.state, "calendar": event_url(c.uid)} for c in coming],
        "published": [{**times(c), "transcript": c.transcript_url} for c in published],
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
