"""Two ``hashchat run`` processes on one PostgreSQL database, reading Telegram: only the
leader polls. Telegram answers 409 Conflict when a bot's updates are polled by two
clients at once (the stand-in records each time it did); through the leader's kill and
the standby's takeover that never happens, and every step is posted once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.platforms.telegram import TelegramDriver
from tests.e2e.test_chat_runs_by_itself import Expected
from tests.e2e.test_failover import TAKEOVER, finish_chat, pair_running, say_and_store
from tests.pg_server import PgServer

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["telegram"], indirect=True)]


async def polls_since(driver: TelegramDriver, since: str) -> int:
    """getUpdates requests the stand-in answered after ``since`` (ISO 8601, UTC)."""
    return sum(
        1
        for r in await driver.requests()
        if r["method"] == "getUpdates" and r["at"] > since and r["status"] == 200
    )


async def test_only_the_leader_polls_telegram_through_a_takeover(
    driver: TelegramDriver, tmp_path: Path, postgres: PgServer
) -> None:
    async with pair_running(driver, tmp_path, postgres) as pair:
        expected = Expected()
        await pair.chat.wait_posted("q1", within=pair.chat.until("q1"))
        await say_and_store(pair, expected, "A1: said to the first leader", 1)
        killed_at = datetime.now(UTC).isoformat()
        await pair.chat.kill()  # SIGKILL: its long poll was in flight
        await pair.wait_log("second", "leading (token 2)", within=TAKEOVER)
        await finish_chat(pair, expected)  # A2 and A3 reached the new leader's polls
        assert await polls_since(driver, killed_at) > 0
        assert await driver.conflicts() == [], "two instances polled Telegram at once"
        assert pair.second is not None
        assert await pair.second.stop() == 0
