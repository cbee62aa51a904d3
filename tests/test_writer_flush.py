"""A flush waits for what was submitted before it, not for a quiet moment.

A chat's close flushes the writer so that its last answers are in its transcript; with
a thousand chats under way, answers never stop coming, and a flush that waited for an
empty queue kept the transcript link waiting for them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path

from bot.store import MessageWriter, Store
from bot.timeline import plan_steps
from tests.test_store import START, message, plan


async def test_a_flush_returns_while_other_chats_answers_keep_coming(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "chat.db")
    writer = MessageWriter(store.path)
    await writer.start()
    chat = await store.ensure_session(plan(), plan_steps(plan()), START)
    ids = itertools.count(2)

    async def other_chats() -> None:
        while True:  # one answer every turn of the loop: the queue is never empty
            writer.enqueue(message(chat, str(next(ids))), len, None)
            await asyncio.sleep(0)

    try:
        writer.enqueue(message(chat, "1", "A2: the last answer"), len, None)
        feeding = asyncio.create_task(other_chats())
        try:
            async with asyncio.timeout(10):
                await writer.flush()
            stored = await store.db.fetchall("SELECT text FROM messages WHERE platform_id = '1'")
            assert [row[0] for row in stored] == ["A2: the last answer"]
        finally:
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
    finally:
        await writer.close()
        await store.close()
