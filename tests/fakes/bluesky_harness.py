"""Driving the Bluesky adapter in tests: the stand-in as its own process (started once
per test module, reset before each test), the adapter through the real ``atproto`` SDK
pointed at it, and conditions waited for with a deadline."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.clock import ManualClock
from bot.domain import ChannelRef, PlatformEvent
from bot.platforms.base import Alert
from bot.platforms.bluesky.config import BlueskyOptions
from bot.platforms.bluesky.platform import BlueskyPlatform
from tests.e2e.process import ROOT, python_module

HASHTAG = ChannelRef("bluesky", "hcsmeu")
POLL = 0.05
DEADLINE = 10.0


async def until(check: Callable[[], bool], what: str, within: float = DEADLINE) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(POLL)


class Host:
    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.alerts: list[Alert] = []

    async def cursor(self, key: str) -> str | None:
        return self.cursors.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        self.cursors[key] = value

    async def move_cursor(self, key: str, value: str) -> None:
        await self.set_cursor(key, value)

    async def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)


class StandIn:
    """The stand-in process's control API (one session per test's event loop)."""

    def __init__(self, described: dict[str, Any]) -> None:
        self.url = str(described["base_url"])
        self.handle = str(described["handle"])
        self.password = str(described["app_password"])
        self.http = aiohttp.ClientSession(base_url=self.url)

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, f"/_control/{path}", json=body) as answer:
            data = await answer.json()
            assert answer.status < 400, f"{method} {path}: {answer.status} {data}"
            return data

    async def say(self, who: str, text: str, reply_to: str | None = None) -> str:
        body = {"who": who, "text": text, "reply_to": reply_to}
        return str((await self.control("POST", "posts", body))["uri"])

    async def bot_posts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self.control("GET", "posts"))["posts"]
        return found

    async def close(self) -> None:
        await self.http.close()


@contextmanager
def standin_process(workdir: Path) -> Iterator[dict[str, Any]]:
    """The stand-in as its own process, for a whole test module: what its ready file
    says. Each test resets it (``POST /_control/reset``)."""
    ready = workdir / "bluesky-ready.json"
    log = (workdir / "bluesky-standin.log").open("wb")
    args = python_module("tests.fakes.bluesky_process", "--port", "0", "--ready-file", str(ready))
    child = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert child.poll() is None, "the Bluesky stand-in exited"
            assert time.monotonic() < deadline, "the Bluesky stand-in did not start"
            time.sleep(POLL)
        yield json.loads(ready.read_text(encoding="utf-8"))
    finally:
        child.terminate()
        child.wait(15)
        log.close()


class Running:
    """An adapter started against the stand-in, its events collected as they come and
    acknowledged (as the core does once stored) unless ``hold`` says not to."""

    def __init__(self, platform: BlueskyPlatform) -> None:
        self.platform = platform
        self.events: list[PlatformEvent] = []
        self.hold: Callable[[PlatformEvent], bool] = lambda event: False
        self._task: asyncio.Task[None] | None = None

    async def _consume(self) -> None:
        async for event in self.platform.events():
            self.events.append(event)
            if not self.hold(event):
                await self.platform.acknowledge(event)

    def texts(self) -> list[str]:
        return [getattr(e, "text", "") for e in self.events]


def adapter(server: StandIn, clock: ManualClock, **options: Any) -> BlueskyPlatform:
    defaults: dict[str, Any] = {
        "token_env": "BLUESKY_APP_PASSWORD",
        "handle": server.handle,
        "service": server.url,
        "jetstream": server.url.replace("http://", "ws://"),
        "request_timeout": 5,
    }
    moderators = options.pop("moderators", ())
    backoff = options.pop("backoff", None)
    password = options.pop("password", server.password)
    extra: dict[str, Any] = {} if backoff is None else {"backoff": backoff}
    return BlueskyPlatform(
        options=BlueskyOptions(**{**defaults, **options}),
        password=password,
        channels=[HASHTAG],
        clock=clock,
        keep_tags={"hcsmeu"},
        moderators=moderators,
        **extra,
    )


@asynccontextmanager
async def running(platform: BlueskyPlatform, host: Host) -> AsyncIterator[Running]:
    await platform.start(host)
    run = Running(platform)
    run._task = asyncio.create_task(run._consume())
    try:
        await asyncio.wait_for(platform.caught_up(), DEADLINE)
        yield run
    finally:
        await platform.close()
        await asyncio.wait_for(run._task, DEADLINE)
