"""`hashchat run` against the stand-in Discord run as its own process, as a user starts it:
the reminder, the welcome and Q1 go out on time by themselves, and answers (a tag in the
channel, a message in Q1's thread) are stored under Q1."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.driver import Post
from tests.e2e.platforms.discord import DiscordDriver

LEAD = 6.0  # seconds from launch to the chat's start: the bot's start-up fits before
AGENDA = """
title = "Stand-in trial"
welcome = "Welcome to the stand-in trial."
closing = "Thanks, that was the trial."

[[questions]]
text = "What did you try first?"
at = "2s"
"""


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Poll every 50 ms until ``check`` holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def driver(tmp_path: Path) -> AsyncIterator[DiscordDriver]:
    made = DiscordDriver()
    await made.start(tmp_path)
    yield made
    await made.stop()


def write_config(tmp_path: Path, driver: DiscordDriver, start: datetime) -> Path:
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    config = tmp_path / "hashchat.toml"
    config.write_text(
        f"""
[bot]
database = "hashchat.db"
transcripts_dir = "transcripts"

{driver.config()}
[[communities]]
id = "trial"
hashtag = "#trial"
locale = "en"
timezone = "UTC"
channels = ["{driver.channel}"]
moderator_channels = ["{driver.moderator_channel}"]

[[communities.sessions]]
id = "once"
at = {start.replace(tzinfo=None).isoformat()}
duration = "30s"
agenda = "agenda.toml"
reminders = ["3s"]
""",
        encoding="utf-8",
    )
    return config


def stored_under(db: Path, message_id: str) -> str | None:
    """The questions a participant's message is filed under, once the bot stored it."""
    if not db.exists():
        return None
    with closing(sqlite3.connect(db, timeout=5)) as conn:
        row = conn.execute(
            "SELECT questions FROM messages WHERE platform_id = ?", (message_id,)
        ).fetchone()
    return None if row is None else str(row[0])


async def test_run_posts_on_time_and_stores_answers_from_the_standin_process(
    tmp_path: Path, driver: DiscordDriver
) -> None:
    start = datetime.fromtimestamp(math.ceil(time.time() + LEAD), UTC)
    config = write_config(tmp_path, driver, start)
    log = (tmp_path / "hashchat.log").open("wb")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-v", "run", "--config", str(config),
        stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1", **driver.env()},
    )  # fmt: skip
    try:
        posted: dict[str, Post] = {}

        async def welcome_and_q1() -> bool:
            for post in await driver.posts():
                for key, words in (("reminder", "starts in"), ("welcome", "Welcome to the"),
                                   ("q1", "What did you try first?")):  # fmt: skip
                    if words in post.text and post.channel == driver.channel:
                        assert key not in posted or posted[key].id == post.id, f"{key} twice"
                        posted[key] = post
            return {"welcome", "q1"} <= posted.keys()

        await until(welcome_and_q1, LEAD + 2 + 10, "the welcome and Q1 posted")
        q1 = posted["q1"]
        tagged = await driver.say("ann", "A1: asking patients before building")
        threaded = await driver.say("bob", "a shared roadmap", thread=q1.id)
        db = tmp_path / "hashchat.db"

        async def both_stored() -> bool:
            return stored_under(db, tagged) == "1" and stored_under(db, threaded) == "1"

        await until(both_stored, 10, "both answers stored under Q1")
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 20) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        log.close()

    assert {"reminder", "welcome", "q1"} <= posted.keys()
    for key, due in (("reminder", start - timedelta(seconds=3)), ("welcome", start),
                     ("q1", start + timedelta(seconds=2))):  # fmt: skip
        late = posted[key].at - due
        assert timedelta(0) <= late < timedelta(seconds=1), f"{key} posted {late} after due"
    # Each step went out once: the stand-in recorded one post per step.
    texts = [p.text for p in await driver.posts() if p.channel == driver.channel]
    assert sum("What did you try first?" in t for t in texts) == 1
    requests = await driver.requests()
    assert any(r["path"] == "/gateway" for r in requests)  # it came in through the gateway
