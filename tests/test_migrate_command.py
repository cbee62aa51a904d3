"""``hashchat migrate --to postgresql://...``: a community's SQLite database, after a real
chat, copied into PostgreSQL and verified; a target with data in it is refused."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.database_url import DatabaseUrl
from bot.domain import UserRef
from bot.store import Store
from bot.store.copying import verify
from bot.store.search import SearchFilters, search
from bot.store.site_stats import SiteStatsStore
from bot.timeline import plan_steps
from tests.conftest import MOD, START, Chat
from tests.pg_server import PgServer

ANN = UserRef("local", "ann", "Ann")
_names = itertools.count(1)


def config_file(tmp: Path) -> Path:
    path = tmp / "move.toml"
    path.write_text(
        '[bot]\ndatabase = "chat.db"\n[[communities]]\nid = "hcsmeu"\nhashtag = "#hcsmeu"\n'
        'timezone = "Europe/Paris"\nchannels = ["local:main"]\n',
        encoding="utf-8",
    )
    return path


async def migrate(tmp: Path, target: str, *extra: str) -> Result:
    args = ["migrate", "--config", str(config_file(tmp)), "--to", target, *extra]
    # The command runs its own event loop, so it runs in a thread of its own here.
    return await asyncio.to_thread(CliRunner().invoke, main, args)


@pytest.fixture
async def ran_a_chat(chat: Chat) -> Chat:
    """A chat with answers, a suggestion merged into another, then the bot stopped."""
    await chat.at(-90)
    chat.local.say(ANN, "local:main", "/suggest How do we pay patients?")
    chat.local.say(ANN, "local:main", "/suggest How should patients be paid?")
    await chat.at(-89)
    chat.local.say(MOD, "local:main", "/merge 2 into 1")
    await chat.at(11)
    chat.local.say(ANN, "local:main", "A1: sharing decisions #hcsmeu")
    await chat.at(61)
    await chat.stop()
    return chat


async def test_a_database_that_ran_a_chat_is_copied_and_verified(
    ran_a_chat: Chat, postgres: PgServer
) -> None:
    url = postgres.create_database(f"moved_{next(_names)}")
    result = await migrate(ran_a_chat.tmp, url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:4] == ["messages", "1", "1", "match"] for line in lines), lines
    assert any(line.startswith("sessions ") and line.endswith("match") for line in lines)
    assert "verified every table" in lines[-1]

    old = await Store.open(ran_a_chat.tmp / "chat.db")
    new = await Store.open(DatabaseUrl(url))
    try:
        [session] = await old.open_sessions() or await old.closed_since(START)
        assert await new.transcript_source(session.id) == await old.transcript_source(session.id)
        # A suggestion merged into another keeps pointing at it (a column into its own table).
        merged = "SELECT id, merged_into FROM suggestions WHERE merged_into IS NOT NULL"
        assert await new.db.fetchall(merged) == await old.db.fetchall(merged) == [(2, 1)]
        # The search index and the numbers are rebuilt on the copy by its own triggers.
        filters = SearchFilters(community="hcsmeu")
        for store in (old, new):
            hits, _ = await search(store.db, "sharing", filters, offset=0, limit=5)
            assert [h.author_name for h in hits] == ["Ann"]
            figures = await SiteStatsStore(store.db).figures("hcsmeu")
            assert [c.messages for c in figures.chats] == [1]
        # The ids go on after the copied ones: the next session does not collide.
        later = replace(session.plan, starts_at=START.replace(day=11), slug="hcsmeu/later")
        assert await new.ensure_session(later, plan_steps(later), START) == session.id + 1
    finally:
        await old.close()
        await new.close()


async def test_a_target_with_data_is_refused_and_left_as_it_was(
    ran_a_chat: Chat, postgres: PgServer
) -> None:
    url = postgres.create_database(f"moved_{next(_names)}")
    assert (await migrate(ran_a_chat.tmp, url)).exit_code == 0
    again = await migrate(ran_a_chat.tmp, url)
    assert again.exit_code == 2
    assert "the target database is not empty: " in again.output
    assert "messages (1 rows)" in again.output
    assert "copies into an empty database only" in again.output


async def test_a_changed_row_is_reported_as_a_mismatch(
    ran_a_chat: Chat, postgres: PgServer
) -> None:
    url = postgres.create_database(f"moved_{next(_names)}")
    assert (await migrate(ran_a_chat.tmp, url)).exit_code == 0
    old = await Store.open(ran_a_chat.tmp / "chat.db")
    new = await Store.open(DatabaseUrl(url))
    try:
        async with new.db.transaction():
            await new.db.execute("UPDATE messages SET text = 'A1: edited after the copy'")
        checks = {c.table: c for c in await verify(old.db, new.db)}
    finally:
        await old.close()
        await new.close()
    assert not checks["messages"].ok
    assert checks["messages"].source_rows == checks["messages"].target_rows == 1
    assert all(c.ok for name, c in checks.items() if name != "messages")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("mysql://me@host/db", "a database URL starts with postgresql://"),
        ("postgresql://me:secret@host/db", "put no password in the URL"),
        ("postgresql://me@host", "name the database"),
    ],
)
async def test_a_bad_target_url_is_refused_with_what_to_write(
    ran_a_chat: Chat, target: str, says: str
) -> None:
    result = await migrate(ran_a_chat.tmp, target)
    assert result.exit_code == 2
    assert says in result.output
    assert "secret" not in result.output.replace(target, "")
    assert "Traceback" not in result.output


async def test_an_unset_password_variable_is_named(ran_a_chat: Chat) -> None:
    result = await migrate(
        ran_a_chat.tmp, "postgresql://me@127.0.0.1/db", "--password-env", "HASHCHAT_TEST_UNSET"
    )
    assert result.exit_code == 2
    assert "HASHCHAT_TEST_UNSET" in result.output
