"""Runs each session's timeline: posts every due step once, in every channel, on time.

The store is the truth. Every wake-up re-reads the session's steps and posts, does what
is due, and asks the alarm for the next wake-up, so a restart simply wakes up again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.alarm import Alarm
from bot.background import Background
from bot.clock import Clock
from bot.domain import ChannelRef
from bot.live import LATE_WINDOW, LiveIndex, LiveSession, replay_posts
from bot.notices import Notices, moderator_targets
from bot.ops.metrics import Metrics
from bot.platforms.base import DeliveryUncertain, Platform, PlatformError
from bot.progress import done_everywhere, settled, undone
from bot.publishing import files_of, public_link
from bot.slow_mode import set_slow_mode
from bot.store import PostState, SessionRow, StepRow, Store
from bot.store.store import PostRow
from bot.texts import Texts
from bot.timeline import PlannedStep, SessionPlan, StepKind, Timing, timing

log = logging.getLogger(__name__)

Publish = Callable[[int], Awaitable[str]]
"""Builds and publishes a closed session's transcript; returns its URL."""

RETRY_FAILED_SEND = timedelta(seconds=30)


class Runner:
    def __init__(
        self,
        *,
        store: Store,
        platforms: Mapping[str, Platform],
        alarm: Alarm,
        clock: Clock,
        live: LiveIndex,
        publish: Publish,
        grace: timedelta = timedelta(minutes=5),
        on_closed: Callable[[SessionPlan], Coroutine[Any, Any, None]] | None = None,
        on_reminder: Callable[[SessionRow, StepRow], Awaitable[None]] | None = None,
        caught_up: Callable[[], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
        may_post: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.platforms = platforms
        self.alarm = alarm
        self.clock = clock
        self.live = live
        self.publish = publish
        self.grace = grace
        self.on_closed = on_closed
        self.on_reminder = on_reminder  # e.g. mention the people who signed up
        # Returns once the platforms' backlog is read and committed (within a bound).
        self.caught_up = caught_up
        self.metrics = metrics or Metrics()
        # False once this instance's lease has run out (bot/leadership.py): asked right
        # before each send, since a leader stopped between its claim and its send may
        # wake up after another instance took over.
        self.may_post = may_post
        self._locks: dict[int, asyncio.Lock] = {}
        self._after_close = Background("after closing a chat")
        self.notices = Notices(store=store, platforms=platforms, alarm=alarm, clock=clock)
        self.notices.may_post = may_post

    async def add(self, plan: SessionPlan, steps: list[PlannedStep]) -> int:
        """Store a session (once) and set its alarm; steps already past at creation are
        quietly skipped, since nobody missed them: they were never planned."""
        now = self.clock.now()
        session_id = await self.store.ensure_session(plan, steps, now)
        row = await self.store.session(session_id)
        if row.created_at == now:
            for step in steps:
                if step.due_at < now and step.kind is StepKind.REMINDER:
                    for channel in plan.channels:
                        await self.store.finish_post(
                            session_id, step.key, channel, PostState.SKIPPED, now
                        )
        await self.wake(session_id)
        return session_id

    async def restore(self) -> None:
        """Rebuild the in-memory view from the store after a start, before any event is
        read: a message sent while the bot was down must find its chat, whether it is
        under way, due to have started, or closed within the late window."""
        now = self.clock.now()
        for row in await self.store.open_sessions():
            steps = await self.store.steps(row.id)
            if row.state == "planned" and now >= _due(steps, StepKind.WELCOME):
                row = await self._go_live(row)
            if row.state == "live":
                live = self.live.open(row.id, row.plan)
                live.built = row.transcript_url is not None  # killed before the close
                await self._restore_questions(live, steps)
        for row in await self.store.closed_since(now - LATE_WINDOW):
            steps = await self.store.steps(row.id)
            start, end = _due(steps, StepKind.WELCOME), _due(steps, StepKind.CLOSING)
            await self._restore_questions(
                self.live.closed_recently(row.id, row.plan, start, end), steps
            )

    async def resume(self) -> None:
        """Set the alarms again after a start (after :meth:`restore`)."""
        for row in await self.store.open_sessions():
            await self.wake(row.id)

    async def _restore_questions(self, live: LiveSession, steps: list[StepRow]) -> None:
        """Which questions count, and which posts are questions, as stored."""
        replay_posts(live, steps, (await self.store.posts(live.id)).values())

    async def _go_live(self, row: SessionRow) -> SessionRow:
        await self.store.set_state(row.id, "live")
        row = await self.store.session(row.id)
        await self._slow_mode(row, row.plan.slow_mode_seconds)
        return row

    def lock(self, session_id: int) -> asyncio.Lock:
        """Held while a session's timeline is read or changed: an alarm and a moderator's
        command may reach the same session at once."""
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def wake(self, session_id: int) -> None:
        """Do what is due now, then set the alarm for the next pending step.

        The session and its steps are read once, under the lock, and handed on: when a
        thousand chats' steps fall due in the same second, every read before the post
        delays the last of them.
        """
        async with self.lock(session_id):
            row = await self.store.session(session_id)
            steps = await self.store.steps(session_id)
            if self.caught_up is None or not self._closing(row, steps):
                await self.wake_locked(session_id, row, steps)
                return
        # Outside the lock: reading the backlog may take a moderator's command.
        await self.caught_up()
        async with self.lock(session_id):
            await self.wake_locked(session_id)

    def _closing(self, row: SessionRow, steps: list[StepRow]) -> bool:
        """True when the transcript is due and not yet built."""
        if row.state == "closed" or row.transcript_url is not None:
            return False
        return self.clock.now() >= _due(steps, StepKind.TRANSCRIPT)

    async def wake_locked(
        self, session_id: int, row: SessionRow | None = None, steps: list[StepRow] | None = None
    ) -> None:
        """``row`` and ``steps``: as just read under the lock, else read here."""
        row = row or await self.store.session(session_id)
        if row.state == "closed":
            self.alarm.cancel(f"session:{session_id}")
            return
        now = self.clock.now()
        steps = steps or await self.store.steps(session_id)
        welcome = _due(steps, StepKind.WELCOME)  # the stored time: it may have moved
        if row.state == "planned" and now >= welcome:
            row = await self._go_live(row)
        if row.state == "live":
            self.live.open(row.id, row.plan)
        if row.paused_at is not None:
            self.alarm.cancel(f"session:{session_id}")
            return  # a moderator paused the chat; resume sets the alarm again
        posts = await self.store.posts(session_id)
        missed: list[str] = []
        texts = Texts(row.plan)
        for step in steps:
            if step.due_at > now:
                break
            if step.kind is StepKind.REMINDER and now >= welcome:
                await self._drop_reminder(row, step, posts, now)
                continue
            if step.kind is StepKind.TRANSCRIPT and not settled(
                await self.store.posts(row.id), steps, step, row.plan.channels
            ):
                break  # a refused step waits for its retry; the link and the close follow it
            for channel in row.plan.channels:
                post = posts.get((step.key, channel))
                if post is None:
                    if await self._run_step(row, step, channel, now, texts):
                        missed.append(texts.step_label(step.key))
                elif post.state is PostState.SENDING:
                    await self._interrupted(row, step, post, texts)
            if (
                step.kind is StepKind.REMINDER
                and self.on_reminder is not None
                and timing(step.kind, step.due_at, now, self.grace) is not Timing.MISSED
            ):
                await self.on_reminder(row, step)
            if step.kind is StepKind.TRANSCRIPT and done_everywhere(
                await self.store.posts(row.id), step, row.plan.channels
            ):
                await self._close(row, steps)
                return
        if missed:
            await self.notify_moderators(row.plan, texts.missed_notice(sorted(set(missed))))
        await self._set_alarm(session_id, row.plan.channels, steps)

    async def _drop_reminder(
        self,
        row: SessionRow,
        step: StepRow,
        posts: Mapping[tuple[str, str], PostRow],
        now: datetime,
    ) -> None:
        """A reminder is never posted once its chat has started ("starts in 1 minute"
        after the start), nor resent; nobody needs to be told it was not."""
        for channel in undone(posts, step, row.plan.channels):
            await self.store.finish_post(row.id, step.key, channel, PostState.SKIPPED, now)
            log.info("%s: %s dropped in %s: too late", row.plan.slug, step.key, channel)

    async def _set_alarm(
        self, session_id: int, channels: tuple[str, ...], steps: list[StepRow]
    ) -> None:
        """Wake for the next future step; a refused send already has its own retry alarm."""
        posts = await self.store.posts(session_id)
        now = self.clock.now()
        pending = [
            s.due_at
            for s in steps
            if s.due_at > now and any((s.key, ch) not in posts for ch in channels)
        ]
        if pending:
            self.alarm.wake_at(f"session:{session_id}", min(pending), lambda: self.wake(session_id))

    async def _run_step(
        self, row: SessionRow, step: StepRow, channel: str, now: datetime, texts: Texts
    ) -> bool:
        """Post one step in one channel; True when it was missed and skipped instead."""
        when = timing(step.kind, step.due_at, now, self.grace)
        if when is Timing.MISSED:
            await self.store.finish_post(row.id, step.key, channel, PostState.SKIPPED, now)
            log.warning(
                "%s: skipped %s in %s, missed by %s",
                row.plan.slug,
                step.key,
                channel,
                now - step.due_at,
            )
            return True
        text = await self._text(row, step, texts)
        if when is Timing.LATE:
            text = f"{text}\n\n{texts.late_note(now - step.due_at)}"
        if not await self.store.claim_post(row.id, step.key, channel, now):
            return False
        if step.question is not None:
            self.live.question_claimed(row.id, step.question, channel)
        await self._send(row, step, channel, text, late=when is Timing.LATE)
        return False

    async def _text(self, row: SessionRow, step: StepRow, texts: Texts) -> str:
        planned = texts.planned(step.kind, step.key, step.question)
        if planned is not None:
            return planned
        url = (await self.store.session(row.id)).transcript_url  # the transcript link
        if url is None:  # published once, however many channels link to it
            self.live.transcript_built(row.id)  # what comes next rebuilds it
            url = await self.publish(row.id)
            await self.store.set_transcript_url(row.id, url)
            if not public_link(url):  # news, not a problem: only their own channels
                notice = texts.unpublished_notice(files_of(url))
                await self.notices.tell(row.plan.moderator_channels, notice)
        if not public_link(url):  # a file:// link would open nothing for them
            return texts.transcript_unlinked()
        return texts.transcript_link(url)

    async def _send(
        self, row: SessionRow, step: StepRow, channel: str, text: str, *, late: bool
    ) -> None:
        ref = ChannelRef.parse(channel)
        platform = self.platforms.get(ref.platform)
        key = f"{row.id}:{step.key}:{channel}"
        try:
            if platform is None:
                raise PlatformError(f"platform {ref.platform!r} is not configured")
            if not self.may_post():
                log.error(
                    "%s: not posting %s in %s: the lease ran out", row.plan.slug, step.key, channel
                )
                return  # the claim stays: the new leader settles it by the restart rules
            sent = await platform.send(
                ref,
                text,
                idempotency_key=key,
                reply_to=await self._chain_to(row, step, channel, platform),
                thread_title=text.partition("\n")[0] if step.kind is StepKind.QUESTION else None,
            )
        except DeliveryUncertain as exc:
            log.error("%s: %s in %s may not be posted: %s", row.plan.slug, step.key, channel, exc)
            self.metrics.platform_error(ref.platform, "uncertain")
            if platform is not None and platform.capabilities.idempotent_send:
                # The same key cannot post twice, so trying again settles the doubt; the
                # claim stays, with the first attempt's time.
                self._retry_later(row, step, channel)
                return
            await self._uncertain(row, step, channel)
            return
        except PlatformError as exc:
            # The platform said no, so nothing was posted.
            log.error("%s: could not post %s in %s: %s", row.plan.slug, step.key, channel, exc)
            self.metrics.platform_error(ref.platform, "refused")
            await self.store.release_post(row.id, step.key, channel)
            if step.question is not None:
                self.live.question_settled(row.id, step.question, channel, shown=False)
            self._retry_later(row, step, channel)
            return
        await self.store.finish_post(
            row.id,
            step.key,
            channel,
            PostState.SENT,
            self.clock.now(),
            message_id=sent.id,
            url=sent.url,
            late=late,
        )
        self.metrics.step_posted(ref.platform, (self.clock.now() - step.due_at).total_seconds())
        if step.question is not None:
            self.live.question_settled(row.id, step.question, channel, shown=True, ref=sent)

    async def _uncertain(self, row: SessionRow, step: StepRow, channel: str) -> None:
        """Maybe posted, and a resend could post twice: the moderators check. A question
        counts as posted meanwhile, since its number may have been announced."""
        await self.store.finish_post(
            row.id, step.key, channel, PostState.UNCERTAIN, self.clock.now()
        )
        if step.question is not None:
            self.live.question_settled(row.id, step.question, channel, shown=True)
        texts = Texts(row.plan)
        await self.notify_moderators(
            row.plan, texts.uncertain_notice(texts.step_label(step.key), channel), exclude=channel
        )

    def _retry_later(self, row: SessionRow, step: StepRow, channel: str) -> None:
        """Try again shortly: a released claim anew (skipped and reported past the grace
        window), a kept one with the same key."""
        self.alarm.wake_at(
            f"retry:{row.id}:{step.key}:{channel}",
            self.clock.now() + RETRY_FAILED_SEND,
            lambda: self.wake(row.id),
        )

    async def _chain_to(
        self, row: SessionRow, step: StepRow, channel: str, platform: Platform
    ) -> str | None:
        """On a platform where a chat reads as one thread, the post this step answers."""
        if not platform.capabilities.reply_chain or step.kind in (
            StepKind.REMINDER,
            StepKind.WELCOME,
        ):
            return None
        return await self.store.latest_post(row.id, channel, exclude_prefix="reminder:")

    async def _interrupted(
        self, row: SessionRow, step: StepRow, post: PostRow, texts: Texts
    ) -> None:
        """A send was in flight when the bot stopped, or its answer was lost: resend only
        where the platform guarantees a retry cannot post twice, and within the grace
        window; otherwise ask the moderators to check.

        The resend is the first attempt again: the same text, its time and its lateness
        (shown once by the platform, it was posted when first tried, if it got through).
        """
        channel = post.channel
        platform = self.platforms.get(ChannelRef.parse(channel).platform)
        now = self.clock.now()
        if (
            platform is not None
            and platform.capabilities.idempotent_send
            and timing(step.kind, step.due_at, now, self.grace) is not Timing.MISSED
        ):
            first = post.attempted_at or now
            when = timing(step.kind, step.due_at, first, self.grace)
            text = await self._text(row, step, texts)
            if when is Timing.LATE:
                text = f"{text}\n\n{texts.late_note(first - step.due_at)}"
            await self._send(row, step, channel, text, late=when is Timing.LATE)
            return
        await self._uncertain(row, step, channel)

    async def _slow_mode(self, row: SessionRow, seconds: int) -> None:
        await set_slow_mode(
            row, seconds, store=self.store, platforms=self.platforms, clock=self.clock
        )

    async def _close(self, row: SessionRow, steps: list[StepRow]) -> None:
        await self._slow_mode(row, 0)
        await self.store.set_state(row.id, "closed")
        start, end = _due(steps, StepKind.WELCOME), _due(steps, StepKind.CLOSING)
        self.live.close(row.id, started_at=start, ended_at=end)
        self.alarm.cancel(f"session:{row.id}")
        self._locks.pop(row.id, None)
        log.info("%s: closed", row.plan.slug)
        if self.on_closed is not None:
            # Not awaited here, under the chat's lock: the planner holds its own lock
            # while it takes chats' (planning a chat wakes it), so a close that waited
            # for the planner while a pass waited for the closing chat froze both, and
            # every later close behind them. It runs once the lock is let go.
            self._after_close.start(self.on_closed(row.plan), name=f"closed:{row.id}")

    async def idle(self) -> None:
        """Wait until what follows the chats closed so far (their next planning) is done."""
        await self._after_close.idle()

    async def notify_moderators(
        self, plan: SessionPlan, text: str, *, exclude: str | None = None
    ) -> None:
        """Tell the moderators of a problem in their own channels, or else in the chat's."""
        targets = moderator_targets(plan.moderator_channels, plan.channels, exclude)
        log.warning("%s: %s", plan.slug, text)
        await self.notices.tell(targets, text)


def _due(steps: list[StepRow], kind: StepKind) -> datetime:
    return next(s.due_at for s in steps if s.kind is kind)
