"""The Telegram stand-in answers 409 Conflict, as Telegram does, when a second client
polls for updates while another still waits, and records it: what the failover test
(tests/e2e/test_telegram_failover.py) counts on to see two instances polling at once.
A poll whose client is gone (killed) is no conflict: nobody polls twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.clock import SystemClock
from tests.fakes.telegram_api import TOKEN, FakeTelegram


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    made = FakeTelegram(SystemClock())
    await made.start()
    try:
        yield made
    finally:
        await made.close()


async def poll(http: aiohttp.ClientSession, api: FakeTelegram, hold: int) -> int:
    """One getUpdates from this client; the HTTP status Telegram answered."""
    url = f"{api.url}/bot{TOKEN}/getUpdates"
    async with http.post(url, json={"timeout": hold}) as response:
        await response.read()
        return response.status


async def first_poll_waits(api: FakeTelegram, http: aiohttp.ClientSession) -> asyncio.Task[int]:
    waiting = asyncio.create_task(poll(http, api, hold=30))
    await api.wait_for(lambda: len(api.method_calls("getUpdates")) == 1)
    return waiting


async def test_a_second_poller_ends_the_first_with_a_conflict(api: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        waiting = await first_poll_waits(api, one)
        assert await poll(two, api, hold=0) == 200
        assert await asyncio.wait_for(waiting, 10) == 409
    assert len(api.conflicts) == 1


async def test_a_poll_whose_client_is_gone_is_no_conflict(api: FakeTelegram) -> None:
    one = aiohttp.ClientSession()
    waiting = await first_poll_waits(api, one)
    waiting.cancel()
    await one.close()  # the connection closes, as when its process is killed
    for _ in range(200):  # the server sees it closed (connection_alive: the last request's)
        if not api.connection_alive():
            break
        await asyncio.sleep(0.05)
    async with aiohttp.ClientSession() as two:
        assert await poll(two, api, hold=0) == 200
    assert api.conflicts == []
