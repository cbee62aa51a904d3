"""``hashchat run`` as its own process against the Telegram stand-in process, with the
real clock and the real alarm: the welcome and the first question go out on time by
themselves, and a participant's answer is stored under it; a failure at start says
which Bot API method failed, never showing the token."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.platforms.telegram import TOKEN_ENV, TelegramDriver
from tests.fakes.telegram_api import TOKEN

WELCOME = "Welcome to the stand-in trial."
QUESTION = "What did you try first?"
LEAD = 6.0  # seconds from launch to the chat's start: the bot's start-up fits before


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.05)


def write_config(workdir: Path, driver: TelegramDriver, start: datetime) -> Path:
    (workdir / "agenda.toml").write_text(
        f'title = "Stand-in trial"\nwelcome = "{WELCOME}"\nclosing = "Bye."\n'
        f'\n[[questions]]\ntext = "{QUESTION}"\nat = "2s"\n',
        encoding="utf-8",
    )
    config = workdir / "hashchat.toml"
    config.write_text(
        f"""
[bot]
database = "hashchat.db"
transcripts_dir = "transcripts"
listen_port = {free_port()}

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
duration = "1m"
agenda = "agenda.toml"
reminders = ["3s"]
""",
        encoding="utf-8",
    )
    return config


async def test_run_posts_the_welcome_and_question_and_stores_the_answer(tmp_path: Path) -> None:
    driver = TelegramDriver()
    await driver.start(tmp_path)
    start = datetime.fromtimestamp(math.ceil(time.time() + LEAD), UTC)
    config = write_config(tmp_path, driver, start)
    log = tmp_path / "hashchat.log"
    with log.open("wb") as out:
        bot = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "-v", "run", "--config", str(config)),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **driver.env()},
        )
    try:

        async def posted() -> bool:
            texts = [p.text for p in await driver.posts() if p.channel == driver.channel]
            return any(WELCOME in t for t in texts) and any(QUESTION in t for t in texts)

        await wait_for(posted, LEAD + 10, "the welcome and Q1 posted")
        chat = [p for p in await driver.posts() if p.channel == driver.channel]
        [welcome] = [p for p in chat if WELCOME in p.text]
        [question] = [p for p in chat if QUESTION in p.text]
        assert welcome.at >= start - timedelta(seconds=0.5)  # on schedule, not at start-up
        assert question.at >= start + timedelta(seconds=1.5)

        answer = await driver.say("ann", "A1: I tried asking patients first")
        await wait_for(lambda: driver.taken(answer), 10, "the answer taken by the bot")
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 20) == 0
    except BaseException:
        print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await driver.stop()
    with closing(sqlite3.connect(tmp_path / "hashchat.db")) as db:
        rows = db.execute("SELECT author_name, text, questions FROM messages").fetchall()
    assert rows == [("Ann", "A1: I tried asking patients first", "1")]


async def start_failure(tmp_path: Path, driver: TelegramDriver, token: str) -> str:
    """What ``hashchat run`` says when it cannot start; it must exit with status 1."""
    start = datetime.now(UTC) + timedelta(hours=1)
    config = write_config(tmp_path, driver, start.replace(microsecond=0))
    bot = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **driver.env(), TOKEN_ENV: token},
    )
    try:
        output, _ = await asyncio.wait_for(bot.communicate(), 30)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert bot.returncode == 1, output
    return output.decode()


async def test_a_server_error_at_start_names_the_method_that_failed(tmp_path: Path) -> None:
    driver = TelegramDriver()
    await driver.start(tmp_path)
    try:
        await driver.fail_next("getMe", 500, "Internal Server Error")
        output = await start_failure(tmp_path, driver, TOKEN)
    finally:
        await driver.stop()
    assert (
        "hashchat could not start: Telegram answered getMe with an error:"
        " Internal Server Error (500)" in output
    )
    assert TOKEN not in output


async def test_a_refused_token_is_named_without_showing_it(tmp_path: Path) -> None:
    wrong = "7099999999:AAWrongTokenWrongTokenWrongToken_42"
    driver = TelegramDriver()
    await driver.start(tmp_path)
    try:
        output = await start_failure(tmp_path, driver, wrong)
    finally:
        await driver.stop()
    assert "hashchat could not start: Telegram refused getMe: The token" in output
    assert "(401)" in output
    assert wrong.partition(":")[2] not in output
