"""One writer task that stores incoming messages in group commits.

Every hot-path write goes through one queue so that inserts, edits and deletions of the
same message stay in order, and so that a burst of messages costs one transaction instead
of one per message. Each write's future resolves only after its batch is committed: that
is the moment a platform's read cursor may move past the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.store.backend import Database, Location, open_database
from bot.store.codec import encode_questions, ts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    session_id: int
    platform: str
    channel: str
    thread: str | None
    platform_id: str
    author_key: str
    author_name: str
    text: str
    sent_at: datetime
    reply_to: str | None
    url: str | None
    questions: frozenset[int]
    received_at: datetime
    hidden_at: datetime | None = None  # kept, but out of the transcript (a rule hid it)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdit:
    platform: str
    channel: str
    platform_id: str
    text: str
    questions: frozenset[int]
    edited_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRemoval:
    platform: str
    channel: str
    platform_id: str
    deleted_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageHide:
    """A moderator's or a rule's decision: the message stays stored but leaves the transcript."""

    platform: str
    channel: str
    platform_id: str
    hidden_at: datetime


Write = StoredMessage | MessageEdit | MessageRemoval | MessageHide
Row = tuple[object, ...]
# A write, its insert row (made when submitted, while the previous batch is committing),
# and the future that resolves once it is committed.
Pending = tuple[Write, Row | None, asyncio.Future[None]]

_COLUMNS = (
    "session_id, platform, channel, thread, platform_id, author_key, author_name, text,"
    " sent_at, reply_to, url, questions, received_at, hidden_at"
)
_WIDTH = _COLUMNS.count(",") + 1
# 500 rows x 13 values stays far below SQLite's limit of 32,766 bound parameters.
_ROWS_PER_STATEMENT = 500


@cache
def insert_sql(rows: int) -> str:
    """One statement for many rows.

    ``executemany`` hands the GIL back and forth once per row; while the event loop is
    busy, each hand-back can wait a whole switch interval, which made a burst of 350
    messages take half a second to store. Binding a batch at once costs one hand-back.
    """
    values = ", ".join(["(" + ", ".join("?" * _WIDTH) + ")"] * rows)
    return f"INSERT OR IGNORE INTO messages ({_COLUMNS}) VALUES {values}"


_INSERT = insert_sql(1)
_EDIT = (
    "UPDATE messages SET text = ?, questions = ?, edited_at = ?"
    " WHERE platform = ? AND channel = ? AND platform_id = ?"
)
_HIDE = "UPDATE messages SET hidden_at = ? WHERE platform = ? AND channel = ? AND platform_id = ?"
_DELETE = (
    "UPDATE messages SET deleted_at = ? WHERE platform = ? AND channel = ? AND platform_id = ?"
)


def insert_row(m: StoredMessage) -> Row:
    return (
        m.session_id,
        m.platform,
        m.channel,
        m.thread,
        m.platform_id,
        m.author_key,
        m.author_name,
        m.text,
        ts(m.sent_at),
        m.reply_to,
        m.url,
        encode_questions(m.questions),
        ts(m.received_at),
        None if m.hidden_at is None else ts(m.hidden_at),
    )


class MessageWriter:
    """Batches writes: at most ``max_batch`` rows, waiting at most ``max_delay`` seconds."""

    def __init__(
        self,
        path: Location,
        *,
        password: str | None = None,
        max_batch: int = 500,
        max_delay: float = 0.005,
        attempts: int = 5,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._path = path
        self._password = password
        self._on_commit = on_commit  # told how many writes each committed batch held
        self._db: Database | None = None
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._attempts = attempts
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open a connection of its own, so no other commit can split a batch."""
        self._db = await open_database(self._path, autocommit=True, password=self._password)
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def close(self) -> None:
        """Commit everything already submitted, then stop."""
        await self.flush()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._db:
            await self._db.close()

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed (or has failed)."""
        await self._queue.join()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, write: Write) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        row = insert_row(write) if isinstance(write, StoredMessage) else None
        self._queue.put_nowait((write, row, future))
        return future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._queue.qsize() < self._max_batch:
                await asyncio.sleep(self._max_delay)
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit_batch(self, batch: list[Pending]) -> None:
        """Commit a batch. If one write's data is refused, commit the writes one by one so
        it fails alone; a database that cannot write at all (after retries) fails them all."""
        try:
            await self._commit([(w, row) for w, row, _ in batch])
        except Exception as exc:
            assert self._db is not None
            if len(batch) > 1 and not isinstance(exc, self._db.transient_errors):
                for item in batch:
                    await self._commit_batch([item])
                return
            log.error(
                "could not store %d write(s), left unacknowledged for the platform to"
                " deliver again: %s",
                len(batch),
                exc,
            )
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        if self._on_commit is not None:
            self._on_commit(len(batch))
        for *_, future in batch:
            if not future.done():
                future.set_result(None)

    async def _commit(self, writes: list[tuple[Write, Row | None]]) -> None:
        assert self._db is not None, "start() the writer first"
        db = self._db
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.05, max=2),
            retry=retry_if_exception_type(db.transient_errors),
            reraise=True,
        ):
            with attempt:
                rows = [row for _, row in writes if row is not None]
                if len(rows) == len(writes) and len(rows) <= _ROWS_PER_STATEMENT:
                    # The common batch: one statement, atomic on its own in autocommit mode,
                    # so one trip to the database thread instead of three.
                    await _insert(db, rows)
                    return
                async with db.transaction():
                    await self._apply(db, writes)

    @staticmethod
    async def _apply(db: Database, writes: list[tuple[Write, Row | None]]) -> None:
        inserts: list[Row] = []
        for w, row in writes:
            if isinstance(w, StoredMessage):
                inserts.append(insert_row(w) if row is None else row)
                continue
            if inserts:  # keep order: earlier inserts land before an edit of the same message
                await _insert(db, inserts)
                inserts = []
            if isinstance(w, MessageEdit):
                await db.execute(
                    _EDIT,
                    (
                        w.text,
                        encode_questions(w.questions),
                        ts(w.edited_at),
                        w.platform,
                        w.channel,
                        w.platform_id,
                    ),
                )
            elif isinstance(w, MessageHide):
                await db.execute(_HIDE, (ts(w.hidden_at), w.platform, w.channel, w.platform_id))
            else:
                await db.execute(_DELETE, (ts(w.deleted_at), w.platform, w.channel, w.platform_id))
        if inserts:
            await _insert(db, inserts)


async def _insert(db: Database, rows: list[Row]) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        await db.execute(insert_sql(len(chunk)), [value for row in chunk for value in row])
