"""The schedule's exceptions: skip a date, move one chat, add a one-off chat of a series.
Kept in the store ahead of the config's schedule (bot/schedule_exceptions.py) and planned
at once, so a chat not yet started follows the change now."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_datetime

from bot.config import CommunityConfig
from bot.console.framework import NAV, ConsoleRequest, page
from bot.i18n import N_
from bot.planning import Upcoming
from bot.schedule_exceptions import upcoming_chats
from bot.store.schedule_exceptions import Kind, ScheduleException, ScheduleExceptions

SHOWN_PER_SERIES = 6


def when(community: CommunityConfig, at: datetime, locale: str) -> str:
    local = at.astimezone(ZoneInfo(community.timezone))
    return f"{format_datetime(local, format='medium', locale=locale)} ({community.timezone})"


def describe(req: ConsoleRequest, e: ScheduleException) -> str:
    """One line a moderator reads: what changed for which chat."""
    m, c = req.m, req.community
    old = "" if e.starts_at is None else when(c, e.starts_at, m.locale)
    new = "" if e.new_start is None else when(c, e.new_start, m.locale)
    texts = {
        "skip": m.gettext("{series}: the chat of {old} is skipped", series=e.series, old=old),
        "move": m.gettext(
            "{series}: the chat of {old} moves to {new}", series=e.series, old=old, new=new
        ),
        "add": m.gettext("{series}: an extra chat on {new}", series=e.series, new=new),
    }
    return texts[e.kind]


async def exceptions_of(req: ConsoleRequest) -> list[tuple[int, str]]:
    found = await ScheduleExceptions(req.host.store.db).of(req.community.id)
    return [(e.id, describe(req, e)) for e in found]


async def _coming(req: ConsoleRequest) -> list[Upcoming]:
    host, now = req.host, req.host.clock.now()
    found = await upcoming_chats(host.config, host.store, now, per_series=SHOWN_PER_SERIES)
    return [u for u in found if u.community.id == req.community.id and u.starts_at > now]


def _key(u: Upcoming) -> str:
    return f"{u.series_id}|{u.starts_at.astimezone(UTC).isoformat()}"


async def _show(req: ConsoleRequest, outcome: str = "", status: int = 200) -> web.StreamResponse:
    coming = [(_key(u), f"{u.series_id} · {when(u.community, u.starts_at, req.m.locale)}")
              for u in await _coming(req)]  # fmt: skip
    series = [s.id for s in req.community.series] + [o.id for o in req.community.sessions]
    return req.render(
        "console_schedule.html",
        status=status,
        exceptions=await exceptions_of(req),
        coming=coming,
        series=series,
        outcome=outcome,
    )


@page("/schedule")
async def schedule(req: ConsoleRequest) -> web.StreamResponse:
    return await _show(req)


async def _chosen(req: ConsoleRequest) -> Upcoming | None:
    """The coming chat the form names, if it is one of those offered."""
    wanted = req.form.get("chat", "")
    return next((u for u in await _coming(req) if _key(u) == wanted), None)


def _new_start(req: ConsoleRequest) -> datetime | None:
    """The form's local date and time (a datetime-local field), if valid and to come."""
    try:
        local = datetime.fromisoformat(req.form.get("at", "").strip())
    except ValueError:
        return None
    if local.tzinfo is not None:
        return None
    at = local.replace(tzinfo=ZoneInfo(req.community.timezone)).astimezone(UTC)
    return at if at > req.host.clock.now() else None


async def _record(
    req: ConsoleRequest,
    kind: Kind,
    series: str,
    starts_at: datetime | None,
    new_start: datetime | None,
) -> ScheduleException:
    store = ScheduleExceptions(req.host.store.db)
    await store.add(req.community.id, series, kind, starts_at=starts_at, new_start=new_start,
                    by=req.moderator.key, at=req.host.clock.now())  # fmt: skip
    added = (await store.of(req.community.id))[-1]
    await req.audit(f"schedule {kind}", target=describe(req, added))
    await req.host.plan_upcoming()  # a chat not started follows at once
    return added


async def _announced(req: ConsoleRequest, chat: Upcoming) -> tuple[list[str], str] | None:
    """(channels, title) of the stored chat if something of it was posted (a reminder)."""
    store = req.host.store
    for row in await store.open_sessions():
        plan = row.plan
        if (plan.community, plan.series, plan.starts_at) == (
            chat.community.id, chat.series_id, chat.starts_at
        ):  # fmt: skip
            return (list(plan.channels), plan.title) if await store.posts(row.id) else None
    return None


@page("/schedule/skip", method="POST")
async def skip(req: ConsoleRequest) -> web.StreamResponse:
    chat = await _chosen(req)
    if chat is None:
        return await _show(req, req.m.gettext("Choose a coming chat."), 422)
    announced = await _announced(req, chat)
    added = await _record(req, "skip", chat.series_id, chat.starts_at, None)
    if announced is not None:  # its reminder is out: tell the participants, not only us
        channels, title = announced
        text = req.m.gettext(
            "“{title}” of {when} is cancelled.",
            title=title,
            when=when(req.community, chat.starts_at, req.m.locale),
        )
        await req.host.runner.notices.tell(channels, text)
    return await _show(req, describe(req, added))


@page("/schedule/move", method="POST")
async def move(req: ConsoleRequest) -> web.StreamResponse:
    chat, new = await _chosen(req), _new_start(req)
    if chat is None or new is None:
        return await _show(req, req.m.gettext("Choose a coming chat and a new time to come."), 422)
    added = await _record(req, "move", chat.series_id, chat.starts_at, new)
    return await _show(req, describe(req, added))


@page("/schedule/add", method="POST")
async def add(req: ConsoleRequest) -> web.StreamResponse:
    series, new = req.form.get("series", ""), _new_start(req)
    known = {s.id for s in req.community.series} | {o.id for o in req.community.sessions}
    if series not in known or new is None:
        return await _show(req, req.m.gettext("Choose a series and a time to come."), 422)
    added = await _record(req, "add", series, None, new)
    return await _show(req, describe(req, added))


@page("/schedule/remove", method="POST")
async def remove(req: ConsoleRequest) -> web.StreamResponse:
    text = req.form.get("id", "")
    store = ScheduleExceptions(req.host.store.db)
    found = {e.id: e for e in await store.of(req.community.id)}
    if not text.isdecimal() or int(text) not in found:
        return await _show(req, req.m.gettext("There is no such exception."), 422)
    await store.remove(req.community.id, int(text))
    await req.audit("schedule undo", target=describe(req, found[int(text)]))
    await req.host.plan_upcoming()
    return await _show(req, req.m.gettext("The exception is undone."))


NAV.append(("/schedule", N_("Schedule")))
