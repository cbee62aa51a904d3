"""`hashchat run` against the stand-in Discord run as its own process, as a user starts it:
the reminder, the welcome and Q1 go out on time by themselves, and answers (a tag in the
channel, a reply, a message in Q1's thread, an edit, a deletion) reach the database."""

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

import aiohttp
import pytest

from tests.e2e.driver import Post
from tests.e2e.platforms.discord import DiscordDriver

LEAD = 8.0  # seconds from launch to the chat's start: the bot's start-up fits before
AGENDA = """
title = "Stand-in trial"
welcome = "Welcome to the stand-in trial."
closing = "Thanks, that was the trial."

[[questions]]
text = "What did you try first?"
at = "2s"
"""


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str, log: Path) -> None:
    """Poll every 50 ms until ``check`` holds, failing after ``within`` seconds with the
    end of the bot's log."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}\n{tail(log)}")
        await asyncio.sleep(0.05)


def tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


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


def stored(db: Path, message_id: str) -> tuple[str, str, bool] | None:
    """(questions it is filed under, text, deleted) of a participant's message, once the
    bot has stored it."""
    if not db.exists():
        return None
    with closing(sqlite3.connect(db, timeout=5)) as conn:
        row = conn.execute(
            "SELECT questions, text, deleted_at IS NOT NULL FROM messages WHERE platform_id = ?",
            (message_id,),
        ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]), bool(row[2]))


async def test_run_posts_on_time_and_stores_answers_from_the_standin_process(
    tmp_path: Path, driver: DiscordDriver
) -> None:
    start = datetime.fromtimestamp(math.ceil(time.time() + LEAD), UTC)
    config = write_config(tmp_path, driver, start)
    log_path = tmp_path / "hashchat.log"
    log = log_path.open("wb")
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

        await until(welcome_and_q1, LEAD + 2 + 10, "the welcome and Q1 posted", log_path)
        q1 = posted["q1"]
        tagged = await driver.say("ann", "A1: asking patients before building")
        threaded = await driver.say("bob", "a shared roadmap", thread=q1.id)
        replied = await driver.say("dan", "involving carers too", reply_to=q1.id)
        regretted = await driver.say("eve", "A1: oops, wrong chat")
        db = tmp_path / "hashchat.db"

        async def stored_under_q1() -> bool:
            found = [stored(db, i) for i in (tagged, threaded, replied, regretted)]
            return all(f is not None and f[0] == "1" for f in found)

        await until(stored_under_q1, 10, "the answers stored under Q1", log_path)
        await driver.edit("ann", tagged, "A1: asking patients first")
        await driver.delete("eve", regretted)

        async def edited_and_deleted() -> bool:
            edited, gone = stored(db, tagged), stored(db, regretted)
            fixed = edited is not None and edited[1] == "A1: asking patients first"
            return fixed and gone is not None and gone[2]

        await until(edited_and_deleted, 10, "the edit and the deletion stored", log_path)
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
        assert timedelta(0) <= late < timedelta(seconds=1), f"{key}: {late} late\n{tail(log_path)}"
    # Each step went out once: the stand-in recorded one post per step.
    texts = [p.text for p in await driver.posts() if p.channel == driver.channel]
    assert sum("What did you try first?" in t for t in texts) == 1
    requests = await driver.requests()
    assert any(r["path"] == "/gateway" for r in requests)  # it came in through the gateway


async def test_the_standin_refuses_a_share_of_the_bots_posts_and_logs_each_request(
    driver: DiscordDriver,
) -> None:
    api, chat = driver.info["api_url"], driver.info["channels"]["chat"]
    headers = {"Authorization": f"Bot {driver.info['token']}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def post(text: str) -> int:
            async with http.post(f"{api}/channels/{chat}/messages", json={"content": text}) as r:
                return r.status

        await driver.fail_posts(1.0, (503,))
        assert [await post("refused") for _ in range(3)] == [503, 503, 503]
        await driver.fail_posts(1.0, (429,))
        async with http.post(f"{api}/channels/{chat}/messages", json={"content": "x"}) as r:
            assert r.status == 429
            assert (await r.json())["retry_after"] < 1  # short: discord.py waits and retries
        await driver.fail_posts(0)
        assert await post("accepted") == 200
    assert [p.text for p in await driver.posts()] == ["accepted"]
    logged = [(r["method"], r["status"]) for r in await driver.requests()]
    assert logged == [("POST", 503)] * 3 + [("POST", 429), ("POST", 200)]
