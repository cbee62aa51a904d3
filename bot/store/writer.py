"""One writer task that stores incoming messages in group commits.

Every hot-path write goes through one queue so that inserts, edits and deletions of the
same message stay in order, and so that a burst of messages costs one transaction instead
of one per message. A write is confirmed only after its batch is committed: that is the
moment a platform's read cursor may move past the message. Platform events are confirmed
by the batch (``enqueue``: one call of the reader's sink per batch, no future per
message), and the read cursors the platforms move meanwhile (``save_cursor``) are saved
with the next batch (one statement after its rows, or inside its transaction when it has
edits), so a cursor never costs a transaction of its own per message. New messages are
indexed for search in bulk (migration 13) when the queue is quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from itertools import chain

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.store.backend import Database, Location, open_database
from bot.store.codec import encode_questions, ts
from bot.store.search_index import catch_up
from bot.store.writer_sql import (
    DELETE,
    EDIT,
    HIDE,
    ROWS_PER_STATEMENT,
    cursors_sql,
    insert_for,
    insert_sql,
)
from bot.store.writes import (
    MessageEdit,
    MessageHide,
    MessageRemoval,
    Row,
    StoredMessage,
    Write,
    insert_row,
    new_row,
)

# The writes, defined in bot/store/writes.py, are imported from here too.
__all__ = [
    "MessageEdit",
    "MessageHide",
    "MessageRemoval",
    "MessageWriter",
    "Row",
    "StoredMessage",
    "Write",
    "insert_row",
    "insert_sql",
    "new_row",
]

log = logging.getLogger(__name__)


# Told, once per committed batch, the items enqueued with it, in order.
Sink = Callable[[list[object]], None]
# A write (None: nothing to store, only to confirm in order, unless a row is given), its
# insert row (made when submitted, while the previous batch is committing; a row without
# a write is a new message enqueued as a row alone, ``enqueue_row``), and who is told
# once it is committed: a future (``submit``) or a sink with its item (``enqueue``).
Pending = tuple[Write | None, Row | None, asyncio.Future[None] | None, Sink | None, object]
CursorKey = tuple[str, str]  # platform, key

# A batch this big means the messages arrive faster than they are stored, so the event
# loop is busy: then the database thread needs the GIL promptly (``in_a_burst``). A
# trickle, even of a long burst that a platform's client delivers slowly, leaves the
# interpreter's switch interval alone (see bot/store/backend/gil.py).
_BURST_ROWS = 50


class MessageWriter:
    """Batches writes: at most ``max_batch`` rows, committed as soon as the queue is empty;
    ``max_delay`` only bounds how long a batch keeps taking writes that are still coming."""

    def __init__(
        self,
        path: Location,
        *,
        password: str | None = None,
        max_batch: int = 500,
        max_delay: float = 0.005,
        attempts: int = 5,
        on_commit: Callable[[int], None] | None = None,
        index_after: float = 0.5,  # seconds of quiet before new messages are indexed
        index_at_most: float = 30.0,  # or once the oldest of them waited this long
    ) -> None:
        self._path = path
        self._password = password
        self._on_commit = on_commit  # told how many writes each committed batch held
        self._db: Database | None = None
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._attempts = attempts
        # A deque and one waiter rather than an asyncio.Queue: every message passes here,
        # and the queue's bookkeeping (a task_done and a getters check per item) was not
        # needed: flush() and close() wait for a marker instead.
        self._queue: deque[Pending] = deque()
        self._arrived: asyncio.Future[None] | None = None  # the writer task waits on it
        self._task: asyncio.Task[None] | None = None
        self._cursors: dict[CursorKey, str] = {}  # moved, not yet committed
        self._room = asyncio.Event()  # set whenever the queue is short
        self._index_after, self._index_at_most = index_after, index_at_most
        self._unindexed = 0  # messages committed since the last catch-up
        self._unindexed_since = 0.0  # loop time of the oldest of them

    async def start(self) -> None:
        """Open a connection of its own, so no other commit can split a batch."""
        self._db = await open_database(self._path, autocommit=True, password=self._password)
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def close(self) -> None:
        """Commit everything submitted, cursors included, then stop."""
        if self._cursors and not self._queue:
            self._wake()
        while self._task is not None and not self._task.done():
            await self.flush()
            if not self._queue:  # else others submitted more meanwhile: that goes too
                break
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._db:
            await self._index()  # a stopped bot leaves its messages searchable
            await self._db.close()

    async def flush(self) -> None:
        """Wait until everything submitted before this call is committed (or has failed),
        with the cursors moved so far. Not what comes after: waiting for an empty queue,
        a chat's close waited for a lull in the answers of all the chats under way."""
        if self._task is None:  # not started: nothing is committed, nothing to wait for
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._put((None, None, done, None, None))  # confirmed in order
        with contextlib.suppress(Exception):  # a failed write fails alone, not the caller
            await done

    @property
    def pending(self) -> int:
        """Writes submitted and not yet taken into a batch."""
        return len(self._queue)

    async def room(self, below: int) -> None:
        """Return once fewer than ``below`` writes wait: a reader faster than the disk
        waits here, so what is held in memory is bounded by a few batches, not the chat."""
        while len(self._queue) >= below:
            self._room.clear()
            await self._room.wait()

    def submit(self, write: Write) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        row = insert_row(write) if isinstance(write, StoredMessage) else None
        self._put((write, row, future, None, None))
        return future

    def enqueue(self, write: Write | None, sink: Sink, item: object) -> None:
        """Queue ``write`` (None: nothing to store); once its batch is committed, ``sink``
        gets ``item`` with the others of the batch, in order. A write that fails never
        reaches the sink: its item is not confirmed."""
        row = insert_row(write) if isinstance(write, StoredMessage) else None
        self._put((write, row, None, sink, item))

    def enqueue_row(self, row: Row, sink: Sink, item: object) -> None:
        """``enqueue`` for a new message given as its row (``new_row``): one object less
        per message on the busiest path."""
        self._queue.append((None, row, None, sink, item))  # _put, inlined
        if self._arrived is not None:
            self._arrive()

    def save_cursor(self, platform: str, key: str, value: str) -> None:
        """Move a read cursor; it is saved with the next batch (or at once when idle)."""
        idle = not self._cursors and not self._queue
        self._cursors[(platform, key)] = value
        if idle:
            self._wake()

    def unsaved_cursor(self, platform: str, key: str) -> str | None:
        return self._cursors.get((platform, key))

    def _wake(self) -> None:
        self._put((None, None, None, None, None))

    def _put(self, pending: Pending) -> None:
        self._queue.append(pending)
        if self._arrived is not None:
            self._arrive()

    def _arrive(self) -> None:
        arrived, self._arrived = self._arrived, None
        if arrived is not None and not arrived.done():
            arrived.set_result(None)

    def _take(self, most: int) -> list[Pending]:
        queue = self._queue
        return [queue.popleft() for _ in range(min(most, len(queue)))]

    async def _run(self) -> None:
        queue, loop = self._queue, asyncio.get_running_loop()
        while True:
            if not queue:
                self._arrived = loop.create_future()
                try:  # new messages not yet searchable: indexed once the queue is quiet
                    async with asyncio.timeout(self._index_after if self._unindexed else None):
                        await self._arrived
                except TimeoutError:
                    self._arrived = None
                    await self._index()
                    continue
            until = loop.time() + self._max_delay
            batch = self._take(self._max_batch)
            while len(batch) < self._max_batch:
                # One turn of the loop lets a reader that is mid-message add it; then the
                # batch goes as it is (the window is an upper bound, not a wait).
                await asyncio.sleep(0)
                if not queue or loop.time() >= until:
                    break
                batch += self._take(self._max_batch - len(batch))
            try:
                await self._commit_batch(batch)
            finally:
                self._room.set()  # those waiting for room look again
            if self._unindexed and loop.time() - self._unindexed_since >= self._index_at_most:
                await self._index()

    async def _index(self) -> None:
        """On failure: logged once, retried after the next commit, or by the next search."""
        if not self._unindexed or self._db is None:
            return
        self._unindexed = 0
        try:
            await catch_up(self._db)
        except Exception as exc:
            log.warning("could not index new messages for search yet: %s", exc)

    async def _commit_batch(self, batch: list[Pending]) -> None:
        """Commit a batch with the cursors moved since the last one. If one write's data is
        refused, commit the writes one by one so it fails alone; a database that cannot
        write at all (after retries) fails them all, and keeps the cursors for later."""
        cursors, self._cursors = self._cursors, {}
        # Rows taken straight from the pending items (no pair made per message: this runs
        # for every message of a burst); edits, hides and removals are counted.
        rows = [p[1] for p in batch if p[1] is not None]
        changes = sum(1 for p in batch if p[1] is None and p[0] is not None)
        writes = len(rows) + changes
        try:
            if writes or cursors:
                await self._commit(batch, rows, changes, cursors)
        except Exception as exc:
            assert self._db is not None
            if writes > 1 and not isinstance(exc, self._db.transient_errors):
                self._keep(cursors)
                for item in batch:
                    await self._commit_batch([item])
                return
            self._keep(cursors)
            log.error(
                "could not store %d write(s), left unacknowledged for the platform to"
                " deliver again: %s",
                writes,
                exc,
            )
            for _, _, future, _, _ in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        if writes:
            if not self._unindexed:  # (on PostgreSQL a catch-up does nothing: no harm)
                self._unindexed_since = asyncio.get_running_loop().time()
            self._unindexed += writes
            if self._on_commit is not None:
                self._on_commit(writes)
        _confirm(batch)

    def _keep(self, cursors: Mapping[CursorKey, str]) -> None:
        """Cursors of a batch that was not committed wait for the next one (newer win)."""
        for key, value in cursors.items():
            self._cursors.setdefault(key, value)

    async def _commit(
        self, batch: list[Pending], rows: list[Row], changes: int, cursors: Mapping[CursorKey, str]
    ) -> None:
        """Store the batch's ``rows`` and its ``changes`` (edits, hides, removals), in order."""
        assert self._db is not None, "start() the writer first"
        db = self._db
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.05, max=2),
            retry=retry_if_exception_type(db.transient_errors),
            reraise=True,
        ):
            with attempt:
                values = [v for (platform, key), value in cursors.items()
                          for v in (platform, key, value)]  # fmt: skip
                if not changes and len(rows) <= ROWS_PER_STATEMENT:
                    # The common batch: one statement, atomic on its own in autocommit mode
                    # (and on PostgreSQL, whose pool connections autocommit),
                    # so one trip to the database thread instead of three (each trip can
                    # wait a whole GIL switch interval while the event loop is busy).
                    # A big batch: the event loop is busy (see _BURST_ROWS).
                    with db.in_a_burst() if len(rows) >= _BURST_ROWS else contextlib.nullcontext():
                        await _insert(db, rows)
                    if values:
                        # The cursors name messages of batches committed before this one,
                        # so a statement of their own is as safe as this batch's
                        # transaction, and one trip instead of three.
                        await db.execute(cursors_sql(len(cursors)), values)
                    return
                async with db.transaction():
                    await self._apply(db, batch)
                    if values:
                        await db.execute(cursors_sql(len(cursors)), values)

    @staticmethod
    async def _apply(db: Database, batch: list[Pending]) -> None:
        inserts: list[Row] = []
        for w, row, *_ in batch:
            if row is not None:
                inserts.append(row)
                continue
            if w is None:
                continue  # nothing to store: an item only confirmed in order
            if isinstance(w, StoredMessage):
                inserts.append(insert_row(w))
                continue
            if inserts:  # keep order: earlier inserts land before an edit of the same message
                await _insert(db, inserts)
                inserts = []
            if isinstance(w, MessageEdit):
                await db.execute(
                    EDIT,
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
                await db.execute(HIDE, (ts(w.hidden_at), w.platform, w.channel, w.platform_id))
            elif isinstance(w, MessageRemoval):
                await db.execute(DELETE, (ts(w.deleted_at), w.platform, w.channel, w.platform_id))
        if inserts:
            await _insert(db, inserts)


def _confirm(batch: list[Pending]) -> None:
    """Resolve the futures, and tell each sink its items of the batch in one call."""
    told: dict[Sink, list[object]] = {}
    last: Sink | None = None
    items: list[object] = []
    for _, _, future, sink, item in batch:
        if future is not None:
            if not future.done():
                future.set_result(None)
        elif sink is not None:
            if sink is not last:  # a run of one reader's items: one lookup
                items, last = told.setdefault(sink, []), sink
            items.append(item)
    for sink, items in told.items():
        sink(items)


async def _insert(db: Database, rows: list[Row]) -> None:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        sql, padding = insert_for(db.dialect, len(chunk))
        await db.execute(sql, [*chain.from_iterable(chunk), *[""] * padding])
