"""The community's calendar (RFC 5545, written by the ``icalendar`` library): the feed of
its chats to subscribe to, and one chat's file for "add to calendar".

Times are written in the community's zone with its VTIMEZONE, so a calendar shows a
13:00 Paris chat at 04:00 in Vancouver and keeps it right across daylight-saving
changes. SEQUENCE comes from what was published before (bot/store/calendar.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import Messages
from bot.site.feed_chats import FeedChat

if TYPE_CHECKING:
    from icalendar import Event, Timezone

CONTENT_TYPE = "text/calendar"
PRODID = "-//hashchat//community site//EN"


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarInfo:
    """What every event of a community shares."""

    name: str  # the calendar's name: the community's name or hashtag
    hashtag: str
    timezone: str
    locale: str
    where: tuple[str, ...] = ()  # where to join, one line per channel ("Mastodon: URL")
    site_url: str | None = None  # the community's home page, when it has an address


def render_calendar(
    info: CalendarInfo,
    chats: Sequence[FeedChat],
    sequences: Mapping[str, int],
    now: datetime,
) -> str:
    """The whole calendar as text (CRLF lines, as RFC 5545 wants)."""
    # Imported here: the bot starts without it (a tenth of a second) until a feed is asked for.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", info.name)
    calendar.add("x-wr-timezone", info.timezone)
    if chats:
        calendar.add_component(_zone(info.timezone, chats))
    messages = Messages(info.locale)
    for chat in chats:
        calendar.add_component(_event(info, chat, sequences.get(chat.uid, 0), now, messages))
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")


def _zone(name: str, chats: Sequence[FeedChat]) -> Timezone:
    """The zone's rules over the years the events span, not since 1970: a short file."""
    from icalendar import Timezone

    first = min(c.starts_at for c in chats).date()
    last = max(c.ends_at for c in chats).date()
    return Timezone.from_tzid(
        name, first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1)
    )


def _event(
    info: CalendarInfo, chat: FeedChat, sequence: int, now: datetime, messages: Messages
) -> Event:
    from icalendar import Event

    zone = ZoneInfo(info.timezone)
    event = Event()
    event.add("uid", chat.uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", chat.starts_at.astimezone(zone))
    event.add("dtend", chat.ends_at.astimezone(zone))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if chat.cancelled else "CONFIRMED")
    event.add("summary", f"{info.hashtag}: {chat.title}")
    event.add("description", _description(info, chat, messages))
    if info.where:
        event.add("location", "; ".join(info.where))
    url = chat.transcript_url or info.site_url
    if url:
        event.add("url", url)
    return event


def _description(info: CalendarInfo, chat: FeedChat, messages: Messages) -> str:
    lines = []
    if chat.cancelled:
        lines.append(messages.gettext("This chat is cancelled."))
    if chat.topic:
        lines.append(chat.topic)
    if info.where and not chat.cancelled:
        lines.append(messages.gettext("Where to join:"))
        lines.extend(info.where)
    if chat.transcript_url:
        lines.append(messages.gettext("Transcript: {url}", url=chat.transcript_url))
    return "\n".join(lines)


def one_chat(chats: Sequence[FeedChat], uid: str) -> list[FeedChat]:
    """The chat ``uid`` names, alone, for its own ``.ics``; empty when there is none."""
    return [c for c in chats if c.uid == uid]
