"""A Mastodon server on 127.0.0.1 for the adapter's tests: mastodon_mock 0.6.1 (a real
FastAPI implementation of the API, streaming included) served by uvicorn on a thread,
behind a thin ASGI layer that can do what the mock cannot: drop the open streams,
refuse streaming for a while, and lose the answer to a post after it was made."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from mastodon import Mastodon
from mastodon_mock import services
from mastodon_mock.app import create_app
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)
from mastodon_mock.db.base import Base
from mastodon_mock.routers import statuses as statuses_router

from bot.platforms.mastodon.text import html_to_text
from tests.fakes.mastodon_preload import Preloaded

BOT_TOKEN = "bot-token-9f3c2e7a51d4"
DOMAIN = "mock.local"
SEED = SeedConfig(
    accounts=[
        SeedAccount(username="hashchat", display_name="hashchat", bot=True, access_token=BOT_TOKEN),
        SeedAccount(username="alice", display_name="Alice (moderator)", access_token="alice-t"),
        SeedAccount(username="ann", display_name="Ann", access_token="ann-t"),
        SeedAccount(username="bob", display_name="Bob", access_token="bob-t"),
        *(
            SeedAccount(username=name, display_name=name.title(), access_token=f"{name}-t")
            for name in ("cat", "dan", "eve", "fay")
        ),
    ]
)
TOKENS = {a.username: a.access_token for a in SEED.accounts}
_STREAMING = "/api/v1/streaming"
_SEEDED = frozenset({"accounts", "oauth_apps", "oauth_tokens"})


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    path: str
    query: str
    idempotency_key: str | None
    by_bot: bool = False
    at: str = ""  # ISO UTC, when the request arrived
    status: int = 0  # the HTTP status answered (0: none, the answer was lost)


class Controls:
    """The ASGI layer in front of the mock; its switches may be flipped from any thread.

    It also keeps what the bot posted, as the bot's own answers said (ids, texts and the
    time each post was accepted), so a test reads the bot's posts without asking the
    mock, and refuses a share of them on demand (``fail_ratio``) as a busy server does.
    """

    def __init__(self, app: Any, *, seed: int = 10) -> None:
        self.app = app
        self.requests: list[Seen] = []
        self.streaming_down = False
        self.lose_post_answers = 0
        self.cut_posts = 0  # posts whose connection is cut before the server sees them
        self.refuse: dict[str, int] = {}  # path prefix -> HTTP status, e.g. a missing scope
        self.refusal = "This action is outside the authorized scopes"  # what 4xx say
        # "GET /api/v1/statuses" -> 405: exactly that method and path (a server without it)
        self.refuse_exact: dict[str, int] = {}
        self.ignore_idempotency = False  # a server that does not honour Idempotency-Key
        self.fail_ratio = 0.0  # share of the bot's POST /api/v1/statuses refused...
        self.fail_statuses: tuple[int, ...] = (429, 500)  # ...with one of these
        self.bot_posts: dict[str, dict[str, Any]] = {}  # status id -> what the bot posted
        self.streams_opened = 0
        self._random = random.Random(seed)
        self._open: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.control: Any = None  # the /_control/ API, when run as a process
        self.preloaded: Preloaded | None = None  # statuses served without the mock

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.streaming_down = False
            self.lose_post_answers = 0
            self.cut_posts = 0
            self.refuse = {}
            self.refusal = "This action is outside the authorized scopes"
            self.refuse_exact = {}
            self.ignore_idempotency = False
            self.fail_ratio = 0.0
            self.bot_posts.clear()
            self.streams_opened = 0
            self.preloaded = None

    def drop_streams(self) -> None:
        """End every open stream, as a server restart or a proxy timeout would."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(lambda: [e.set() for e in list(self._open)])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._loop = asyncio.get_running_loop()
        path = scope["path"]
        if self.control is not None and path.startswith("/_control/"):
            await self.control(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        by_bot = headers.get(b"authorization") == f"Bearer {BOT_TOKEN}".encode()
        if self.ignore_idempotency and key is not None:
            kept = [h for h in scope["headers"] if h[0] != b"idempotency-key"]
            scope = {**scope, "headers": kept}
        seen = Seen(
            scope["method"],
            path,
            scope["query_string"].decode(),
            None if key is None else key.decode(),
            by_bot,
            datetime.now(UTC).isoformat(),
        )
        answered: dict[str, Any] = {"status": 0}
        with self._lock:
            self.requests.append(seen)
            index = len(self.requests) - 1
        try:
            await self._route(scope, receive, _Recording(send, answered, by_bot))
        finally:
            with self._lock:
                self.requests[index] = replace(seen, status=answered["status"])
            if by_bot:
                self._record_bot(scope["method"], path, answered)

    async def _route(self, scope: Any, receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        refused = self.refuse_exact.get(f"{method} {path}")
        if refused is None:
            refused = next((code for p, code in self.refuse.items() if path.startswith(p)), None)
        if refused is None and method == "POST" and path == "/api/v1/statuses":
            refused = self._failed_post(send.by_bot)
        if refused is not None:
            body = json.dumps({"error": self.refusal}).encode()
            if refused == 429:
                body = b'{"error": "Too many requests"}'
            elif refused >= 500 or refused == 405:
                body = b'{"error": "refused by the stand-in"}'
            await send({"type": "http.response.start", "status": refused, "headers": []})
            await send({"type": "http.response.body", "body": body})
        elif self.preloaded is not None and self.preloaded.serves(method, path):
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            page = self.preloaded.page(scope["query_string"].decode())
            await send({"type": "http.response.body", "body": page})
        elif path.startswith(_STREAMING) and not path.endswith("/health"):
            await self._stream(scope, receive, send)
        elif method == "POST" and path == "/api/v1/statuses" and self._lose():
            await self._lost(scope, receive, send)
        elif method == "POST" and path == "/api/v1/statuses" and self._cut():
            # Nothing made, and the connection dies with the answer unfinished.
            headers = [(b"content-type", b"application/json"), (b"content-length", b"999")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            raise ConnectionAbortedError("cut before the server saw it (a test's doing)")
        else:
            await self.app(scope, receive, send)

    def _failed_post(self, by_bot: bool) -> int | None:
        with self._lock:
            if not by_bot or self.fail_ratio <= 0 or self._random.random() >= self.fail_ratio:
                return None
            return self._random.choice(self.fail_statuses)

    def _record_bot(self, method: str, path: str, answered: dict[str, Any]) -> None:
        """What the bot's own request made: a post (its answer's fields), or a deletion."""
        if answered["status"] != 200:
            return
        if method == "POST" and path == "/api/v1/statuses":
            try:
                status = json.loads(b"".join(answered["body"]))
            except ValueError:
                return
            with self._lock:
                self.bot_posts.setdefault(str(status["id"]), {
                    "id": str(status["id"]),
                    "visibility": status.get("visibility"),
                    "text": html_to_text(str(status.get("content") or "")),
                    "spoiler_text": status.get("spoiler_text") or "",
                    "in_reply_to_id": status.get("in_reply_to_id"),
                    "mentions": [m["acct"] for m in status.get("mentions") or []],
                    "at": datetime.now(UTC).isoformat(),
                    "deleted": False,
                })  # fmt: skip
        elif method == "DELETE" and path.startswith("/api/v1/statuses/"):
            with self._lock:
                post = self.bot_posts.get(path.rsplit("/", 1)[-1])
                if post is not None:
                    post["deleted"] = True

    def _cut(self) -> bool:
        with self._lock:
            if self.cut_posts <= 0:
                return False
            self.cut_posts -= 1
            return True

    def _lose(self) -> bool:
        with self._lock:
            if self.lose_post_answers <= 0:
                return False
            self.lose_post_answers -= 1
            return True

    async def _stream(self, scope: Any, receive: Any, send: Any) -> None:
        if self.streaming_down:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"streaming is down"})
            return
        dropped = asyncio.Event()
        self._open.add(dropped)
        self.streams_opened += 1

        async def receive_or_drop() -> Any:
            if dropped.is_set():  # answered without waiting: the mock asks in a cancelled scope
                return {"type": "http.disconnect"}
            message = asyncio.ensure_future(receive())
            drop = asyncio.ensure_future(dropped.wait())
            try:
                await asyncio.wait({message, drop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                drop.cancel()
                if not message.done():
                    message.cancel()
            return message.result() if message.done() else {"type": "http.disconnect"}

        try:
            await self.app(scope, receive_or_drop, send)
        finally:
            self._open.discard(dropped)

    async def _lost(self, scope: Any, receive: Any, send: Any) -> None:
        """The status is made, but its answer never arrives: the headers, then silence."""

        async def headers_only(message: Any) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif isinstance(send, _Recording):
                send.keep(message)  # made all the same: the bot's post is recorded

        await self.app(scope, receive, headers_only)
        raise ConnectionAbortedError("the answer was lost on its way (a test's doing)")

    def posts(self) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


class _Recording:
    """Passes an answer on, keeping its status (and, for the bot, its body)."""

    def __init__(self, send: Any, answered: dict[str, Any], by_bot: bool) -> None:
        self._send = send
        self.answered = answered
        self.by_bot = by_bot
        answered["body"] = []

    async def __call__(self, message: Any) -> None:
        self.keep(message)
        await self._send(message)

    def keep(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.answered["status"] = message["status"]
        elif message["type"] == "http.response.body" and self.by_bot:
            self.answered["body"].append(message.get("body", b""))


class MastodonStandIn:
    """mastodon_mock on a free loopback port; ``stamp`` dates new statuses (the tests'
    manual clock, so that answers fall inside the chat). Started once per test module
    (its first requests are slow) and ``reset`` for each test."""

    def __init__(self, *, domain: str = DOMAIN, port: int = 0) -> None:
        self.stamp: Callable[[], datetime] = lambda: datetime.now(UTC)
        config = MastodonMockConfig(
            domain=domain,
            database=DatabaseConfig(path=":memory:"),
            seed=SEED,
            streaming=StreamingConfig(heartbeat_seconds=0.05),
        )
        self.controls = Controls(create_app(config))
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.controls,
                host="127.0.0.1",
                port=port,
                log_level="critical",
                timeout_graceful_shutdown=1,  # open streams must not hold the stop up
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._clients: list[Mastodon] = []

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Mastodon stand-in did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def reset(self, stamp: Callable[[], datetime]) -> None:
        """Back to the seeded accounts alone, with fresh switches. Faster than the mock's
        own reset (which rebuilds every table): only what tests add is emptied."""
        with self.controls.app.state.engine.begin() as db:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in _SEEDED:
                    db.execute(table.delete())
        self.controls.reset()
        self.stamp = stamp
        self._close_clients()

    def _close_clients(self) -> None:
        for c in self._clients:
            c.session.close()
        self._clients.clear()

    def stop(self) -> None:
        self._close_clients()
        self._server.should_exit = True
        self._thread.join(10)

    def client(self, username: str) -> Mastodon:
        """A participant's own app, logged in as ``username``."""
        token = next(a.access_token for a in SEED.accounts if a.username == username)
        c = Mastodon(access_token=token, api_base_url=self.base_url, ratelimit_method="throw")
        self._clients.append(c)
        return c

    def statuses_of(self, username: str) -> list[dict[str, Any]]:
        """Every status of an account, direct ones included, oldest first."""
        reader = self.client(username)
        account = reader.account_verify_credentials()
        found: list[dict[str, Any]] = []
        max_id = None
        while True:
            page = reader.account_statuses(account["id"], max_id=max_id, limit=40)
            found += page
            if len(page) < 40:
                break
            max_id = page[-1]["id"]
        return sorted(found, key=lambda s: int(s["id"]))


_LINK = re.compile(r"https?://\S+")


def _counted_like_mastodon(params: dict[str, Any]) -> Any:
    """The mock counts every character; Mastodon counts each link as 23 of them."""
    text = str(params.get("status") or "")
    return _validate_as_the_mock_does({**params, "status": _LINK.sub("x" * 23, text)})


_validate_as_the_mock_does = statuses_router._validate_status_params


@contextlib.contextmanager
def stand_in(*, domain: str = DOMAIN, port: int = 0) -> Iterator[MastodonStandIn]:
    server = MastodonStandIn(domain=domain, port=port)
    with pytest.MonkeyPatch.context() as patch:
        # New statuses, edits and notifications are dated by the test's clock.
        patch.setattr(statuses_router, "utcnow", lambda: server.stamp())
        patch.setattr(services, "utcnow", lambda: server.stamp())
        patch.setattr(statuses_router, "_validate_status_params", _counted_like_mastodon)
        server.start()
        try:
            yield server
        finally:
            server.stop()
