"""While the message writer stores a burst, SQLite's thread gets the GIL promptly; a
trickle leaves the interpreter's switch interval alone, for threads with Python work of
their own (Mastodon's streaming readers)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import MessageWriter, Store
from bot.store.backend.gil import PROMPT, while_a_statement_runs
from bot.timeline import plan_steps
from tests.test_store import START, message, plan, rows

DEFAULT = 0.005


@pytest.fixture(autouse=True)
def default_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(DEFAULT)
    yield
    sys.setswitchinterval(before)


async def store_with(tmp_path: Path, count: int) -> tuple[set[float], int]:
    """Submit ``count`` messages at once; the intervals seen while they were stored, and
    how many were."""
    store = await Store.open(tmp_path / "chat.db")
    p = plan()
    session = await store.ensure_session(p, plan_steps(p), START - timedelta(days=1))
    writer = MessageWriter(store.path)
    await writer.start()
    try:
        stored = asyncio.gather(*(writer.submit(message(session, str(i))) for i in range(count)))
        seen: set[float] = set()
        while not stored.done():
            seen.add(sys.getswitchinterval())
            await asyncio.sleep(0)
        await stored
        return seen, len(await rows(store))
    finally:
        await writer.close()
        await store.close()


async def test_a_burst_is_stored_with_the_gil_handed_over_promptly(tmp_path: Path) -> None:
    seen, stored = await store_with(tmp_path, 3000)
    assert stored == 3000
    assert any(v == pytest.approx(PROMPT) for v in seen)  # (kept in whole microseconds)
    assert sys.getswitchinterval() == DEFAULT  # given back once the burst is stored


async def test_a_trickle_leaves_the_switch_interval_alone(tmp_path: Path) -> None:
    seen, stored = await store_with(tmp_path, 3)
    assert stored == 3
    assert seen == {DEFAULT}


def test_overlapping_and_failed_statements_give_the_interval_back() -> None:
    with while_a_statement_runs:
        with while_a_statement_runs:
            assert sys.getswitchinterval() == pytest.approx(PROMPT)
        assert sys.getswitchinterval() == pytest.approx(PROMPT)  # the first is still under way
    assert sys.getswitchinterval() == DEFAULT
    with pytest.raises(RuntimeError), while_a_statement_runs:
        raise RuntimeError("the statement failed")
    assert sys.getswitchinterval() == DEFAULT
