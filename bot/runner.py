"""Runs each session's timeline: posts every due step once, in every channel, on time.

The store is the truth. Every wake-up re-reads the session's steps and posts, does what
is due, and asks the alarm for the next wake-up, so a restart simply wakes up again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.alarm import Alarm
from bot.clock import Clock
from bot.domain import ChannelRef, MessageRef
from bot.live import LiveIndex
from bot.notices import tell_moderators
from bot.platforms.base import DeliveryUncertain, Platform, PlatformError
from bot.store import PostState, SessionRow, StepRow, Store
from bot.store.audit import Action
from bot.texts import Texts
from bot.timeline import PlannedStep, SessionPlan, StepKind, Timing, reminder_offset, timing

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
        on_closed: Callable[[SessionPlan], Awaitable[None]] | None = None,
        on_reminder: Callable[[SessionRow, StepRow], Awaitable[None]] | None = None,
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
        self._locks: dict[int, asyncio.Lock] = {}

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

    async def resume(self) -> None:
        """Rebuild the in-memory view and the alarms from the store after a start."""
        for row in await self.store.open_sessions():
            if row.state == "live":
                await self._restore_live(row)
            await self.wake(row.id)

    async def _restore_live(self, row: SessionRow) -> None:
        self.live.open(row.id, row.plan)
        steps = {s.key: s for s in await self.store.steps(row.id)}
        for post in (await self.store.posts(row.id)).values():
            step = steps.get(post.step_key)
            if step and step.question and post.state is PostState.SENT and post.message_id:
                ref = MessageRef(ChannelRef.parse(post.channel), post.message_id)
                self.live.question_posted(row.id, step.question, ref)

    def lock(self, session_id: int) -> asyncio.Lock:
        """Held while a session's timeline is read or changed: an alarm and a moderator's
        command may reach the same session at once."""
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def wake(self, session_id: int) -> None:
        """Do what is due now, then set the alarm for the next pending step."""
        async with self.lock(session_id):
            await self.wake_locked(session_id)

    async def wake_locked(self, session_id: int) -> None:
        row = await self.store.session(session_id)
        if row.state == "closed":
            self.alarm.cancel(f"session:{session_id}")
            return
        now = self.clock.now()
        steps = await self.store.steps(session_id)
        welcome = next(s.due_at for s in steps if s.kind is StepKind.WELCOME)
        if row.state == "planned" and now >= welcome:  # the stored time: it may have moved
            await self.store.set_state(row.id, "live")
            row = await self.store.session(session_id)
            await self._slow_mode(row, row.plan.slow_mode_seconds)
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
            if step.kind is StepKind.TRANSCRIPT and not await self._settled(row, steps, step):
                break  # a refused step waits for its retry; the link and the close follow it
            for channel in row.plan.channels:
                post = posts.get((step.key, channel))
                if post is None:
                    if await self._run_step(row, step, channel, now, texts):
                        missed.append(texts.step_label(step.key))
                elif post.state is PostState.SENDING:
                    await self._interrupted(row, step, channel, texts)
            if (
                step.kind is StepKind.REMINDER
                and self.on_reminder is not None
                and timing(step.kind, step.due_at, now, self.grace) is not Timing.MISSED
            ):
                await self.on_reminder(row, step)
            if step.kind is StepKind.TRANSCRIPT and await self._posted_everywhere(row, step):
                await self._close(row)
                return
        if missed:
            await self.notify_moderators(row.plan, texts.missed_notice(sorted(set(missed))))
        await self._set_alarm(session_id)

    async def _settled(self, row: SessionRow, steps: list[StepRow], until: StepRow) -> bool:
        """True once every step before ``until`` is done with in every channel (sent,
        uncertain or skipped): a closing refused just before the transcript link would
        otherwise never be retried, as the chat closes with the link."""
        posts = await self.store.posts(row.id)
        return all(
            (step.key, channel) in posts
            for step in steps
            if step.seq < until.seq
            for channel in row.plan.channels
        )

    async def _posted_everywhere(self, row: SessionRow, step: StepRow) -> bool:
        """True once no channel still waits for ``step`` (a refused post is retried)."""
        posts = await self.store.posts(row.id)
        return all((step.key, channel) in posts for channel in row.plan.channels)

    async def _set_alarm(self, session_id: int) -> None:
        """Wake for the next future step; a refused send already has its own retry alarm."""
        posts = await self.store.posts(session_id)
        channels = (await self.store.session(session_id)).plan.channels
        now = self.clock.now()
        pending = [
            s.due_at
            for s in await self.store.steps(session_id)
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
        await self._send(row, step, channel, text, late=when is Timing.LATE)
        return False

    async def _text(self, row: SessionRow, step: StepRow, texts: Texts) -> str:
        match step.kind:
            case StepKind.REMINDER:
                return texts.reminder(reminder_offset(step.key))
            case StepKind.WELCOME:
                return texts.welcome()
            case StepKind.QUESTION:
                assert step.question is not None
                return texts.question(step.question)
            case StepKind.CLOSING:
                return texts.closing()
            case StepKind.TRANSCRIPT:
                url = (await self.store.session(row.id)).transcript_url
                if url is None:  # published once, however many channels link to it
                    url = await self.publish(row.id)
                    await self.store.set_transcript_url(row.id, url)
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
            sent = await platform.send(
                ref,
                text,
                idempotency_key=key,
                reply_to=await self._chain_to(row, step, channel, platform),
                thread_title=text.partition("\n")[0] if step.kind is StepKind.QUESTION else None,
            )
        except DeliveryUncertain as exc:
            if platform is not None and platform.capabilities.idempotent_send:
                # The same key cannot post twice, so trying again settles the doubt.
                await self._retry_later(row, step, channel, exc)
                return
            await self.store.finish_post(
                row.id, step.key, channel, PostState.UNCERTAIN, self.clock.now()
            )
            texts = Texts(row.plan)
            await self.notify_moderators(
                row.plan,
                texts.uncertain_notice(texts.step_label(step.key), channel),
                exclude=channel,
            )
            return
        except PlatformError as exc:
            # The platform said no, so nothing was posted.
            await self._retry_later(row, step, channel, exc)
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
        if step.kind is StepKind.QUESTION and step.question is not None:
            self.live.question_posted(row.id, step.question, sent)

    async def _retry_later(
        self, row: SessionRow, step: StepRow, channel: str, exc: PlatformError
    ) -> None:
        """Drop the claim and try again shortly; past the grace window the step is
        skipped and reported as missed."""
        log.error("%s: could not post %s in %s: %s", row.plan.slug, step.key, channel, exc)
        await self.store.release_post(row.id, step.key, channel)
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
        self, row: SessionRow, step: StepRow, channel: str, texts: Texts
    ) -> None:
        """A send was in flight when the bot stopped: resend only where the platform
        guarantees a retry cannot post twice; otherwise ask the moderators to check."""
        ref = ChannelRef.parse(channel)
        platform = self.platforms.get(ref.platform)
        if platform is not None and platform.capabilities.idempotent_send:
            await self._send(row, step, channel, await self._text(row, step, texts), late=True)
            return
        await self.store.finish_post(
            row.id, step.key, channel, PostState.UNCERTAIN, self.clock.now()
        )
        await self.notify_moderators(
            row.plan, texts.uncertain_notice(texts.step_label(step.key), channel), exclude=channel
        )

    async def _slow_mode(self, row: SessionRow, seconds: int) -> None:
        """Slow mode for the chat hour, where configured and where the platform has it."""
        if not row.plan.slow_mode_seconds:
            return
        for channel in row.plan.channels:
            ref = ChannelRef.parse(channel)
            platform = self.platforms.get(ref.platform)
            if platform is None or not platform.capabilities.slow_mode:
                continue
            try:
                await platform.set_slow_mode(ref, seconds)
            except PlatformError as exc:
                log.error("%s: could not set slow mode in %s: %s", row.plan.slug, channel, exc)
                continue
            await self.store.audit.record(
                Action(
                    community=row.plan.community,
                    session_id=row.id,
                    action="slowmode",
                    actor="rule:slow-mode",
                    actor_name="slow mode",
                    target=channel,
                    reason=f"{seconds}s" if seconds else "off",
                    at=self.clock.now(),
                )
            )

    async def _close(self, row: SessionRow) -> None:
        await self._slow_mode(row, 0)
        await self.store.set_state(row.id, "closed")
        self.live.close(row.id)
        self.alarm.cancel(f"session:{row.id}")
        self._locks.pop(row.id, None)
        log.info("%s: closed", row.plan.slug)
        if self.on_closed is not None:
            await self.on_closed(row.plan)

    async def notify_moderators(
        self, plan: SessionPlan, text: str, *, exclude: str | None = None
    ) -> None:
        """Tell the moderators in their own channels, or else in the chat's channels."""
        targets = [c for c in (plan.moderator_channels or plan.channels) if c != exclude]
        log.warning("%s: %s", plan.slug, text)
        await tell_moderators(self.platforms, targets, text)
