"""The leadership lease, on SQLite and on a real PostgreSQL server: one holder at a time,
a lease that runs out, a token raised at each takeover, a stale token's claim refused;
and the decisions of bot/leadership.py (when a leader must stop posting)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.leadership import Leadership, holder_id
from bot.store import Store
from bot.store.backend import Location
from bot.store.leadership import LeaseStore
from bot.timeline import plan_steps
from tests.test_store import plan

NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
async def stores(db_location: Location) -> AsyncIterator[tuple[Store, Store]]:
    """Two instances' own connections to one database (one file, or one server)."""
    first = await Store.open(db_location)
    second = await Store.open(db_location)
    yield first, second
    await first.close()
    await second.close()


async def wait_until_taken(leases: LeaseStore, holder: str, within: float = 10) -> int:
    deadline = time.monotonic() + within
    while (token := await leases.acquire(holder, 5)) is None:
        assert time.monotonic() < deadline, "the lease never ran out"
        await asyncio.sleep(0.05)
    return token


async def test_one_holder_at_a_time_until_its_lease_runs_out(
    stores: tuple[Store, Store],
) -> None:
    a, b = LeaseStore(stores[0].db), LeaseStore(stores[1].db)
    token = await a.acquire("host:1:a", 0.5)
    assert token is not None
    assert await b.acquire("host:2:b", 5) is None, "a held lease was taken"
    assert await a.acquire("host:1:a", 0.5) == token, "a renewal changed the token"
    taken = await wait_until_taken(b, "host:2:b")
    assert taken == token + 1, "a takeover must raise the token"
    assert await a.acquire("host:1:a", 5) is None, "the old leader took it back"
    current = await a.current()
    assert current is not None
    assert current.holder == "host:2:b"
    assert current.remaining_ms > 0


async def test_a_released_lease_is_free_at_once_with_a_higher_token(
    stores: tuple[Store, Store],
) -> None:
    a, b = LeaseStore(stores[0].db), LeaseStore(stores[1].db)
    token = await a.acquire("host:1:a", 60)
    assert token is not None
    await a.release("host:1:a")
    assert await b.acquire("host:2:b", 60) == token + 1


async def test_a_stale_token_claims_no_post(stores: tuple[Store, Store]) -> None:
    old, new = stores
    session_id = await old.ensure_session(plan(), plan_steps(plan()), NOW)
    old.fence = await LeaseStore(old.db).acquire("host:1:old", 0.3)
    assert await old.claim_post(session_id, "q1", "local:main", NOW) is True
    new.fence = await wait_until_taken(LeaseStore(new.db), "host:2:new")
    assert await old.claim_post(session_id, "welcome", "local:main", NOW) is False
    assert "welcome" not in {key for key, _ in await old.posts(session_id)}
    assert await new.claim_post(session_id, "welcome", "local:main", NOW) is True


async def test_a_dead_holder_on_this_host_is_taken_over_at_once(
    stores: tuple[Store, Store],
) -> None:
    """A restarted instance need not wait for its predecessor's lease to run out."""
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await child.wait()  # reaped: its pid names no process any more
    dead = holder_id().rsplit(":", 2)[0] + f":{child.pid}:x"
    token = await LeaseStore(stores[0].db).acquire(dead, 60)
    assert token is not None
    successor = Leadership(LeaseStore(stores[1].db))
    assert await successor.attempt() is True
    assert successor.token == token + 1


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_leader_past_its_lease_may_not_post_and_gives_up(
    stores: tuple[Store, Store],
) -> None:
    """Its own clock decides: stopped (SIGSTOP) past the lease, it posts nothing more
    and reports the loss before asking the database anything."""
    clock = FakeTime()
    leader = Leadership(LeaseStore(stores[0].db), "host:1:a", monotonic=clock)
    assert await leader.attempt() is True
    assert leader.may_post()
    assert leader.role == "leader"
    clock.now += leader.lease - 0.01
    assert leader.may_post()
    clock.now += 0.02
    assert not leader.may_post()
    assert leader.role == "standby"
    lost: list[bool] = []
    led: list[int] = []

    async def lead(token: int) -> None:
        led.append(token)

    await asyncio.wait_for(leader.run(lead, lambda: lost.append(True)), 5)
    assert lost == [True]
    assert led == [], "a leader past its lease went on leading"


async def test_a_standby_leads_when_the_lease_is_free(stores: tuple[Store, Store]) -> None:
    first = Leadership(LeaseStore(stores[0].db), "host:1:a", lease=0.6, renew=0.1)
    second = Leadership(LeaseStore(stores[1].db), "host:2:b", lease=0.6, renew=0.1)
    led: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def leads(name: str):  # type: ignore[no-untyped-def]
        async def lead(token: int) -> None:
            await led.put((name, token))

        return lead

    a = asyncio.create_task(first.run(leads("a"), lambda: None))
    assert (await asyncio.wait_for(led.get(), 5))[0] == "a"
    b = asyncio.create_task(second.run(leads("b"), lambda: None))
    await asyncio.sleep(0)
    assert second.role == "standby"
    a.cancel()  # the leader stops renewing (as if gone): b takes over
    name, token = await asyncio.wait_for(led.get(), 10)
    assert (name, token) == ("b", first.token + 1 if first.token else 0)
    b.cancel()
    await asyncio.gather(a, b, return_exceptions=True)


class CutOff(LeaseStore):
    """The lease's SQL, until the connection is cut: then every statement fails."""

    cut = False

    async def acquire(
        self, holder: str, lease_seconds: float, *, dead: str | None = None
    ) -> int | None:
        if self.cut:
            raise OSError("connection to the database lost")
        return await super().acquire(holder, lease_seconds, dead=dead)


async def test_a_leader_cut_off_from_its_database_gives_up_when_its_lease_ends(
    stores: tuple[Store, Store],
) -> None:
    leases = CutOff(stores[0].db)
    leader = Leadership(leases, "host:1:a", lease=0.6, renew=0.1)
    led = asyncio.Event()
    lost = asyncio.Event()

    async def lead(token: int) -> None:
        led.set()

    running = asyncio.create_task(leader.run(lead, lost.set))
    await asyncio.wait_for(led.wait(), 5)
    leases.cut = True
    await asyncio.wait_for(lost.wait(), 5)
    assert not leader.may_post()
    await asyncio.wait_for(running, 5)  # it stopped trying
