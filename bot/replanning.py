"""Re-planning a chat that has not started from the files as they are now.

An agenda fixed on Wednesday for Friday's chat must be the one Friday's chat posts, so
every planner pass (hourly, at start-up, on SIGHUP) plans each chat that has not started
again. What a re-plan keeps:

- steps already posted or skipped (the reminders) stay as they were;
- questions moderators approved into the chat (``approve 4 at 2``) are put back after the
  same agenda question as before, at their time if it still falls between their new
  neighbours, else halfway between them;
- the host, which lives beside the plan, not in it (a handover is never undone);
- a chat that has started keeps its snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.errors import ConfigError
from bot.i18n import Messages
from bot.planning import session_plan, upcoming
from bot.runner import Runner
from bot.schedule_exceptions import apply_exceptions
from bot.store import Store
from bot.store.replanning import (
    approved_suggestions,
    drop_planned,
    planned_session,
    planned_sessions,
    read_planned,
    replace_plan,
)
from bot.store.schedule_exceptions import read_exceptions
from bot.timeline import QuestionPlan, SessionPlan, plan_steps

log = logging.getLogger(__name__)


def with_insertions(fresh: SessionPlan, stored: SessionPlan, approved: list[str]) -> SessionPlan:
    """``fresh`` with the stored plan's approved questions put back in their places.

    An approved question is found in the stored plan by its text; it is placed after
    as many of the fresh agenda's questions as it followed in the stored one.
    """
    left = list(approved)
    placed: list[tuple[int, QuestionPlan]] = []  # (agenda questions before it, question)
    agenda_before = 0
    for q in stored.questions:
        if q.text in left:
            left.remove(q.text)
            placed.append((agenda_before, q))
        else:
            agenda_before += 1
    # An approved question since copied into the agenda file is asked once, as written there.
    in_agenda = {q.text for q in fresh.questions}
    placed = [(after, q) for after, q in placed if q.text not in in_agenda]
    if not placed:
        return fresh
    duration = fresh.ends_at - fresh.starts_at
    agenda = list(fresh.questions)
    merged: list[tuple[QuestionPlan, bool]] = []  # (question, approved)
    for index in range(len(agenda) + 1):
        for after, q in placed:
            if min(after, len(agenda)) == index:
                merged.append((q, True))
        if index < len(agenda):
            merged.append((agenda[index], False))
    questions: list[QuestionPlan] = []
    translated = {k: v for k, v in fresh.translated.items() if not _is_question_key(k)}
    for position, (q, inserted) in enumerate(merged):
        number = position + 1
        offset = q.offset
        if inserted:
            earlier = questions[-1].offset if questions else timedelta(0)
            later = next((o.offset for o, ins in merged[position + 1 :] if not ins), duration)
            if not earlier < offset < later:
                offset = _halfway(earlier, later)
        elif f"q{q.number}" in fresh.translated:
            translated[f"q{number}"] = fresh.translated[f"q{q.number}"]
        questions.append(QuestionPlan(number, q.text, offset))
    return replace(fresh, questions=tuple(questions), translated=translated)


def _halfway(earlier: timedelta, later: timedelta) -> timedelta:
    """To the minute, a half minute going to the earlier side, as ``approve`` places it."""
    middle = (earlier + later) / 2
    minutes, rest = divmod(middle, timedelta(minutes=1))
    return timedelta(minutes=minutes + (1 if rest > timedelta(seconds=30) else 0))


def _is_question_key(key: str) -> bool:
    return key.startswith("q") and key[1:].isdigit()


def changes(old: SessionPlan, new: SessionPlan) -> list[str]:
    """What a re-plan changes in a chat, in words a moderator reads at a glance:
    ``["Q2 text changed", "Q4 added"]``; empty when nothing does."""
    found: list[str] = []
    for name in ("title", "topic", "welcome", "rules", "closing"):
        if getattr(old, name) != getattr(new, name):
            found.append(f"{name} changed")
    if old.ends_at != new.ends_at:
        found.append("end time changed")
    before = {q.number: q for q in old.questions}
    after = {q.number: q for q in new.questions}
    for number in sorted(before.keys() | after.keys()):
        was, now = before.get(number), after.get(number)
        if was is None:
            found.append(f"Q{number} added")
        elif now is None:
            found.append(f"Q{number} removed")
        else:
            if was.text != now.text:
                found.append(f"Q{number} text changed")
            if was.offset != now.offset:
                found.append(f"Q{number} time changed")
    if old.translated != new.translated:
        found.append("translation changed")
    if sorted(old.reminders) != sorted(new.reminders):
        found.append("reminders changed")
    for name in ("channels", "moderator_channels", "moderators"):
        if getattr(old, name) != getattr(new, name):
            found.append(f"{name.replace('_', ' ')} changed")
    rest = ("hashtag", "locale", "timezone", "slow_mode_seconds", "second_locale")
    found.extend(
        f"{n.replace('_', ' ')} changed" for n in rest if getattr(old, n) != getattr(new, n)
    )
    return found


class Replanner:
    """One planner pass's view of the stored chats that have not started."""

    def __init__(
        self, store: Store, runner: Runner, now: datetime, community: str | None = None
    ) -> None:
        self.store = store
        self.runner = runner
        self.now = now
        self.community = community  # the pass plans this community alone
        self._listed: dict[tuple[str, str, datetime], int] | None = None

    async def _planned(self) -> dict[tuple[str, str, datetime], int]:
        """The ids of the chats not started, by (community, series, start): listed once
        per pass. Listing them for every chat the pass plans made a pass over a thousand
        communities read and parse a million stored plans."""
        if self._listed is None:
            self._listed = {
                (r.plan.community, r.plan.series, r.plan.starts_at): r.id
                for r in await planned_sessions(self.store.db, self.community)
            }
        return self._listed

    async def drop_stale(self, wanted: set[tuple[str, str, datetime]]) -> None:
        """Forget the chats not started that the files no longer plan: a date now skipped,
        a time moved, a series removed. ``wanted`` holds (community, series, start), of
        the pass's community alone when it has one."""
        for row in await planned_sessions(self.store.db, self.community):
            plan = row.plan
            key = (plan.community, plan.series, plan.starts_at)
            if plan.starts_at <= self.now or key in wanted:
                continue
            async with self.runner.lock(row.id):
                if not await drop_planned(self.store.db, row.id):
                    continue
                self.runner.alarm.cancel(f"session:{row.id}")
                self.runner.alarm.cancel(f"host:{row.id}")
            local = plan.starts_at.astimezone(ZoneInfo(plan.timezone))
            text = Messages(plan.locale).gettext(
                "To the moderators of {hashtag}: “{title}” of {when} is no longer in the"
                " configuration, so it will not run.",
                hashtag=plan.hashtag,
                title=plan.title,
                when=f"{local:%Y-%m-%d %H:%M} ({plan.timezone})",
            )
            await self.runner.notify_moderators(plan, text)

    async def replan(self, plan: SessionPlan) -> SessionPlan:
        """The plan to run for ``plan``'s chat: the stored one re-planned from ``plan`` if
        it has not started, else ``plan`` itself (for a chat not stored yet, or one whose
        snapshot ``ensure_session`` keeps)."""
        found = (await self._planned()).get((plan.community, plan.series, plan.starts_at))
        if found is None:
            return plan
        async with self.runner.lock(found):
            stored = await planned_session(self.store.db, found)
            if stored is None or stored.plan.starts_at <= self.now:
                return plan
            approved = await approved_suggestions(self.store.db, stored.id)
            fresh = with_insertions(replace(plan, slug=stored.plan.slug), stored.plan, approved)
            if fresh == stored.plan:
                return fresh
            what = changes(stored.plan, fresh)
            if await replace_plan(self.store.db, stored.id, fresh, plan_steps(fresh), self.now):
                log.info("%s: re-planned from the files: %s", fresh.slug, ", ".join(what))
        return fresh


