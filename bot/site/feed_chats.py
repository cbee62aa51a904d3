"""The chats a community's feeds list: the ones stored (planned, running, recently over)
and the ones its schedule will plan later, with every skipped date as cancelled.

The bot stores only the next chat or two of each series; a calendar subscriber wants
the weeks ahead too, so later dates come from the same schedule and agendas the planner
reads, and become the same chat (same UID) once the planner stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import CommunityConfig, Config
from bot.errors import ConfigError
from bot.planning import Upcoming, one_off_start, schedule_of, session_plan
from bot.schedule import parse_schedule
from bot.site import urls
from bot.store.calendar import FeedSession
from bot.timeline import SessionPlan

AHEAD = 6  # dates per series the calendar lists beyond what is stored
BEHIND = timedelta(weeks=8)  # how long a chat that is over stays in the calendar


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedChat:
    """One chat as every feed shows it; times are aware, ``timezone`` the community's."""

    uid: str
    series: str
    title: str
    topic: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    state: str  # "planned" (also a date not stored yet), "live", "closed", "cancelled"
    transcript_url: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.state == "cancelled"

    @property
    def local_day(self) -> date:
        return self.starts_at.astimezone(ZoneInfo(self.timezone)).date()


def chat_uid(community: str, series: str, day: date) -> str:
    """Stable across restarts and re-plans: the series and the local day it is planned
    for (two chats of one series never share a day); the home page's links use it too."""
    return urls.chat_uid(community, series, f"{community}/{day.isoformat()}")


def from_plan(plan: SessionPlan, state: str, transcript_url: str | None = None) -> FeedChat:
    day = plan.starts_at.astimezone(ZoneInfo(plan.timezone)).date()
    return FeedChat(
        uid=chat_uid(plan.community, plan.series, day),
        series=plan.series,
        title=plan.title,
        topic=plan.topic,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        timezone=plan.timezone,
        state=state,
        transcript_url=transcript_url,
    )


def feed_chats(
    config: Config, community: CommunityConfig, stored: list[FeedSession], now: datetime
) -> list[FeedChat]:
    """``stored`` is what the store holds from ``now - BEHIND`` on; the result is sorted
    by start and has one chat per UID (a stored chat wins over its scheduled date)."""
    chats = {
        chat.uid: chat
        for chat in (from_plan(s.plan, s.state, s.transcript_url) for s in stored)
        if chat.ends_at >= now - BEHIND
    }
    for chat in _scheduled(config, community, now):
        chats.setdefault(chat.uid, chat)
    for chat in _skipped(config, community, now):
        chats.setdefault(chat.uid, chat)
    return sorted(chats.values(), key=lambda c: (c.starts_at, c.uid))


def _scheduled(config: Config, community: CommunityConfig, now: datetime) -> list[FeedChat]:
    items = [
        Upcoming(community, series.id, start)
        for series in community.series
        for start in schedule_of(community, series).occurrences(now, AHEAD)
    ]
    items += [
        Upcoming(community, one_off.id, one_off_start(community, one_off))
        for one_off in community.sessions
        if one_off_start(community, one_off) > now
    ]
    return [_planned(config, community, item.series_id, item.starts_at) for item in items]


def _bare_plan(community: CommunityConfig, item: Upcoming) -> SessionPlan:
    timing: dict[str, tuple[timedelta, str]] = {
        s.id: (s.duration, s.title) for s in community.series
    }
    timing.update((o.id, (o.duration, o.title)) for o in community.sessions)
    duration, title = timing[item.series_id]
    day = item.starts_at.astimezone(ZoneInfo(community.timezone)).date()
    return SessionPlan(
        community=community.id,
        series=item.series_id,
        slug=f"{community.id}/{day.isoformat()}",
        title=title or community.name or community.hashtag,
        hashtag=community.hashtag,
        locale=community.locale,
        timezone=community.timezone,
        starts_at=item.starts_at,
        ends_at=item.starts_at + duration,
        channels=tuple(community.channels),
    )


def _skipped(config: Config, community: CommunityConfig, now: datetime) -> list[FeedChat]:
    """Each skipped date still ahead, at the time the series would have met, with the
    title its agenda would have given it."""
    zone = ZoneInfo(community.timezone)
    found = []
    for series in community.series:
        if not series.skip:
            continue
        unskipped = parse_schedule(
            series.schedule, timezone=community.timezone, start_date=series.start_date
        )
        for day in sorted(set(series.skip)):
            midnight = datetime.combine(day, time(), zone)
            start = unskipped.next_after(midnight - timedelta(microseconds=1))
            if start is None or start.astimezone(zone).date() != day or start <= now:
                continue
            found.append(replace(_planned(config, community, series.id, start), state="cancelled"))
    return found


def _planned(config: Config, community: CommunityConfig, series: str, start: datetime) -> FeedChat:
    item = Upcoming(community, series, start)
    try:
        plan = session_plan(config, item)
    except ConfigError:  # an agenda not written yet: the date still shows
        plan = _bare_plan(community, item)
    return from_plan(plan, "planned")
