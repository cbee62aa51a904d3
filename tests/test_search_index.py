"""New messages enter the search index in bulk (migration 13): whatever happens to a
message before the index catches up, a search shows exactly what the transcripts show."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import MessageWriter, Store, StoredMessage
from bot.store.backend import Location
from bot.store.backend.sqlite import SqliteDatabase
from bot.store.migrations import migrate
from bot.store.privacy import PrivacyStore
from bot.store.search import SearchFilters, search
from bot.store.writer import MessageEdit, MessageHide, MessageRemoval
from tests.site_seed import Said, seed_chat

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SAID = [
    Said("local:ann", "kept words"),
    Said("local:bob", "hidden words"),
    Said("local:cat", "deleted words"),
    Said("local:dan", "edited before"),
    Said("local:eve", "optedout words"),
    Said("local:fay", "returning words"),
]


async def found(store: Store, text: str) -> list[str]:
    hits, _ = await search(store.db, text, SearchFilters(community="c"), offset=0, limit=50)
    return sorted("".join(piece for piece, _ in h.snippet) for h in hits if h.author_name)


async def shown_ids(store: Store) -> list[int]:
    rows = await store.db.fetchall(
        "SELECT id FROM messages WHERE deleted_at IS NULL AND hidden_at IS NULL"
        " AND author_key NOT IN (SELECT user FROM optouts) ORDER BY id".replace(
            "SELECT user", 'SELECT "user"'
        )
    )
    return [int(r[0]) for r in rows]


async def indexed_ids(store: Store) -> list[int]:
    column = "id" if store.db.dialect == "postgresql" else "rowid"
    rows = await store.db.fetchall(
        f"SELECT {column} FROM search_text WHERE {column} > 0 ORDER BY {column}"
    )
    return [int(r[0]) for r in rows]


@pytest.mark.parametrize("caught_up_first", [False, True])
async def test_changes_before_or_after_the_catch_up_leave_the_results_alike(
    db_location: Location, caught_up_first: bool
) -> None:
    store = await Store.open(db_location)
    writer = MessageWriter(store.path, index_after=3600)  # indexes only when asked
    await writer.start()
    try:
        await seed_chat(store, "c", 0, SAID)
        if caught_up_first:
            assert await found(store, "words")  # the search caught the index up
        for w in (
            MessageHide(platform="local", channel="main", platform_id="0-1", hidden_at=NOW),
            MessageRemoval(platform="local", channel="main", platform_id="0-2", deleted_at=NOW),
            MessageEdit(
                platform="local",
                channel="main",
                platform_id="0-3",
                text="edited after",
                questions=frozenset(),
                edited_at=NOW,
            ),
        ):
            writer.submit(w)
        await writer.flush()
        privacy = PrivacyStore(store.db)
        await privacy.opt_out("local:eve", NOW)
        await privacy.opt_out("local:fay", NOW)
        await privacy.opt_in("local:fay")

        assert await found(store, "words") == ["kept words", "returning words"]
        assert await found(store, "hidden") == []
        assert await found(store, "deleted") == []
        assert await found(store, "before") == []
        assert await found(store, "after") == ["edited after"]
        assert await found(store, "optedout") == []
        assert await indexed_ids(store) == await shown_ids(store)
    finally:
        await writer.close()
        await store.close()


async def test_the_writer_indexes_new_messages_once_its_queue_is_quiet(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "chat.db")
    session_id = await seed_chat(store, "c", 0, [Said("local:ann", "seeded")])
    await found(store, "seeded")  # index caught up with the seeded chat
    writer = MessageWriter(store.path, index_after=0.05)
    await writer.start()
    try:
        for i in range(3):
            writer.submit(message(session_id, i, f"quiet words {i}"))
        await writer.flush()
        deadline = time.monotonic() + 10
        # Nobody searches: the writer itself brings the index up once nothing comes.
        while len(await indexed_ids(store)) < 4:
            assert time.monotonic() < deadline, "the new messages were never indexed"
            await asyncio.sleep(0.05)
        assert await indexed_ids(store) == await shown_ids(store)
    finally:
        await writer.close()
        await store.close()


async def test_a_database_indexed_row_by_row_is_upgraded_without_a_word_twice(
    tmp_path: Path,
) -> None:
    """Migration 13 starts its mark at the newest message that migration 6's trigger
    already indexed: those are found once, the messages stored after it too."""
    path = tmp_path / "old.db"
    db = await SqliteDatabase.open(path)  # a database of the hashchat before migration 13
    await migrate(db, upto=12)
    old = Store(db, path)
    await seed_chat(old, "c", 0, [Said("local:ann", "older words"), Said("local:bob", "gone")])
    await old.close()
    store = await Store.open(path)  # migrates from 12 on
    try:
        await seed_chat(store, "c", 1, [Said("local:ann", "newer words")])
        writer = MessageWriter(store.path)
        await writer.start()
        remove = MessageRemoval(platform="local", channel="main", platform_id="0-1", deleted_at=NOW)
        await writer.submit(remove)
        await writer.close()
        assert await found(store, "words") == ["newer words", "older words"]
        assert await found(store, "gone") == []
        assert await indexed_ids(store) == await shown_ids(store)
    finally:
        await store.close()


_PEOPLE = (
    "SELECT session_id, author_key, platform, COUNT(*),"
    " SUM(CASE WHEN questions != '' THEN 1 ELSE 0 END) FROM messages"
    " WHERE deleted_at IS NULL AND hidden_at IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
_ANSWERS = (
    "SELECT session_id, questions, COUNT(*) FROM messages WHERE deleted_at IS NULL"
    " AND hidden_at IS NULL AND questions != '' GROUP BY 1, 2 ORDER BY 1, 2"
)


async def test_the_tallies_equal_a_recount_after_batches_with_replays(
    db_location: Location,
) -> None:
    """The numbers' tallies (per statement on PostgreSQL since migration 13) count a
    message replayed in the same batch or a later one once, and follow changes."""
    store = await Store.open(db_location)
    session_id = await seed_chat(store, "c", 0, [Said("local:ann", "A1 seeded", frozenset({1}))])
    writer = MessageWriter(store.path)
    await writer.start()
    try:
        batch = [message(session_id, i % 7, f"A{i % 3} words", author=f"local:p{i % 4}")
                 for i in range(20)]  # fmt: skip
        for m in batch:
            writer.submit(m)
        await writer.flush()
        for m in batch[:5]:  # delivered again after a restart
            writer.submit(m)
        writer.submit(
            MessageHide(platform="local", channel="main", platform_id="w1", hidden_at=NOW)
        )
        writer.submit(
            MessageEdit(
                platform="local",
                channel="main",
                platform_id="w2",
                text="no answer now",
                questions=frozenset(),
                edited_at=NOW,
            )
        )
        await writer.flush()
        people = await store.db.fetchall(
            "SELECT session_id, author_key, platform, messages, answers FROM chat_people"
            " WHERE messages > 0 ORDER BY 1, 2, 3"
        )
        answers = await store.db.fetchall(
            "SELECT session_id, questions, messages FROM chat_answers WHERE messages > 0"
            " ORDER BY 1, 2"
        )
        assert [tuple(map(str, r)) for r in people] == [
            tuple(map(str, r)) for r in await store.db.fetchall(_PEOPLE)
        ]
        assert [tuple(map(str, r)) for r in answers] == [
            tuple(map(str, r)) for r in await store.db.fetchall(_ANSWERS)
        ]
        assert sum(int(r[3]) for r in people) == 1 + 7 - 1  # seeded, 7 distinct, 1 hidden
    finally:
        await writer.close()
        await store.close()


def message(session_id: int, i: int, text: str, *, author: str = "local:ann") -> StoredMessage:
    questions = frozenset({int(text[1])}) if text[:1] == "A" and text[1:2].isdigit() else None
    return StoredMessage(
        session_id=session_id,
        platform="local",
        channel="main",
        thread=None,
        platform_id=f"w{i}",
        author_key=author,
        author_name=author.split(":")[1].capitalize(),
        text=text,
        sent_at=NOW,
        reply_to=None,
        url=None,
        questions=(questions or frozenset()) - {0},
        received_at=NOW,
    )
