"""The composition root: opens the store, starts platforms, runner, tracker and web server,
and stops them all cleanly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from bot.alarm import Alarm
from bot.clock import Clock
from bot.config import Config
from bot.live import LiveIndex
from bot.moderation import Moderation
from bot.planning import session_plan, upcoming
from bot.platforms.base import Platform
from bot.publishing import Publisher
from bot.runner import Runner
from bot.store import MessageWriter, Store
from bot.timeline import SessionPlan, plan_steps
from bot.tracker import Tracker
from bot.web import WebServer

log = logging.getLogger(__name__)


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
        self._tasks: list[asyncio.Task[None]] = []
        self.web: WebServer | None = None

    async def start(self) -> None:
        settings = self.config.bot
        db_path = self.config.resolve(settings.database)
        self.store = await Store.open(db_path)
        self.writer = MessageWriter(db_path)
        await self.writer.start()
        self.transcripts_root = self.config.resolve(settings.transcripts_dir)
        publisher = Publisher(
            store=self.store,
            writer=self.writer,
            root=self.transcripts_root,
            public_url=settings.public_url,
        )
        self.runner = Runner(
            store=self.store,
            platforms=self.platforms,
            alarm=self.alarm,
            clock=self.clock,
            live=self.live,
            publish=publisher,
            grace=settings.grace,
            on_closed=self._closed,
        )
        self.moderation = Moderation(
            config=self.config,
            store=self.store,
            runner=self.runner,
            live=self.live,
            platforms=self.platforms,
        )
        self.tracker = Tracker(
            store=self.store,
            writer=self.writer,
            live=self.live,
            clock=self.clock,
            commands=self.moderation.handle,
        )
        # Live sessions are restored before any event is read: a message sent while the
        # bot was down must find its session, not be taken for chatter outside a chat.
        for platform in self.platforms.values():
            await platform.start()
        await self.runner.resume()
        await self.plan_upcoming()
        for platform in self.platforms.values():
            self._tasks.append(
                asyncio.create_task(self.tracker.consume(platform), name=f"events:{platform.name}")
            )
        if self.serve_web:
            self.web = WebServer(self.transcripts_root, settings.listen_host, settings.listen_port)
            await self.web.start()
            log.info("serving transcripts on http://%s:%d/", self.web.host, self.web.port)

    async def plan_upcoming(self) -> list[int]:
        """Store the next session of every series (idempotent) and set its alarms."""
        ids = []
        for item in upcoming(self.config, self.clock.now()):
            plan = session_plan(self.config, item)
            ids.append(await self.runner.add(plan, plan_steps(plan)))
        return ids

    async def settle(self) -> None:
        """Wait until every event from in-process platforms is handled and committed."""
        for platform in self.platforms.values():
            drained = getattr(platform, "drained", None)
            if drained is not None:
                await drained()
        await self.writer.flush()

    async def _closed(self, plan: SessionPlan) -> None:
        await self.plan_upcoming()

    async def stop(self) -> None:
        """Close platforms first so no new event arrives, then commit what is queued."""
        for platform in self.platforms.values():
            await platform.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.writer.close()
        if self.web:
            await self.web.close()
        await self.store.close()
