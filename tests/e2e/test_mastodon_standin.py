"""``hashchat run`` as a process against the Mastodon stand-in as a process: the real
clock, the real alarm, the real Mastodon.py; a chat a few seconds ahead posts its welcome
and its question on time, participants' tagged answer and reply are stored under it, and
a moderator whose server has a port (``alice@127.0.0.1:<port>``) is obeyed and answered
in public when she commands in public, though she has a private channel.
"""

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
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.driver import Post
from tests.e2e.platforms.mastodon import MastodonDriver

LEAD = 6  # seconds from launch to the chat's start: the bot's start-up fits before
WITHIN = 20.0  # a safety net: every wait ends on a condition, polled every 50 ms
AGENDA = """
title = "Stand-in trial"
welcome = "Welcome to the stand-in trial."
closing = "Thanks, that was the trial."

[[questions]]
text = "What did you try first?"
at = "2s"
"""


@pytest.fixture
async def driver(tmp_path: Path) -> AsyncIterator[MastodonDriver]:
    made = MastodonDriver()
    await made.start(tmp_path)
    try:
        yield made
    finally:
        await made.stop()


async def until(check: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + WITHIN
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WITHIN:.0f} s: {what}\n{tail(log)}")
        await asyncio.sleep(0.05)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def write_config(tmp: Path, driver: MastodonDriver, start: datetime) -> Path:
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    config = tmp / "hashchat.toml"
    config.write_text(
        f"""
[bot]
database = "hashchat.db"
transcripts_dir = "pages"
grace = "5m"

{driver.config()}
[[communities]]
id = "e2e"
hashtag = "#{driver.channel.removeprefix("mastodon:")}"
locale = "en"
timezone = "UTC"
channels = ["{driver.channel}"]
moderators = ["mastodon:{driver.moderator}"]
moderator_channels = ["{driver.moderator_channel}"]

[[communities.sessions]]
id = "trial"
at = {start.replace(tzinfo=None).isoformat()}
duration = "30s"
agenda = "agenda.toml"
reminders = ["3s"]
""",
        encoding="utf-8",
    )
    return config


def stored_answers(database: Path) -> list[tuple[str, str, str]]:
    if not database.exists():
        return []
    with closing(sqlite3.connect(database)) as db:
        return db.execute(
            "SELECT author_key, text, questions FROM messages ORDER BY sent_at"
        ).fetchall()


async def test_the_bot_process_posts_on_time_and_stores_the_answers(
    tmp_path: Path, driver: MastodonDriver
) -> None:
    start = datetime.fromtimestamp(math.ceil(time.time() + LEAD), UTC)
    config = write_config(tmp_path, driver, start)
    log = tmp_path / "hashchat.log"
    with log.open("ab") as out:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-v", "run", "--config", str(config),
            stdout=out, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **driver.env()},
        )  # fmt: skip
    posts: list[Post] = []

    async def posted(*words: str) -> bool:
        posts[:] = await driver.posts()
        return all(any(w in p.text for p in posts) for w in words)

    try:
        await until(lambda: posted("Welcome to the stand-in trial.", "Q1:"), "Q1 posted", log)
        question = next(p for p in posts if p.text.startswith("Q1:"))
        await driver.say("ann", "A1 the patient portal")  # the driver adds the hashtag
        await driver.say("bob", "a reply to the question", reply_to=question.id)

        async def stored() -> bool:
            return len(stored_answers(tmp_path / "hashchat.db")) == 2

        await until(stored, "both answers stored", log)
        # A moderator on a server with a port, with a private channel, commands in public:
        command = await driver.say("alice", "@hashchat pause")

        async def answered() -> bool:
            posts[:] = await driver.posts()
            return any(p.reply_to == command for p in posts)

        await until(answered, "the command answered", log)
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), WITHIN) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    answer = next(p for p in posts if p.reply_to == command)
    assert answer.channel == driver.channel  # public, as the command was
    assert answer.text.startswith("@alice ")
    assert "Sorry" not in answer.text  # alice@127.0.0.1:<port> is known as a moderator
    welcome = next(p for p in posts if "Welcome to the stand-in trial." in p.text)
    assert question.reply_to == welcome.id  # the chat reads as one thread
    assert 0 <= (welcome.at - start).total_seconds() < 1
    assert 0 <= (question.at - start).total_seconds() - 2 < 1
    assert stored_answers(tmp_path / "hashchat.db") == [
        (f"mastodon:ann@{driver.domain}", "A1 the patient portal", "1"),
        (f"mastodon:bob@{driver.domain}", "a reply to the question", "1"),
    ]
    text = log.read_text(errors="replace")
    assert driver.token not in text
    assert f"mastodon: #{driver.channel.removeprefix('mastodon:')} is streamed" in text
