"""Two ``hashchat run`` processes on one PostgreSQL database: one leads, one stands by.

The leader is killed (SIGKILL) in the middle of a chat, or frozen (SIGSTOP) past its
lease and then resumed; the standby takes over and the chat goes on: every step posted
exactly once, every message stored once, and a resumed leader posts nothing more.
"""

from __future__ import annotations

import itertools
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest

from tests.bot_process import free_port
from tests.e2e.driver import Driver
from tests.e2e.harness import STEPS
from tests.e2e.process import Child, python_module, wait_for
from tests.e2e.test_chat_runs_by_itself import Expected, check_transcript
from tests.e2e.test_postgres import PostgresChat
from tests.pg_server import PgServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("driver", ["local"], indirect=True),
]
_names = itertools.count(1)
TAKEOVER = 10.0  # seconds: the promise to users, a standby leads within it
# Long enough that the standby's takeover (up to TAKEOVER) falls inside the chat.
DURATION = timedelta(seconds=16)
# Two instances start before the chat does, on a shared machine: time for both.
EXTRA_LEAD = timedelta(seconds=4)


class Pair:
    """The chat's config for two instances: the same database and public address,
    each its own listening port and log."""

    def __init__(self, chat: PostgresChat, driver: Driver) -> None:
        self.chat = chat
        self.driver = driver
        self.second_port = free_port()
        self.second_config = chat.workdir / "second.toml"
        self.second_log = chat.workdir / "second.log"
        self.second: Child | None = None

    def write(self) -> None:
        self.chat.write()
        text = self.chat.config.read_text(encoding="utf-8")
        self.second_config.write_text(
            text.replace(f"listen_port = {self.chat.port}", f"listen_port = {self.second_port}"),
            encoding="utf-8",
        )

    async def launch_second(self) -> None:
        args = python_module("bot", "-v", "run", "--config", str(self.second_config))
        self.second = Child(args, self.second_log, env=self.driver.env())
        await self.second.start()

    def log(self, which: str) -> str:
        path = self.chat.log if which == "first" else self.second_log
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    async def wait_log(self, which: str, text: str, within: float) -> None:
        async def said() -> bool:
            return text in self.log(which)

        await wait_for(said, within=within, what=f"{which} instance: {text!r}")

    async def wait_role(self, port: int, role: str) -> None:
        async def says() -> bool:
            return await self.role(port) == role

        await wait_for(says, within=15, what=f"/ready on port {port} says {role}")

    async def check_standby_pages(self) -> None:
        """A standby serves the pages, but not those that act through the leader."""
        base = f"http://127.0.0.1:{self.second_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/health") as response:
                assert response.status == 200
            async with http.get(f"{base}/console/") as response:
                assert response.status == 503
                assert "standing by" in await response.text()

    async def role(self, port: int) -> str:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/ready") as response,
        ):
            return str((await response.json())["role"])


@asynccontextmanager
async def pair_running(driver: Driver, tmp_path: Path, postgres: PgServer) -> AsyncIterator[Pair]:
    """The first instance leads, the second stands by; both stopped at the end."""
    chat = PostgresChat(driver, tmp_path, duration=DURATION)
    chat.url = postgres.create_database(f"failover_{next(_names)}")
    chat.start += EXTRA_LEAD
    pair = Pair(chat, driver)
    pair.write()
    await chat.launch()
    try:
        with chat.explained():
            await pair.wait_log("first", "leading (token 1)", within=30)
            await pair.launch_second()
            await pair.wait_log("second", "standing by", within=30)
            await pair.wait_log("second", "hashchat is running", within=30)
            assert await pair.role(chat.port) == "leader"
            assert await pair.role(pair.second_port) == "standby"
            await pair.check_standby_pages()
            yield pair
    finally:
        await chat.stop()
        if pair.second is not None:
            await pair.second.stop()


def stored_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT text, count(*) FROM messages GROUP BY text").fetchall()
    return {str(text): int(n) for text, n in rows}


async def say_and_store(pair: Pair, expected: Expected, text: str, question: int) -> None:
    await pair.driver.say("ann", text)
    expected.answers[text] = question

    async def stored() -> bool:
        return text in stored_counts(pair.chat.url)

    await wait_for(stored, within=15, what=f"{text!r} stored")


async def finish_chat(pair: Pair, expected: Expected) -> None:
    """After the takeover: Q2 and Q3 answered, the chat closed; each step posted once,
    each message stored once."""
    chat = pair.chat
    await chat.wait_posted("q2", within=chat.until("q2", spare=TAKEOVER + 10))
    await say_and_store(pair, expected, "A2: the standby took over", 2)
    await chat.wait_posted("q3", within=chat.until("q3", spare=TAKEOVER + 10))
    await say_and_store(pair, expected, "A3: and nothing was posted twice", 3)
    await chat.wait_posted("transcript", within=chat.until("transcript", spare=15))
    steps = await chat.steps()
    for key in STEPS:
        assert len(steps[key]) == 1, f"{key} posted {len(steps[key])} times"
    check_transcript(await chat.wait_transcript_file(), expected)
    counts = stored_counts(chat.url)
    for text in expected.answers:
        assert counts.get(text) == 1, f"{text!r} stored {counts.get(text, 0)} times"


async def test_the_standby_takes_over_when_the_leader_is_killed(
    driver: Driver, tmp_path: Path, postgres: PgServer
) -> None:
    async with pair_running(driver, tmp_path, postgres) as pair:
        expected = Expected()
        await pair.chat.wait_posted("q1", within=pair.chat.until("q1"))
        await say_and_store(pair, expected, "A1: said to the first leader", 1)
        await pair.chat.kill()
        await pair.wait_log("second", "leading (token 2)", within=TAKEOVER)
        await pair.wait_role(pair.second_port, "leader")
        await finish_chat(pair, expected)
        assert pair.second is not None
        assert await pair.second.stop() == 0


async def test_a_leader_frozen_past_its_lease_posts_nothing_when_resumed(
    driver: Driver, tmp_path: Path, postgres: PgServer
) -> None:
    async with pair_running(driver, tmp_path, postgres) as pair:
        expected = Expected()
        first = pair.chat.bot
        assert first is not None
        assert first.proc is not None
        await pair.chat.wait_posted("q1", within=pair.chat.until("q1"))
        await say_and_store(pair, expected, "A1: said to the first leader", 1)
        first.proc.send_signal(signal.SIGSTOP)  # its machine stalls: no renewal, no exit
        try:
            # A stopped leader is alive: the lease running out is the only sign.
            await pair.wait_log("second", "leading (token 2)", within=TAKEOVER)
        finally:
            first.proc.send_signal(signal.SIGCONT)
        assert await first.exited(within=10) == 3, "a leader that lost its lease went on"
        assert "lost the lease" in pair.log("first")
        await finish_chat(pair, expected)
        assert pair.second is not None
        assert await pair.second.stop() == 0
