"""The store under the load of many chats at once: reads, post claims and the message
writer's commits interleave on the event loop, and none of them may fail.

A thousand communities' chats in one hour (bench/scale.py) showed "database is locked"
failing post claims and finishes at once, without waiting: a read on the store's shared
connection that was executed but not yet fetched kept an old snapshot open, so a write
unit of another coroutine could not begin while the writer had committed meanwhile. A
post whose finish failed so was left "sending" after it had appeared: resent, or asked
about, and its chat late.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.store import MessageWriter, PostState, Store
from bot.store.backend import Location
from bot.timeline import plan_steps
from tests.test_store import START, message, plan

CHATS = 40
ROUNDS = 30


async def test_claims_and_finishes_never_fail_while_reads_and_commits_interleave(
    db_location: Location,
) -> None:
    """On each backend (``db_location``: SQLite and PostgreSQL)."""
    path = db_location
    store = await Store.open(path)
    writer = MessageWriter(path)
    await writer.start()
    try:
        sessions = []
        for i in range(CHATS):
            p = plan(f"local:c{i}", series=f"s{i}")
            sessions.append(await store.ensure_session(p, plan_steps(p), START))

        async def participants(session_id: int) -> None:
            for r in range(ROUNDS):
                await writer.submit(message(session_id, f"{session_id}-{r}"))

        async def runner(session_id: int) -> None:
            for r in range(ROUNDS):
                await store.steps(session_id)  # reads, as a wake-up does
                await store.posts(session_id)
                key = f"extra{r}"
                now = START + timedelta(seconds=r)
                assert await store.claim_post(session_id, key, "local:main", now)
                await store.finish_post(
                    session_id, key, "local:main", PostState.SENT, now, message_id=f"m{r}"
                )

        await asyncio.gather(*(f(s) for s in sessions for f in (participants, runner)))
        for session_id in sessions:
            posts = await store.posts(session_id)
            assert sum(p.state is PostState.SENT for p in posts.values()) == ROUNDS
    finally:
        await writer.close()
        await store.close()
