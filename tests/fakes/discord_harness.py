"""A whole hashchat whose community runs in channels of the stand-in Discord."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import PlatformSettings
from bot.domain import IncomingMessage, MessageDeleted, MessageEdited, PlatformEvent
from bot.platforms.discord.platform import DiscordPlatform, from_config
from tests.conftest import START, Chat, chat_config
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_world import MANAGE_MESSAGES

TOKEN_ENV = "HASHCHAT_TEST_DISCORD_TOKEN"


class Server:
    """The stand-in Discord with a community's channels, people and roles."""

    def __init__(self, fake: FakeDiscord, clock: ManualClock) -> None:
        self.fake = fake
        self.world = fake.world
        self.clock = clock
        w = self.world
        self.chat = w.add_channel("chat")
        self.threaded = w.add_channel("chat-threads")
        self.helpers = w.add_role("helpers", MANAGE_MESSAGES)
        self.hosts = w.add_role("chat hosts")  # no permissions: configured as moderators
        self.ann = w.add_person("Ann")
        self.bob = w.add_person("Bob")
        self.hélène = w.add_person("Hélène", roles=(self.helpers,))
        self.carl = w.add_person("Carl", roles=(self.hosts,))

    def bot_texts(self, channel_id: int) -> list[str]:
        return [
            m["content"]
            for m in self.world.in_channel(channel_id)
            if m["author"]["id"] == str(self.world.bot.id)
        ]

    def platform_settings(self, *, threads: bool = False) -> str:
        lines = [
            "[platforms.discord]",
            f'token_env = "{TOKEN_ENV}"',
            f'api_url = "{self.fake.api_base}"',
            f'moderator_roles = ["{self.hosts}"]',
        ]
        if threads:
            lines.append(f'thread_per_question = ["{self.threaded}"]')
        return "\n".join(lines)

    def adapter(self, chat_dir: Path, channels: tuple[str, ...], extra: str = "") -> Chat:
        """``extra``: more TOML after the March chat (another session, say)."""
        threads = f"discord:{self.threaded}" in channels
        settings = self.platform_settings(threads=threads)
        config = chat_config(chat_dir, channels=channels, extra=f"{extra}\n{settings}")
        env = {TOKEN_ENV: self.world.token}
        settings = config.platforms.get("discord", PlatformSettings())
        platform = from_config(config, settings, self.clock, env)
        platform.identify_delay = 0  # discord.py's pause before a new session
        return Chat(chat_dir, config, adapters={"discord": platform}, clock=self.clock)


def discord_of(chat: Chat) -> DiscordPlatform:
    platform = chat.adapters["discord"]
    assert isinstance(platform, DiscordPlatform)
    return platform


async def stored(chat: Chat, message_id: int, kind: type[PlatformEvent] = IncomingMessage) -> None:
    """Wait until the bot has taken that message (or its edit or deletion) and committed it."""
    await asyncio.wait_for(discord_of(chat).acknowledged(str(message_id), kind), 10)
    assert chat.app is not None
    await chat.app.settle()


EDITED, DELETED = MessageEdited, MessageDeleted


def transcript(chat: Chat) -> dict[str, object]:
    path = chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """The adapter finds the stand-in through ``api_url`` in its config, as users would."""
    clock = ManualClock(START - timedelta(hours=2))
    fake = FakeDiscord(clock.now)
    await fake.start()
    yield Server(fake, clock)
    await fake.close()


@pytest.fixture
async def chat(server: Server, tmp_path: Path) -> AsyncIterator[Chat]:
    """The #hcsmeu chat in one Discord channel and a thread-per-question one."""
    c = server.adapter(tmp_path, (f"discord:{server.chat}", f"discord:{server.threaded}"))
    await c.boot()
    yield c
    if c.app is not None:
        await c.stop()
