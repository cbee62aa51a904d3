"""``hashchat run`` on PostgreSQL, as a user runs it: a chat on the local stand-in with
``database = "postgresql://..."``, and a community moved from its SQLite file with
``hashchat migrate`` in the middle of a chat, which then goes on on the copy."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.e2e.driver import Driver
from tests.e2e.harness import STEPS, Chat
from tests.e2e.process import Child, python_module, wait_for
from tests.e2e.test_chat_runs_by_itself import Expected, answer_q2_and_q3, check_transcript
from tests.pg_server import PgServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("driver", ["local"], indirect=True),
]
_names = itertools.count(1)
EXTRA_LEAD = timedelta(seconds=4)


class PostgresChat(Chat):
    """The harness's chat with its ``database`` line pointing at ``url``."""

    url: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        # A longer lead than the harness's: the bot also imports psycopg and opens its
        # pools before it plans, and a loaded CI machine must not make it miss the reminder.
        self.start += EXTRA_LEAD

    def write(self) -> None:
        super().write()
        text = self.config.read_text(encoding="utf-8")
        if self.url:
            text = text.replace('database = "hashchat.db"', f'database = "{self.url}"')
        self.config.write_text(text, encoding="utf-8")


def stored_texts(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        return [r[0] for r in db.execute("SELECT text FROM messages ORDER BY sent_at")]


async def test_a_chat_runs_on_postgresql(
    driver: Driver, tmp_path: Path, postgres: PgServer
) -> None:
    chat = PostgresChat(driver, tmp_path)
    chat.url = postgres.create_database(f"e2e_{next(_names)}")
    async with chat.running():
        expected = Expected()
        await chat.wait_posted("q1", within=chat.until("q1"))
        await driver.say("ann", "A1: stored in PostgreSQL")
        expected.answers["A1: stored in PostgreSQL"] = 1
        await answer_q2_and_q3(chat, driver, expected)
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        steps = await chat.steps()
        for key in STEPS:
            assert len(steps[key]) == 1, f"{key} posted {len(steps[key])} times"
        check_transcript(await chat.wait_transcript_file(), expected)
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"
    assert "A1: stored in PostgreSQL" in stored_texts(chat.url)
    assert not (tmp_path / "hashchat.db").exists()


async def test_a_chat_moved_to_postgresql_mid_chat_goes_on_there(
    driver: Driver, tmp_path: Path, postgres: PgServer
) -> None:
    chat = PostgresChat(driver, tmp_path, duration=timedelta(seconds=14))
    async with chat.running():
        expected = Expected()
        await chat.wait_posted("q1", within=chat.until("q1"))
        await driver.say("ann", "A1: said while on SQLite")
        expected.answers["A1: said while on SQLite"] = 1

        async def stored() -> bool:
            return any(m["text"] == "A1: said while on SQLite" for m in chat.messages())

        await wait_for(stored, within=10, what="A1 stored in SQLite")
        assert await chat.stop() == 0

        url = postgres.create_database(f"e2e_{next(_names)}")
        migrate = Child(
            python_module("bot", "migrate", "--config", str(chat.config), "--to", url),
            tmp_path / "migrate.log",
        )
        await migrate.start()
        assert await migrate.exited(within=60) == 0, (tmp_path / "migrate.log").read_text()
        assert "verified every table" in (tmp_path / "migrate.log").read_text()

        chat.url = url
        chat.write()  # same chat, same start: only the database line changes
        await chat.launch()
        await answer_q2_and_q3(chat, driver, expected)
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        steps = await chat.steps()
        for key in STEPS:
            assert len(steps[key]) == 1, f"{key} posted {len(steps[key])} times"
        check_transcript(await chat.wait_transcript_file(), expected)
        assert await chat.stop() == 0
    assert "A1: said while on SQLite" in stored_texts(url)
