"""Driving the Mastodon adapter in tests: polls on the test's word, acknowledgements to
wait for, and a community whose chat runs on Mastodon (and, if asked, locally too)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.domain import ChannelRef
from bot.platforms.base import Alert
from bot.platforms.mastodon.config import MastodonOptions
from bot.platforms.mastodon.platform import MastodonPlatform
from bot.platforms.mastodon.statuses import aware
from tests.conftest import AGENDA, START
from tests.fakes.mastodon_server import BOT_TOKEN, DOMAIN

HASHTAG = ChannelRef("mastodon", "hcsmeu")
TIMEOUT = 10  # a safety net only: every wait ends on a condition


class Host:
    """What the core lends the adapter, in memory: cursors, and the alerts it raised."""

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


class Pacer:
    """Stands in for the wait between polls: each one ends when the test says so."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._cond = asyncio.Condition()
        self._released = 0

    async def __call__(self, seconds: float) -> None:
        async with self._cond:
            self.waits.append(seconds)
            ticket = len(self.waits)
            self._cond.notify_all()
            await self._cond.wait_for(lambda: self._released >= ticket)

    async def waiting(self, count: int | None = None) -> None:
        """Until the adapter has paused ``count`` times (by default: once more than now
        released), i.e. has finished the cycle before."""
        async with self._cond:
            target = self._released + 1 if count is None else count
            await asyncio.wait_for(self._cond.wait_for(lambda: len(self.waits) >= target), TIMEOUT)

    async def poll(self) -> None:
        """Let the adapter run one cycle (streams, polls, refresh) and wait until it has."""
        await self.waiting()
        async with self._cond:
            self._released = len(self.waits)
            self._cond.notify_all()
        await self.waiting()


class ObservedMastodon(MastodonPlatform):
    """The adapter, counting what it hands over and what the core acknowledges; its
    ``drained`` lets ``chat.at`` wait until every handed-over event is committed."""

    def __init__(self, *args: Any, pacer: Pacer, **kwargs: Any) -> None:
        self.pacer = pacer
        self.backoffs: list[float] = []
        self.emitted: Counter[str] = Counter()
        self.acks: Counter[str] = Counter()
        self.boosted: list[str] = []
        self._changed = asyncio.Event()
        super().__init__(*args, sleep=pacer, backoff=self._backoff, **kwargs)

    async def _backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)

    def emit(self, event: Any) -> None:
        self.emitted[_key(event)] += 1
        super().emit(event)
        self._changed.set()

    async def acknowledge(self, event: Any) -> None:
        await super().acknowledge(event)
        self.acks[_key(event)] += 1
        self._changed.set()

    async def _until(self, condition: Callable[[], bool]) -> None:
        async def check() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(check(), TIMEOUT)

    async def acknowledged(self, *status_ids: str) -> None:
        """Until the core has stored (or answered) each of these statuses."""
        await self._until(lambda: all(self.acks[f"IncomingMessage:{i}"] for i in status_ids))

    async def handed_over(self, *keys: str) -> None:
        """Until the adapter has emitted each of these events (``MessageEdited:<id>``)."""
        await self._until(lambda: all(self.emitted[k] for k in keys))

    async def _boost(self, status_id: str) -> None:
        await super()._boost(status_id)
        self.boosted.append(status_id)
        self._changed.set()

    async def boosts(self, count: int) -> None:
        await self._until(lambda: len(self.boosted) >= count)

    async def drained(self) -> None:
        await self._until(lambda: self.acks.total() >= self.emitted.total())


def _key(event: Any) -> str:
    return f"{type(event).__name__}:{event.ref.id}"


def adapter(
    base_url: str,
    clock: ManualClock,
    *,
    pacer: Pacer,
    streaming: bool = True,
    channels: Sequence[ChannelRef] = (HASHTAG,),
    **options: Any,
) -> ObservedMastodon:
    return ObservedMastodon(
        options=MastodonOptions(api_base_url=base_url, streaming=streaming, **options),
        token=BOT_TOKEN,
        channels=channels,
        clock=clock,
        keep_tags={"hcsmeu"},
        pacer=pacer,
    )


def mastodon_config(
    tmp: Path,
    base_url: str,
    *,
    channels: tuple[str, ...] = ("mastodon:hcsmeu",),
    change: tuple[str, str] = ("", ""),
    moderator_channels: tuple[str, ...] = ("local:mods",),
) -> Config:
    """The March chat of #hcsmeu, with Alice moderating on Mastodon; ``change`` replaces
    one piece of the file's text, to make a mistake in it."""
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    text = _config_text(base_url, channels, moderator_channels)
    if change[0]:
        assert change[0] in text
        text = text.replace(*change)
    return parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)


def _config_text(
    base_url: str, channels: tuple[str, ...], moderator_channels: tuple[str, ...]
) -> str:
    return f"""
[bot]
database = "chat.db"
transcripts_dir = "pages"
grace = "5m"

[platforms.mastodon]
token_env = "MASTODON_TOKEN"
api_base_url = "{base_url}"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
locale = "en"
timezone = "Europe/Paris"
moderators = ["local:mod", "mastodon:alice@{DOMAIN}"]
channels = {list(channels)!r}
moderator_channels = {list(moderator_channels)!r}

[[communities.sessions]]
id = "march"
at = {START.replace(tzinfo=None).isoformat()}
duration = "60m"
agenda = "agenda.toml"
reminders = ["1h", "10m"]
""".replace("'", '"')


def status_times(statuses: list[dict[str, Any]]) -> list[float]:
    """Minutes after the chat's start at which each status was made."""
    return [(aware(s["created_at"]) - START).total_seconds() / 60 for s in statuses]
