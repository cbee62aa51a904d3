"""The composition root: opens the store, starts platforms, runner, tracker and web server,
and stops them all cleanly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import collector
from bot.actions import Mutes
from bot.agenda_overrides import plan_for
from bot.alarm import Alarm
from bot.backlog import Rebuilds, caught_up
from bot.clock import Clock
from bot.commands import Services
from bot.config import CommunityConfig, Config, database_password
from bot.console.mount import ConsoleMount
from bot.domain import ChannelRef, IncomingMessage
from bot.errors import ConfigError
from bot.i18n import Messages
from bot.live import LiveIndex
from bot.moderation import Moderation
from bot.notices import moderator_targets
from bot.ops.endpoints import OpsMount
from bot.ops.metrics import Metrics
from bot.participation import HOST_REMINDER_BEFORE, deliver_reminders, host_for, remind_host
from bot.planning import Upcoming
from bot.platform_host import PlatformHost
from bot.platforms.base import Platform, PlatformError, ScheduledChat, WebhookReceiver
from bot.privacy import OptOuts, purge_expired
from bot.publishing import Publisher
from bot.replanning import Replanner
from bot.runner import Runner
from bot.schedule_exceptions import upcoming_chats
from bot.site.mount import SiteMount
from bot.standby import LEADER_ONLY, LeaderOnlyPages, Standby
from bot.steering import Steering
from bot.store import MessageWriter, PostState, SessionRow, StepRow, Store
from bot.store.moderation import MuteStore
from bot.store.participation import HostRota
from bot.store.privacy import PrivacyStore
from bot.timeline import SessionPlan, plan_steps, reminder_offset
from bot.tracker import Admission, Tracker
from bot.web import WebMount, WebServer

log = logging.getLogger(__name__)

REPLAN_EVERY = timedelta(hours=1)
# Pseudo-channels under which once-only deliveries are claimed in the posts table.
SIGNUPS, HOST = "signups", "host"


class App:
    def __init__(
        self,
        config: Config,
        *,
        platforms: Mapping[str, Platform],
        clock: Clock,
        alarm: Alarm,
        serve_web: bool = True,
    ) -> None:
        self.config = config
        self.platforms = platforms
        self.clock = clock
        self.alarm = alarm
        self.serve_web = serve_web and config.bot.public_url is not None
        self.live = LiveIndex()
        self.metrics = Metrics()
        self._tasks: list[asyncio.Task[None]] = []
        self.web: WebServer | None = None
        # The parts of the site with routes of their own, added before the server starts.
        self.web_mounts: list[WebMount] = []
        if self.serve_web:
            self.web_mounts.append(SiteMount(self))  # the community site (bot/site/)
        self.web_mounts.append(ConsoleMount(self))  # the moderators' console, /console/
        self._exit = AsyncExitStack()
        self._hosts: list[PlatformHost] = []
        self._planning = asyncio.Lock()  # the hourly pass, a chat's close and a reload
        self.leads = False  # set once lead() has started everything
        # With several instances, Leadership.may_post: still within the lease.
        self.may_post: Callable[[], bool] = lambda: True

    async def start(self) -> None:
        """Open, lead, serve: what one instance alone does (the demo, the tests)."""
        await self.open()
        await self.lead()
        await self.serve()

    # Three parts, because several ``hashchat run`` processes may share one database
    # (bot/instance.py, bot/leadership.py): every one opens the store and serves the web
    # pages (/health, /ready, the site), but only the one holding the lease may read the
    # platforms and post, so only it runs lead(). A standby's webhook routes answer 503
    # until it leads, so the platform delivers those updates again. If any part fails,
    # what was already started is stopped again.

    async def open(self) -> None:
        await self._guarded(self._open())

    async def lead(self) -> None:
        """The leader's part: platforms, tracker, runner, alarms and planning."""
        await self._guarded(self._lead())

    async def serve(self) -> None:
        """The web server, with every mount; on a leader, after it has started leading."""
        await self._guarded(self._serve())

    async def _guarded(self, part: Coroutine[Any, Any, None]) -> None:
        try:
            await part
        except BaseException:
            await self.stop()
            raise

    async def _open(self) -> None:
        # Each resource registers its own shutdown as soon as it exists; stop() runs them
        # in reverse (platforms before the writer commits, the store last).
        settings = self.config.bot
        db_path, password = self.config.database, database_password(settings)
        self.store = await Store.open(db_path, password=password)
        self._exit.push_async_callback(self.store.close)
        self.transcripts_root = self.config.resolve(settings.transcripts_dir)

    async def _serve(self) -> None:
        settings = self.config.bot
        self.metrics.leader(self.leading())
        webhooks = [
            Standby(p, self.leading)
            for p in self.platforms.values()
            if isinstance(p, WebhookReceiver) and p.webhook_path
        ]
        if self.serve_web or webhooks:
            self.web_mounts.append(OpsMount(self.metrics, self.store.ping, self.role))
            self.web_mounts.append(LeaderOnlyPages(self.leading, self._locale, LEADER_ONLY))
            self.web = WebServer(
                self.transcripts_root,
                settings.listen_host,
                settings.listen_port,
                webhooks,
                self.web_mounts,
            )
            await self.web.start()
            self._exit.push_async_callback(self.web.close)
            log.info("serving transcripts on http://%s:%d/", self.web.host, self.web.port)

    async def _lead(self) -> None:
        settings = self.config.bot
        db_path, password = self.config.database, database_password(settings)
        self.writer = MessageWriter(
            db_path, password=password, on_commit=self.metrics.messages_stored
        )
        await self.writer.start()
        self._exit.push_async_callback(self.writer.close)
        publisher = Publisher(
            store=self.store,
            writer=self.writer,
            root=self.transcripts_root,
            public_url=settings.public_url,
        )
        self.rebuilds = Rebuilds(publisher)  # transcripts of chats with late messages
        self._exit.push_async_callback(self.rebuilds.idle)
        self._exit.push_async_callback(self._drain_readers)
        self.runner = Runner(
            store=self.store,
            platforms=self.platforms,
            alarm=self.alarm,
            clock=self.clock,
            live=self.live,
            publish=publisher,
            grace=settings.grace,
            on_closed=self._closed,
            on_reminder=self._remind_signups,
            caught_up=self._caught_up,
            metrics=self.metrics,
            may_post=self.may_post,
        )
        mutes = Mutes(MuteStore(self.store.db), self.clock)
        await mutes.load()
        optouts = OptOuts(PrivacyStore(self.store.db))
        await optouts.load()
        services = Services(
            store=self.store,
            writer=self.writer,
            steering=Steering(store=self.store, runner=self.runner, clock=self.clock),
            live=self.live,
            mutes=mutes,
            optouts=optouts,
            publish=publisher,
            platforms=self.platforms,
            clock=self.clock,
            public_url=settings.public_url,
        )
        self.moderation = Moderation(config=self.config, services=services, clock=self.clock)
        self.tracker = Tracker(
            store=self.store,
            writer=self.writer,
            live=self.live,
            clock=self.clock,
            gate=self._admit,
            gate_at_once=self._admit_at_once,
            on_late=self.rebuilds.request,
        )
        # Live sessions are restored before any event is read: a message sent while the
        # bot was down must find its session, not be taken for chatter outside a chat.
        # The events are read before the sessions wake: a chat that ended meanwhile
        # closes once what participants said in its last moments is stored.
        self.runner.notices.hold()  # until the platform the moderators read has started
        for name, platform in self.platforms.items():
            host = PlatformHost(
                name,
                store=self.store,
                config=self.config,
                notices=self.runner.notices,
                writer=self.writer,
            )
            self._hosts.append(host)
            await platform.start(host)
            self._exit.push_async_callback(platform.close)
        await self.runner.notices.release()
        # At a stop, what follows a close (its planning) ends while the platforms still run.
        self._exit.push_async_callback(self.runner.idle)
        await self.runner.restore()
        collector.tune()  # before the messages come in bursts
        for platform in self.platforms.values():
            self._tasks.append(
                asyncio.create_task(self.tracker.consume(platform), name=f"events:{platform.name}")
            )
        await self.runner.resume()
        await self.plan_upcoming()
        self.leads = True
        self.metrics.leader(True)

    def leading(self) -> bool:
        """Leads now: has started leading, and (with a lease) is still within it."""
        return self.leads and self.may_post()

    def _locale(self) -> str:
        return self.config.communities[0].locale if self.config.communities else "en"

    def role(self) -> str:
        return "leader" if self.leading() else "standby"

    async def plan_upcoming(self, community: str | None = None) -> None:
        """Store the next session of every series and set its alarms; a chat that has
        not started is planned again from the files as they are now (bot/replanning.py).

        Runs at start-up, every hour and on a reload, so an agenda edited or fixed after
        a problem was reported is picked up in time; after a chat, for its community
        only: a pass over every community at each close made a thousand communities'
        closes a million plannings, and delayed the chats still running.
        """
        async with self._planning:
            await self._plan_upcoming(community)

    async def _plan_upcoming(self, community: str | None) -> None:
        listed: list[tuple[int, SessionPlan]] = []
        now = self.clock.now()
        replanner = Replanner(self.store, self.runner, now, community)
        # The config's schedule with the console's exceptions (a skip, a move, a one-off).
        wanted = await upcoming_chats(self.config, self.store, now, 2, community)
        await replanner.drop_stale({(u.community.id, u.series_id, u.starts_at) for u in wanted})
        for item in await upcoming_chats(self.config, self.store, now, 1, community):
            try:
                plan = await replanner.replan(await plan_for(self.config, self.store, item))
            except ConfigError as exc:
                await self._report_unplannable(item.community, exc)
                continue
            session_id = await self.runner.add(plan, plan_steps(plan))
            await self._plan_host(item, plan, session_id)
            listed.append((session_id, plan))
        await self._sync_events(listed, community)
        if community is not None:
            return  # the hourly pass does the rest
        await purge_expired(self.config, self.store, self.transcripts_root, self.clock.now())
        await self.runner.notices.prune()
        self.alarm.wake_at("planner", self.clock.now() + REPLAN_EVERY, self.plan_upcoming)

    async def reload(self, config: Config) -> None:
        """Run with an edited config that bot/reload.py has checked: same database,
        platforms and channels; schedules, agendas, moderators and rules may differ."""
        self.config = config
        if not self.leads:
            return  # a standby: lead() starts with this config
        for host in self._hosts:
            host.config = config
        self.moderation = Moderation(
            config=config, services=self.moderation.services, clock=self.clock
        )
        await self.plan_upcoming()

    async def _admit(self, platform: Platform, message: IncomingMessage) -> Admission:
        return await self.moderation.admit(platform, message)  # the one of the latest reload

    def _admit_at_once(self, platform: Platform, message: IncomingMessage) -> Admission | None:
        return self.moderation.admit_at_once(platform, message)

    async def _sync_events(
        self, plans: list[tuple[int, SessionPlan]], only: str | None = None
    ) -> None:
        """List the chats not yet over in each channel's platform event listing, where
        it has one; a chat dropped from the plan (a skipped date) is cancelled there.
        ``only``: the channels of that community alone."""
        now = self.clock.now()
        for community in self.config.communities:
            if only is not None and community.id != only:
                continue
            for channel in community.channels:
                ref = ChannelRef.parse(channel)
                platform = self.platforms.get(ref.platform)
                if platform is None or not platform.capabilities.scheduled_events:
                    continue
                chats = [  # keyed by session: two chats on one day share a slug
                    ScheduledChat(str(i), p.title, p.topic, p.starts_at, p.ends_at, slug=p.slug)
                    for i, p in plans
                    if channel in p.channels and p.ends_at > now
                ]
                try:
                    await platform.sync_events(ref, chats)
                except PlatformError as exc:
                    log.error("could not list the upcoming chats in %s: %s", channel, exc)

    async def _remind_signups(self, row: SessionRow, step: StepRow) -> None:
        """Once per reminder, even across restarts: the claim is the proof it was done."""
        if await self.store.claim_post(row.id, step.key, SIGNUPS, self.clock.now()):
            before = reminder_offset(step.key)
            m = Messages(row.plan.locale)
            await deliver_reminders(self.store, self.platforms, row.plan, row.id, before, m)
            await self.store.finish_post(
                row.id, step.key, SIGNUPS, PostState.SENT, self.clock.now()
            )

    async def _plan_host(self, item: Upcoming, plan: SessionPlan, session_id: int) -> None:
        """Give the session its host from the series' rota (a handover is never undone),
        and remind that host the day before."""
        hosts = next((s.hosts for s in item.community.series if s.id == item.series_id), [])
        rota = HostRota(self.store.db)
        index = await rota.occurrence_index(plan.community, plan.series, plan.starts_at)
        if (host := host_for(hosts, index)) is not None:
            await rota.assign_if_unset(session_id, host)
        now = self.clock.now()
        if now < plan.starts_at and await rota.host(session_id) is not None:
            due = max(now, plan.starts_at - HOST_REMINDER_BEFORE)
            self.alarm.wake_at(
                f"host:{session_id}", due, lambda: self._remind_host(plan, session_id)
            )

    async def _remind_host(self, plan: SessionPlan, session_id: int) -> None:
        if await self.store.claim_post(session_id, "host-reminder", HOST, self.clock.now()):
            await remind_host(self.store, self.platforms, plan, session_id, Messages(plan.locale))
            await self.store.finish_post(
                session_id, "host-reminder", HOST, PostState.SENT, self.clock.now()
            )

    async def _report_unplannable(self, community: CommunityConfig, exc: ConfigError) -> None:
        problems = "; ".join(str(p) for p in exc.problems)
        log.error("%s: the next chat cannot be planned: %s", community.id, problems)
        text = Messages(community.locale).gettext(
            "To the moderators of {hashtag}: the next chat cannot be planned until this is"
            " fixed: {problems}",
            hashtag=community.hashtag,
            problems=problems,
        )
        channels = moderator_targets(community.moderator_channels, community.channels)
        day = self.clock.now().astimezone(ZoneInfo(community.timezone)).date()
        await self.runner.notices.tell(channels, text, once=f"unplannable {problems} {day}")

    async def settle(self) -> None:
        """Wait until every event from in-process platforms is handled and committed."""
        for platform in self.platforms.values():
            drained = getattr(platform, "drained", None)
            if drained is not None:
                await drained()
        await self.writer.flush()
        await self.rebuilds.idle()
        await self.runner.idle()

    async def _caught_up(self) -> None:
        """The platforms' backlog is read (within a bound) and committed."""
        await caught_up(self.platforms.values())
        await self.writer.flush()

    async def _closed(self, plan: SessionPlan) -> None:
        await self.plan_upcoming(plan.community)

    async def _drain_readers(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Platforms close first so no new event arrives; what is queued is then committed."""
        await self._exit.aclose()
