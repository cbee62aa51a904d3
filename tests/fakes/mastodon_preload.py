"""N statuses under a hashtag at once, for bench/intake.py: ``POST /_control/preload
{"count", "texts", "tag"}`` on the Mastodon stand-in process.

mastodon_mock makes one status per request (a database round trip and its serializer
each), and its streams drop the oldest of more than 1,000 waiting events: neither can
hand a client thousands of statuses as fast as it reads. So the stand-in builds them
beforehand from real ones: each text is posted once through the mock's own API (by a
seeded participant, followers-only so no timeline or stream shows it), and the N
statuses are copies of those answers with fresh ids (the mock's own generator, so they
sort after everything there) and public visibility, serialized once. Then:

- the hashtag's timeline (``GET /api/v1/timelines/tag/{tag}``) is served from them
  alone, paged as Mastodon pages (``min_id``, ``since_id``, ``max_id``, ``limit``), until
  the next preload replaces them;
- every stream open on the hashtag receives them as ``update`` events, each put into its
  queue as soon as there is room, so the stream goes as fast as its client reads.
"""

from __future__ import annotations

import asyncio
import bisect
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from mastodon_mock.ids import next_id
from mastodon_mock.streaming import Event, get_bus, hashtag_channel
from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from tests.fakes.mastodon_server import Controls

TIMELINE = "/api/v1/timelines/tag/"
AUTHORS = ("ann", "bob", "cat", "dan", "eve", "fay")
Participant = Callable[..., Awaitable[JSONResponse]]
_FEEDING: set[asyncio.Task[None]] = set()


class Preloaded:
    """The last preload: ids ascending, and each status's JSON."""

    def __init__(self, tag: str, ids: list[int], bodies: list[str]) -> None:
        self.tag = tag.casefold()
        self.ids = ids
        self.bodies = bodies

    def serves(self, method: str, path: str) -> bool:
        return method == "GET" and path.startswith(TIMELINE) and (
            path.removeprefix(TIMELINE).casefold() == self.tag
        )  # fmt: skip

    def page(self, query: str) -> bytes:
        """The statuses a timeline request asks for, newest first, as Mastodon pages."""
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        limit = min(int(params.get("limit") or 20), 40)
        ids = self.ids
        high = bisect.bisect_left(ids, int(params["max_id"])) if "max_id" in params else len(ids)
        if "min_id" in params:  # the oldest ones after min_id
            low = bisect.bisect_right(ids, int(params["min_id"]))
            chosen = range(low, min(high, low + limit))
        else:  # the newest ones (after since_id)
            low = bisect.bisect_right(ids, int(params["since_id"])) if "since_id" in params else 0
            chosen = range(max(low, high - limit), high)
        return ("[" + ",".join(self.bodies[i] for i in reversed(chosen)) + "]").encode()


async def preload(request: Request, controls: Controls, as_participant: Participant) -> Any:
    body = await request.json()
    count, texts, tag = int(body["count"]), [str(t) for t in body["texts"]], str(body["tag"])
    models = []
    for number, text in enumerate(texts):
        who = AUTHORS[number % len(AUTHORS)]
        made = await as_participant(
            who, "POST", "/api/v1/statuses", {"status": f"{text} #{tag}", "visibility": "private"}
        )
        if made.status_code != 200:
            return made
        models.append(json.loads(made.body))
    ids: list[int] = []
    bodies: list[str] = []
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for number in range(count):
        model = models[number % len(models)]
        sid = next_id()
        status = {**model, "id": str(sid), "created_at": now, "visibility": "public"}
        for field in ("uri", "url"):
            if status.get(field):
                status[field] = str(status[field]).replace(str(model["id"]), str(sid))
        ids.append(sid)
        bodies.append(json.dumps(status, separators=(",", ":")))
    controls.preloaded = Preloaded(tag, ids, bodies)
    bus = get_bus(controls.app)
    if bus is not None:
        channel = hashtag_channel(tag)
        for sub in [s for s in bus._subscribers if s.channel == channel]:
            task = asyncio.get_running_loop().create_task(_feed(sub.queue, bodies))
            _FEEDING.add(task)
            task.add_done_callback(_FEEDING.discard)
    return JSONResponse({"count": count, "first_id": str(ids[0]) if ids else None})


async def _feed(queue: asyncio.Queue[Event], bodies: list[str]) -> None:
    for body in bodies:
        await queue.put(Event(name="update", payload=body, channels=frozenset()))
