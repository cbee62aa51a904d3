"""Moderators steering a chat live: start, pause, resume, next, skip, extend, end.

Each change moves or skips stored steps, so the runner, a restart and every command
afterwards see the same timeline. Steps already posted anywhere never move.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.runner import Runner
from bot.store import PostState, StepRow, Store
from bot.store.connection import transaction
from bot.store.questions import insert_question
from bot.timeline import StepKind


def shifted(
    steps: Iterable[StepRow], *, movable: set[str], since: datetime, by: timedelta
) -> dict[str, datetime]:
    """New due times for the movable steps due at or after ``since``."""
    return {s.key: s.due_at + by for s in steps if s.key in movable and s.due_at >= since}


class Steering:
    def __init__(self, *, store: Store, runner: Runner, clock: Clock) -> None:
        self.store = store
        self.runner = runner
        self.clock = clock

    async def _timeline(self, session_id: int) -> tuple[list[StepRow], set[str]]:
        """The steps, and the keys of those not yet posted (or skipped) in any channel."""
        steps = await self.store.steps(session_id)
        touched = {key for key, _ in await self.store.posts(session_id)}
        return steps, {s.key for s in steps if s.key not in touched}

    async def _skip(self, session_id: int, key: str) -> None:
        now = self.clock.now()
        for channel in (await self.store.session(session_id)).plan.channels:
            await self.store.finish_post(session_id, key, channel, PostState.SKIPPED, now)

    async def start(self, session_id: int) -> bool:
        """Open a planned chat now; reminders not yet sent are dropped, not sent late."""
        async with self.runner.lock(session_id):
            row = await self.store.session(session_id)
            if row.state != "planned":
                return False
            now = self.clock.now()
            steps, movable = await self._timeline(session_id)
            welcome = next(s for s in steps if s.kind is StepKind.WELCOME)
            for step in steps:
                if step.kind is StepKind.REMINDER and step.key in movable:
                    await self._skip(session_id, step.key)
            await self.store.set_step_dues(
                session_id,
                shifted(steps, movable=movable, since=welcome.due_at, by=now - welcome.due_at),
            )
            await self.runner.wake_locked(session_id)
            return True

    async def pause(self, session_id: int) -> bool:
        async with self.runner.lock(session_id):
            if (await self.store.session(session_id)).paused_at is not None:
                return False
            await self.store.set_paused(session_id, self.clock.now())
            await self.runner.wake_locked(session_id)
            return True

    async def resume(self, session_id: int) -> timedelta | None:
        """Everything still to come moves later by the length of the pause."""
        async with self.runner.lock(session_id):
            return await self._resume(session_id)

    async def _resume(self, session_id: int) -> timedelta | None:
        paused_at = (await self.store.session(session_id)).paused_at
        if paused_at is None:
            return None
        pause = self.clock.now() - paused_at
        steps, movable = await self._timeline(session_id)
        await self.store.set_step_dues(
            session_id, shifted(steps, movable=movable, since=paused_at, by=pause)
        )
        await self.store.set_paused(session_id, None)
        await self.runner.wake_locked(session_id)
        return pause

    async def advance(self, session_id: int) -> int | None:
        """Post the next question now; later steps keep their spacing from it."""
        async with self.runner.lock(session_id):
            await self._resume(session_id)
            steps, movable = await self._timeline(session_id)
            following = [s for s in steps if s.kind is StepKind.QUESTION and s.key in movable]
            if not following:
                return None
            first = following[0]
            by = self.clock.now() - first.due_at
            await self.store.set_step_dues(
                session_id, shifted(steps, movable=movable, since=first.due_at, by=by)
            )
            await self.runner.wake_locked(session_id)
            return first.question

    async def skip(self, session_id: int) -> int | None:
        """Drop the next question; the others keep their times."""
        async with self.runner.lock(session_id):
            steps, movable = await self._timeline(session_id)
            following = [s for s in steps if s.kind is StepKind.QUESTION and s.key in movable]
            if not following:
                return None
            await self._skip(session_id, following[0].key)
            await self.runner.wake_locked(session_id)
            return following[0].question

    async def ask(self, session_id: int, text: str) -> int:
        """Post an unplanned question now, under the next number; the planned questions
        still to come move one number up and keep their times."""
        async with self.runner.lock(session_id):
            steps, movable = await self._timeline(session_id)
            following = [
                s.question for s in steps if s.kind is StepKind.QUESTION and s.key in movable
            ]
            planned = [s for s in steps if s.kind is StepKind.QUESTION]
            number = following[0] if following and following[0] else len(planned) + 1
            async with transaction(self.store.db):
                await insert_question(
                    self.store.db, session_id, number, text, self.clock.now(), state="live"
                )
            await self.runner.wake_locked(session_id)
            return number

    async def extend(self, session_id: int, by: timedelta) -> datetime:
        """Give the current question more time: everything still to come moves later.

        Returns the new closing time.
        """
        async with self.runner.lock(session_id):
            steps, movable = await self._timeline(session_id)
            dues = shifted(steps, movable=movable, since=self.clock.now(), by=by)
            await self.store.set_step_dues(session_id, dues)
            await self.runner.wake_locked(session_id)
            return dues.get("closing") or next(s.due_at for s in steps if s.key == "closing")

    async def end(self, session_id: int) -> None:
        """Close now: unposted questions are dropped, the closing and the link follow."""
        async with self.runner.lock(session_id):
            await self.store.set_paused(session_id, None)
            now = self.clock.now()
            steps, movable = await self._timeline(session_id)
            for step in steps:
                if step.kind in (StepKind.CLOSING, StepKind.TRANSCRIPT):
                    await self.store.set_step_dues(session_id, {step.key: now})
                elif step.key in movable and step.due_at > now:
                    await self._skip(session_id, step.key)
            await self.runner.wake_locked(session_id)
