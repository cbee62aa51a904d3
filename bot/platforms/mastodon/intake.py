"""Where statuses come from: read positions that only pass acknowledged statuses, and
streaming connections on their own threads that hand their events to the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import threading
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from mastodon.streaming import StreamListener

log = logging.getLogger(__name__)


def order(ident: str) -> tuple[int, str]:
    """Mastodon's ids are growing numbers (some servers use ULIDs): compare them so."""
    return (len(ident), ident)


def newer(a: str, b: str | None) -> bool:
    return b is None or order(a) > order(b)


@dataclass(slots=True)
class Source:
    """One sequence the bot reads (a hashtag's timeline, the notifications).

    ``position``: everything up to it has been fetched, so polling goes on from there.
    ``saved``: the durable cursor, moved only past items whose statuses are acknowledged
    (or that carried nothing to record), so a restart fetches whatever was not stored.

    The items not yet passed wait in a heap by id: each acknowledgement or event looks at
    the front only, so the cost per item is a logarithm, not a sort of the whole backlog,
    and an item leaves memory once the cursor has passed it.
    """

    key: str
    saved: str | None
    position: str | None = None
    items: dict[str, str | None] = field(default_factory=dict)  # item id -> status id
    # The stream takes over exactly where a poll finished: its items extend ``position``.
    synced: bool = False
    _front: list[tuple[int, str]] = field(default_factory=list)  # heap of (len, id)

    def __post_init__(self) -> None:
        self.position = self.saved

    def add(self, item: str, status: str | None, *, contiguous: bool) -> None:
        if self.saved is not None and not newer(item, self.saved):
            return
        if item not in self.items:
            self.items[item] = status
            heapq.heappush(self._front, order(item))
        if contiguous and newer(item, self.position):
            self.position = item

    def advance(self, acknowledged: Container[str]) -> str | None:
        """The new durable cursor when it can move, else None."""
        position = self.position
        if position is None:
            return None
        front, items = self._front, self.items
        best: str | None = position
        passed: str | None = None
        while front:
            item = front[0][1]
            if newer(item, position):
                break
            status = items[item]
            if status is not None and status not in acknowledged:
                best = passed  # the last item passed here (None: nothing moved)
                break
            heapq.heappop(front)
            del items[item]
            passed = item
        if best is None or not newer(best, self.saved):
            return None
        self.saved = best
        return best


JOIN_TIMEOUT = 10.0  # a thread still stuck in connecting is a daemon: it cannot hold us up

Deliver = Callable[[str, Any], None]
"""Called on the event loop with (kind, payload): update, edit, delete, notification,
connected, ended."""


class _Listener(StreamListener):
    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.connected = False

    def handle_stream(self, response: Any) -> None:
        if not self.stream.attach(response):
            return
        super().handle_stream(response)  # type: ignore[no-untyped-call]

    def handle_heartbeat(self) -> None:
        if not self.connected:  # the server's opening comment: subscribed from here on
            self.connected = True
            self.stream.post("connected", None)

    def on_update(self, status: Any) -> None:
        self.stream.post("update", status)

    def on_status_update(self, status: Any) -> None:
        self.stream.post("edit", status)

    def on_delete(self, status_id: Any) -> None:
        self.stream.post("delete", str(status_id))

    def on_notification(self, notification: Any) -> None:
        self.stream.post("notification", notification)

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        return None


class Stream:
    """One streaming connection, opened by ``open_`` (a blocking Mastodon.py call) on a
    thread of its own; closing shuts the socket so the blocked read ends at once."""

    def __init__(
        self,
        name: str,
        open_: Callable[[StreamListener], object],
        loop: asyncio.AbstractEventLoop,
        deliver: Deliver,
    ) -> None:
        self.name = name
        self._open = open_
        self._loop = loop
        self._deliver = deliver
        self._lock = threading.Lock()
        self._response: Any = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"mastodon-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def attach(self, response: Any) -> bool:
        with self._lock:
            self._response = response
            return not self._closing

    def post(self, kind: str, payload: Any) -> None:
        # The loop may already be gone when a thread finishes late at shutdown.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver, kind, payload)

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._open(_Listener(self))
        except Exception as exc:
            error = exc
        if not self._closing:
            log.info("mastodon %s stream ended: %s", self.name, error or "closed by the server")
        self.post("ended", error)

    async def stop(self) -> None:
        with self._lock:
            self._closing = True
            response = self._response
        if response is not None:
            with contextlib.suppress(Exception):
                response.raw.shutdown()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, JOIN_TIMEOUT)
