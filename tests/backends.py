"""The store backends every contract test runs on: SQLite, and PostgreSQL on a real
server this test session starts (once, on first use) and stops at its end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.database_url import DatabaseUrl
from bot.store.backend import Location
from tests import pg_server

BACKENDS = ["sqlite", "postgresql"]
_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.PgServer]:
    """Never skipped: a server that cannot start fails the tests that need it."""
    try:
        server = pg_server.start()
    except RuntimeError as exc:
        pytest.fail(f"PostgreSQL tests need their own server, which did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Location:
    """A fresh, empty database for one test: a file, or a new database on the server."""
    if backend == "sqlite":
        return tmp_path / "chat.db"
    server: pg_server.PgServer = request.getfixturevalue("postgres")
    return DatabaseUrl(server.create_database(f"test_{next(_names)}"))
