"""The store contract, on SQLite and on a real PostgreSQL server: schema migrations, the
group-commit message writer, the tracker's acknowledgements, read cursors and post claims."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import aiosqlite
import psycopg
import pytest

from bot.clock import ManualClock
from bot.database_url import DatabaseUrl
from bot.domain import ChannelRef, UserRef
from bot.live import LiveIndex
from bot.platforms.local.platform import LocalPlatform
from bot.store import MessageWriter, PostState, Store, StoredMessage
from bot.store.backend import Location, open_database
from bot.store.backend.sqlite import SqliteDatabase
from bot.store.connection import transaction
from bot.store.migrations import MIGRATIONS, migrate
from bot.store.writer import MessageEdit, MessageRemoval
from bot.timeline import QuestionPlan, SessionPlan, plan_steps
from bot.tracker import Tracker
from tests.pg_server import PgServer

# What a refused write raises, per backend.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
ANN = UserRef("local", "ann", "Ann")


def plan(channel: str = "local:main", *, series: str = "march") -> SessionPlan:
    return SessionPlan(
        community="hcsmeu",
        series=series,
        slug=f"hcsmeu/2026-03-04-{series}",
        title="Patients as partners",
        hashtag="#hcsmeu",
        locale="en",
        timezone="Europe/Paris",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        channels=(channel,),
        questions=(QuestionPlan(1, "What does partnership mean to you?", timedelta(minutes=10)),),
        reminders=(timedelta(hours=1),),
    )


def message(
    session_id: int, platform_id: str, text: str = "A1: sharing decisions"
) -> StoredMessage:
    sent = START + timedelta(minutes=11)
    return StoredMessage(
        session_id=session_id,
        platform="local",
        channel="main",
        thread=None,
        platform_id=platform_id,
        author_key="local:ann",
        author_name="Ann",
        text=text,
        sent_at=sent,
        reply_to=None,
        url=f"local://main/{platform_id}",
        questions=frozenset({1}),
        received_at=sent,
    )


async def rows(store: Store) -> dict[str, tuple[str, str | None, str | None]]:
    """platform_id -> (text, edited_at, deleted_at) of every stored message."""
    async with store.db.execute(
        "SELECT platform_id, text, edited_at, deleted_at FROM messages"
    ) as cur:
        return {pid: (text, edited, deleted) for pid, text, edited, deleted in await cur.fetchall()}


@pytest.fixture
async def store(db_location: Location) -> AsyncIterator[Store]:
    s = await Store.open(db_location)
    yield s
    await s.close()


@pytest.fixture
async def session_id(store: Store) -> int:
    p = plan()
    return await store.ensure_session(p, plan_steps(p), START - timedelta(days=1))


@pytest.fixture
async def writer(store: Store, session_id: int) -> AsyncIterator[MessageWriter]:
    w = MessageWriter(store.path)
    await w.start()
    yield w
    await w.close()


# migrations ---------------------------------------------------------------------------


async def pragma(path: Path, name: str) -> object:
    async with aiosqlite.connect(path) as db, db.execute(f"PRAGMA {name}") as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def test_a_new_database_is_migrated_to_the_latest_version_in_wal_mode(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sub" / "chat.db"
    store = await Store.open(path)
    await store.close()
    assert path.is_file()
    assert await pragma(path, "user_version") == len(MIGRATIONS)
    assert await pragma(path, "journal_mode") == "wal"


async def test_reopening_a_migrated_database_keeps_its_version_and_data(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = await Store.open(path)
    await store.set_cursor("local", "main", "41")
    await store.close()

    again = await Store.open(path)
    try:
        assert await again.cursor("local", "main") == "41"
    finally:
        await again.close()
    assert await pragma(path, "user_version") == len(MIGRATIONS)


async def newer_database(tmp_path: Path) -> Path:
    path = tmp_path / "from-the-future.db"
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        await db.commit()
    return path


async def test_a_database_from_a_newer_hashchat_is_refused_with_upgrade_advice(
    tmp_path: Path,
) -> None:
    path = await newer_database(tmp_path)
    db = await SqliteDatabase.open(path)
    try:
        with pytest.raises(RuntimeError, match=r"schema version \d+, newer .*upgrade hashchat"):
            await migrate(db)
        async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
            assert await cur.fetchall() == []  # nothing was created in someone else's schema
    finally:
        await db.close()


async def test_postgresql_is_migrated_once_and_refuses_a_newer_schema(postgres: PgServer) -> None:
    where = DatabaseUrl(postgres.create_database("migrations"))
    store = await Store.open(where)
    await store.set_cursor("local", "main", "41")
    await store.close()
    again = await Store.open(where)  # a second start runs nothing again, keeps the data
    try:
        assert await again.db.fetchall("SELECT version FROM hashchat_schema") == [
            (len(MIGRATIONS),)
        ]
        assert await again.cursor("local", "main") == "41"
        async with transaction(again.db):
            await again.db.execute("UPDATE hashchat_schema SET version = version + 1")
    finally:
        await again.close()
    with pytest.raises(RuntimeError, match=r"schema version \d+, newer .*upgrade hashchat"):
        await Store.open(where)


def _connections_in(tb: TracebackType | None) -> list[aiosqlite.Connection]:
    found: list[aiosqlite.Connection] = []
    while tb is not None:
        found += [v for v in tb.tb_frame.f_locals.values() if isinstance(v, aiosqlite.Connection)]
        tb = tb.tb_next
    return found


async def test_refusing_a_newer_database_leaves_no_connection_open(tmp_path: Path) -> None:
    path = await newer_database(tmp_path)
    with pytest.raises(RuntimeError, match="upgrade hashchat") as excinfo:
        await Store.open(path)
    left_open = []
    for db in _connections_in(excinfo.tb):
        try:
            await db.commit()
        except ValueError:  # "Connection closed": what a clean refusal leaves behind
            continue
        left_open.append(db)
        await db.close()  # so this test itself does not leave a thread running
    assert left_open == []


# the message writer -------------------------------------------------------------------


def test_the_writers_retry_library_is_a_declared_dependency() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {
        re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()
        for requirement in pyproject["project"]["dependencies"]
    }
    assert "aiosqlite" in declared  # the parsing above reads the list it should
    assert "tenacity" in declared


async def test_a_burst_of_a_thousand_messages_is_all_stored(
    store: Store, session_id: int, writer: MessageWriter
) -> None:
    futures = [writer.submit(message(session_id, str(i))) for i in range(1000)]
    await asyncio.gather(*futures)
    stored = await rows(store)
    assert len(stored) == 1000
    assert set(stored) == {str(i) for i in range(1000)}


@pytest.mark.parametrize("size", [1, 3, 17, 255, 257, 500, 777])
async def test_a_batch_of_any_size_stores_exactly_its_messages_in_order(
    store: Store, session_id: int, writer: MessageWriter, size: int
) -> None:
    # Submitted in one go, they are one batch (two past 500); SQLite's insert is padded
    # up to a size it has compiled before, and the padding must never be stored. The
    # columns a row holds as '' for NULL (new_row) are NULL in the database.
    futures = [writer.submit(message(session_id, str(i), f"A1: answer {i}")) for i in range(size)]
    await asyncio.gather(*futures)
    async with store.db.execute(
        "SELECT platform_id, text, session_id, url, thread, reply_to, hidden_at"
        " FROM messages ORDER BY id"
    ) as cur:
        stored = [tuple(row) for row in await cur.fetchall()]
    assert stored == [
        (str(i), f"A1: answer {i}", session_id, f"local://main/{i}", None, None, None)
        for i in range(size)
    ]


async def test_a_replayed_message_is_stored_once(
    store: Store, session_id: int, writer: MessageWriter
) -> None:
    first = message(session_id, "7", "A1: first delivery")
    await asyncio.gather(writer.submit(first), writer.submit(first))  # replay in one batch
    await writer.submit(replace(first, text="A1: redelivered after a restart"))  # and later
    async with store.db.execute("SELECT COUNT(*) FROM messages") as cur:
        assert await cur.fetchone() == (1,)
    assert (await rows(store))["7"][0] == "A1: first delivery"


async def test_insert_edit_and_removal_in_one_batch_are_applied_in_order(
    store: Store, session_id: int, writer: MessageWriter
) -> None:
    edited_at = START + timedelta(minutes=12)
    deleted_at = START + timedelta(minutes=13)
    futures = [
        writer.submit(message(session_id, "9", "A1: sharing decisons")),
        writer.submit(
            MessageEdit(
                platform="local",
                channel="main",
                platform_id="9",
                text="A1: sharing decisions",
                questions=frozenset({1}),
                edited_at=edited_at,
            )
        ),
        writer.submit(
            MessageRemoval(platform="local", channel="main", platform_id="9", deleted_at=deleted_at)
        ),
    ]
    assert writer.pending == 3  # nothing taken yet: the three land in the same batch
    await asyncio.gather(*futures)
    text, edited, deleted = (await rows(store))["9"]
    assert text == "A1: sharing decisions"
    assert edited is not None
    assert datetime.fromisoformat(edited) == edited_at
    assert deleted is not None
    assert datetime.fromisoformat(deleted) == deleted_at
    assert (await store.transcript_source(session_id)).messages == ()


async def test_a_write_that_cannot_be_stored_fails_alone_and_later_batches_still_commit(
    store: Store, session_id: int, writer: MessageWriter
) -> None:
    await writer.submit(message(session_id, "1"))
    with pytest.raises(INTEGRITY_ERRORS, match=r"(?i)foreign key"):
        await writer.submit(message(session_id + 1000, "2"))  # no such session
    await asyncio.gather(*(writer.submit(message(session_id, str(i))) for i in range(3, 6)))
    assert set(await rows(store)) == {"1", "3", "4", "5"}


@pytest.mark.parametrize("max_batch", [1, 500], ids=["one-per-batch", "same-batch"])
async def test_only_the_bad_write_fails_even_in_the_same_batch(
    store: Store, session_id: int, max_batch: int
) -> None:
    writer = MessageWriter(store.path, max_batch=max_batch)
    await writer.start()
    try:
        good_before = writer.submit(message(session_id, "1"))
        bad = writer.submit(message(session_id + 1000, "2"))
        good_after = writer.submit(message(session_id, "3"))
        results = await asyncio.gather(good_before, bad, good_after, return_exceptions=True)
    finally:
        await writer.close()
    assert results[0] is None
    assert isinstance(results[1], INTEGRITY_ERRORS)
    assert results[2] is None
    assert set(await rows(store)) == {"1", "3"}


async def test_flush_returns_once_everything_submitted_is_readable_elsewhere(
    store: Store, session_id: int, writer: MessageWriter
) -> None:
    futures = [writer.submit(message(session_id, str(i))) for i in range(50)]
    await writer.flush()
    assert all(f.done() and f.exception() is None for f in futures)
    assert writer.pending == 0
    # The store's connection is not the writer's: the rows are committed, not just written.
    assert len(await rows(store)) == 50


async def test_close_commits_what_was_submitted_before_stopping(
    store: Store, session_id: int
) -> None:
    writer = MessageWriter(store.path)
    await writer.start()
    futures = [writer.submit(message(session_id, str(i))) for i in range(20)]
    await writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert len(await rows(store)) == 20


# the tracker: acknowledged only once stored ---------------------------------------------


def test_a_channel_belongs_to_the_chat_live_in_it_now_as_chats_open_and_close() -> None:
    live = LiveIndex()
    main = ChannelRef.parse("local:main")
    assert live.for_channel(main) is None  # asked before any chat: nothing to file under
    opened = live.open(1, plan("local:main"))
    assert live.for_channel(main) is opened
    assert live.for_channel(ChannelRef.parse("local:side")) is None
    live.close(1)
    assert live.for_channel(main) is None
    assert live.open(2, plan("local:main", series="next")) is live.for_channel(main)


async def test_a_message_that_could_not_be_stored_is_never_acknowledged(store: Store) -> None:
    clock = ManualClock(START + timedelta(minutes=11))
    main, side = plan("local:main", series="main"), plan("local:side", series="side")
    main_id = await store.ensure_session(main, plan_steps(main), START)
    side_id = await store.ensure_session(side, plan_steps(side), START)
    live = LiveIndex()
    live.open(main_id, main)
    live.open(side_id, side)
    # The side session's row disappears while the bot still thinks it is live:
    # its messages now break the foreign key.
    async with transaction(store.db):
        await store.db.execute("DELETE FROM sessions WHERE id = ?", (side_id,))

    platform = LocalPlatform(clock)
    writer = MessageWriter(store.path)
    await writer.start()
    tracker = Tracker(store=store, writer=writer, live=live, clock=clock)
    consuming = asyncio.create_task(tracker.consume(platform))
    try:
        lost = platform.say(ANN, "local:side", "A1: into the void")
        await platform.drained()
        await writer.flush()  # its own batch: the failure cannot touch the good message
        kept = platform.say(ANN, "local:main", "A1: sharing decisions")
        await platform.drained()
        await writer.flush()
    finally:
        await platform.close()
        await consuming  # returns once every committed event has been acknowledged
        await writer.close()

    assert platform.acknowledged == [kept.id]
    assert [m.text for m in (await store.transcript_source(main_id)).messages] == [
        "A1: sharing decisions"
    ]
    assert set(await rows(store)) == {kept.id}
    assert lost.id not in platform.acknowledged


# cursors -------------------------------------------------------------------------------


async def test_cursors_are_stored_overwritten_and_kept_per_platform(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = await Store.open(path)
    try:
        assert await store.cursor("telegram", "updates") is None
        await store.set_cursor("telegram", "updates", "100")
        await store.set_cursor("mastodon", "updates", "abc")
        assert await store.cursor("telegram", "updates") == "100"
        await store.set_cursor("telegram", "updates", "101")
        assert await store.cursor("telegram", "updates") == "101"
        assert await store.cursor("mastodon", "updates") == "abc"
    finally:
        await store.close()

    reopened = await Store.open(path)  # a restart resumes where the bot stopped reading
    try:
        assert await reopened.cursor("telegram", "updates") == "101"
        assert await reopened.cursor("mastodon", "updates") == "abc"
    finally:
        await reopened.close()


# post claims ---------------------------------------------------------------------------


async def test_only_the_first_claim_of_a_post_wins(store: Store, session_id: int) -> None:
    now = START + timedelta(minutes=10)
    assert await store.claim_post(session_id, "q1", "local:main", now) is True
    assert await store.claim_post(session_id, "q1", "local:main", now) is False
    # Another channel or another step is a different post.
    assert await store.claim_post(session_id, "q1", "local:side", now) is True
    assert await store.claim_post(session_id, "welcome", "local:main", now) is True
    post = (await store.posts(session_id))[("q1", "local:main")]
    assert post.state is PostState.SENDING
    assert post.message_id is None


async def test_a_released_claim_can_be_claimed_again(store: Store, session_id: int) -> None:
    now = START + timedelta(minutes=10)
    assert await store.claim_post(session_id, "q1", "local:main", now)
    await store.release_post(session_id, "q1", "local:main")
    assert ("q1", "local:main") not in await store.posts(session_id)
    assert await store.claim_post(session_id, "q1", "local:main", now) is True


async def test_a_finished_post_records_its_message_and_cannot_be_released_or_reclaimed(
    store: Store, session_id: int
) -> None:
    now = START + timedelta(minutes=10)
    assert await store.claim_post(session_id, "q1", "local:main", now)
    await store.finish_post(session_id, "q1", "local:main", PostState.SENT, now, message_id="42")
    post = (await store.posts(session_id))[("q1", "local:main")]
    assert post.state is PostState.SENT
    assert post.message_id == "42"
    assert post.late is False

    await store.release_post(session_id, "q1", "local:main")  # only a 'sending' claim goes
    assert await store.claim_post(session_id, "q1", "local:main", now) is False
    assert (await store.posts(session_id))[("q1", "local:main")].message_id == "42"


# units of writes on the shared connection ---------------------------------------------


async def test_a_failed_unit_is_undone_whole_while_a_write_next_to_it_is_kept(
    store: Store, session_id: int
) -> None:
    """An adapter saves its cursor while a moderator's multi-statement change fails:
    the cursor must stay, and no half of the failed change may be committed."""
    saves: list[asyncio.Task[None]] = []

    async def failing_unit() -> None:
        async with transaction(store.db):
            await store.db.execute("UPDATE sessions SET state = 'live' WHERE id = ?", (session_id,))
            saves.append(asyncio.create_task(store.set_cursor("telegram", "offset", "42")))
            await store.db.execute("SELECT 1")  # a round trip in which the task runs
            raise RuntimeError("second statement failed")

    with pytest.raises(RuntimeError, match="second statement failed"):
        await failing_unit()
    await saves[0]
    assert (await store.session(session_id)).state == "planned"
    other = await open_database(store.path)  # what is really committed
    try:
        assert await other.fetchall("SELECT value FROM cursors") == [("42",)]
        assert await other.fetchall("SELECT state FROM sessions") == [("planned",)]
    finally:
        await other.close()
