"""The store backends every contract test runs on: SQLite, and PostgreSQL on a real
server this test session starts (once, on first use) and stops at its end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.database_url import DatabaseUrl
from bot.store import Store
from bot.store.backend import Location
from tests import pg_server

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.PgServer]:
    """Never skipped: a server that cannot start fails the tests that need it."""
    try:
        server = pg_server.start()
    except RuntimeError as exc:
        pytest.fail(f"PostgreSQL tests need their own server, which did not start: {exc}")
    # Migrated once; each test empties it first.
    try:
        shared = DatabaseUrl(server.create_database(SHARED))
        with ThreadPoolExecutor(1) as thread:  # an event loop may be running in this one
            thread.submit(asyncio.run, _migrated(shared)).result()
    except BaseException:
        server.stop()  # never a server left running behind a failed set-up
        raise
    yield server
    server.stop()


SHARED = "hashchat_test"


async def _migrated(where: DatabaseUrl) -> None:
    store = await Store.open(where)
    await store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Location:
    """A fresh, empty database for one test: a file, or the server's test database
    emptied (tests run one at a time)."""
    if backend == "sqlite":
        return tmp_path / "chat.db"
    server: pg_server.PgServer = request.getfixturevalue("postgres")
    return DatabaseUrl(server.empty(SHARED))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a ``both_backends`` module that take the whole ``chat`` run on each."""
    if (
        metafunc.definition.get_closest_marker("both_backends")
        and "chat" in metafunc.fixturenames
        and "backend" not in metafunc.fixturenames
    ):
        metafunc.fixturenames.append("backend")
        metafunc.parametrize("backend", BACKENDS, indirect=True)
