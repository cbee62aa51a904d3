"""What the console needs from the running bot, so it depends on no composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.clock import Clock
from bot.config import Config
from bot.live import LiveIndex
from bot.moderation import Moderation
from bot.platforms.base import Platform
from bot.runner import Runner
from bot.store import Store


class ConsoleHost(Protocol):
    """The running ``App``; read at each request, so a reload's config is the one used."""

    config: Config
    platforms: Mapping[str, Platform]
    clock: Clock
    store: Store
    moderation: Moderation
    runner: Runner
    live: LiveIndex

    async def plan_upcoming(self) -> None: ...