async def preview(config: Config, now: datetime) -> list[str]:
    """What the next planner pass of a bot running on ``config``'s database will do to
    each chat it has planned, one line each, for ``hashchat check``."""
    database = config.database
    exceptions = await read_exceptions(database)  # the console's skips, moves and one-offs
    chats = apply_exceptions(config, upcoming(config, now, 2 + len(exceptions)), exceptions, now, 2)
    wanted = {(u.community.id, u.series_id, u.starts_at): u for u in chats}
    lines: list[str] = []
    for row, approved in await read_planned(database):
        stored = row.plan
        if stored.starts_at <= now:
            continue
        day = stored.starts_at.astimezone(ZoneInfo(stored.timezone)).date()
        label = f"{stored.community}/{stored.series} {day.isoformat()}"
        item = wanted.get((stored.community, stored.series, stored.starts_at))
        if item is None:
            lines.append(f"{label}: will be dropped, the files no longer plan it")
            continue
        try:
            fresh = session_plan(config, item)
        except ConfigError:
            lines.append(f"{label}: keeps its plan until the problems above are fixed")
            continue
        merged = with_insertions(replace(fresh, slug=stored.slug), stored, approved)
        what = changes(stored, merged)
        lines.append(f"{label}: {', '.join(what)}" if what else f"{label}: no change")
    return lines
