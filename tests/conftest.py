"""Shared fixtures: a whole hashchat on the local platform, driven by a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.alarm import ManualAlarm
from bot.app import App
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.domain import UserRef
from bot.platforms.base import Platform
from bot.platforms.local.platform import LocalPlatform

# Store contract tests take ``db_location``: each runs on SQLite and on PostgreSQL.
pytest_plugins = ["tests.backends"]

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 3, 4, 13, 0, tzinfo=PARIS)  # a Wednesday
MOD = UserRef("local", "mod", "Moderator")

AGENDA = """
title = "Patients as partners"
topic = "Co-design in digital health"
welcome = "Welcome everyone!"
rules = "Be kind."
closing = "Thanks all."

[[questions]]
text = "What does partnership mean to you?"
at = "10m"

[[questions]]
text = "Which tool helped most?"
at = "20m"

[[questions]]
text = "What should change first?"
at = "30m"
"""


def chat_config(
    tmp: Path,
    *,
    channels: tuple[str, ...] = ("local:main", "local:side"),
    extra: str = "",
    settings: str = "",
    start: datetime = START,
    reminders: tuple[str, ...] = ("1h", "10m"),
    moderator_channels: tuple[str, ...] = ("local:mods",),
    database: str = "chat.db",
) -> Config:
    """The March chat of #hcsmeu; ``settings`` go into its community's table, ``extra``
    (sub-tables such as another series) after it."""
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    text = f"""
[bot]
database = "{database}"
transcripts_dir = "pages"
grace = "5m"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
locale = "en"
timezone = "Europe/Paris"
moderators = ["local:mod"]
channels = {list(channels)!r}
moderator_channels = {list(moderator_channels)!r}
{settings}

[[communities.sessions]]
id = "march"
at = {start.astimezone(PARIS).replace(tzinfo=None).isoformat()}
duration = "60m"
agenda = "agenda.toml"
reminders = {list(reminders)!r}
{extra}
""".replace("'", '"')
    return parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)


class Chat:
    """One community's chat: the platform and the clock outlive the bot, so it can restart."""

    def __init__(
        self,
        tmp: Path,
        config: Config,
        *,
        adapters: Mapping[str, Platform] = {},
        clock: ManualClock | None = None,
    ) -> None:
        self.tmp = tmp
        self.config = config
        self.clock = clock or ManualClock(START - timedelta(hours=2))
        self.local = LocalPlatform(self.clock, admins=[MOD])
        # Real adapters talking to stand-ins on loopback, beside the local platform.
        self.adapters = dict(adapters)
        self.app: App | None = None

    async def boot(self, *, serve_web: bool = False) -> App:
        self.alarm = ManualAlarm(self.clock)
        self.app = App(
            self.config,
            platforms={"local": self.local, **self.adapters},
            clock=self.clock,
            alarm=self.alarm,
            serve_web=serve_web,
        )
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        assert self.app is not None
        await self.app.stop()
        self.app = None

    async def at(self, minutes: float) -> None:
        """Run the bot until ``minutes`` after the chat's start (negative: before it)."""
        assert self.app is not None
        await self.app.settle()
        await self.alarm.run_until(START + timedelta(minutes=minutes))
        await self.app.settle()

    def posts(self, channel: str = "local:main") -> list[str]:
        return [m.text for m in self.local.bot_posts(channel)]


@pytest.fixture
async def chat(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Chat]:
    """In a module marked ``both_backends``, once on SQLite and once on PostgreSQL."""
    database = "chat.db"
    if request.node.get_closest_marker("both_backends"):
        database = str(request.getfixturevalue("db_location"))
    c = Chat(tmp_path, chat_config(tmp_path, database=database))
    await c.boot()
    yield c
    if c.app is not None:
        await c.stop()
