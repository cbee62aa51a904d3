"""The PostgreSQL settings as a user meets them: a bad URL refused at its field, a missing
password variable named, an unreachable server said in one line, and the password never
printed, even with ``-v``."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.bot_process import BotProcess, free_port
from tests.pg_server import PgServer
from tests.test_cli_input import refused, write

SECRET = "s3cret-never-printed"


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("postgresql://me:pw@db.example/chats", "put no password in the URL"),
        ("postgresql://me@db.example", "name the database"),
        ("postgresql://me@db.example:port/chats", "not a valid URL"),
    ],
)
def test_a_database_url_hashchat_cannot_use_is_refused_at_its_field(
    tmp_path: Path, url: str, what: str
) -> None:
    path = write(tmp_path, bot=f'database = "{url}"')
    errors = refused(path)
    (line,) = [t for t in errors.splitlines() if "bot.database" in t]
    assert what in line
    assert ":pw@" not in errors


def test_check_names_an_unset_password_variable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        bot='database = "postgresql://me@db.example/chats"\n'
        'database_password_env = "HASHCHAT_TEST_NO_SUCH_VARIABLE"',
    )
    (line,) = [t for t in refused(path).splitlines() if "bot.database_password_env" in t]
    assert "the environment variable HASHCHAT_TEST_NO_SUCH_VARIABLE is not set" in line


async def test_run_without_the_password_variable_names_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        bot='database = "postgresql://me@127.0.0.1/chats"\n'
        'database_password_env = "HASHCHAT_TEST_NO_SUCH_VARIABLE"',
    )
    async with BotProcess(path) as bot:
        assert await bot.exited() == 2  # refused with the config's other problems
    assert "bot.database_password_env: the environment variable HASHCHAT_TEST_NO_SUCH_VARIABLE" in (
        bot.err.text
    )
    assert "Traceback" not in bot.err.text


async def test_run_against_no_server_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql://me@127.0.0.1:{free_port()}/chats"
    path = write(tmp_path, bot=f'database = "{url}"')
    async with BotProcess(path) as bot:
        assert await bot.exited() == 1
    assert f"cannot connect to the database {url}" in bot.err.text
    assert "Traceback" not in bot.err.text


def secured_database(postgres: PgServer, name: str) -> str:
    """A database only the role ``secured`` may use, with the password ``SECRET``."""
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_roles WHERE rolname = 'secured'").fetchone():
            db.execute(sql.SQL("CREATE ROLE secured LOGIN PASSWORD {}").format(SECRET))
        db.execute(sql.SQL("CREATE DATABASE {} OWNER secured").format(sql.Identifier(name)))
    return postgres.url(name).replace("postgres@", "secured@")


@pytest.mark.parametrize("given", [SECRET, "not-the-password"], ids=["right", "wrong"])
async def test_the_password_comes_from_the_named_variable_and_is_never_printed(
    tmp_path: Path, postgres: PgServer, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    url = secured_database(postgres, f"secured_{len(given)}")
    path = write(
        tmp_path, bot=f'database = "{url}"\ndatabase_password_env = "HASHCHAT_TEST_DB_PASSWORD"'
    )
    monkeypatch.setenv("HASHCHAT_TEST_DB_PASSWORD", given)
    async with BotProcess(path, "-v") as bot:
        if given == SECRET:
            await bot.started()
            assert await bot.stop() == 0
        else:
            assert await bot.exited() == 1
            assert "password authentication failed" in bot.err.text
    assert given not in bot.out.text + bot.err.text
