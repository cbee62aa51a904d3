"""What the Bluesky stand-in knows: accounts, posts with their facets and reply refs,
and the Jetstream event log (``time_us`` growing, a replay window) that subscribers read."""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.bluesky_ids import cid_for, did_for, post_uri, tid

BOT_HANDLE = "hashchat.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"  # the bot's app password on the stand-in
_TAG = re.compile(r"(?<![\w#])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@([\w.-]+\.[\w-]+)")


def iso(time_us: int) -> str:
    at = datetime.fromtimestamp(time_us / 1e6, tz=UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Post:
    uri: str
    cid: str
    did: str
    rkey: str
    record: dict[str, Any]
    time_us: int
    deleted: bool = False


@dataclass
class Faults:
    """Switches for the bot's createRecord calls: refused with a status, or cut off
    after the post was made (the answer never arrives)."""

    refuse: list[int] = field(default_factory=list)  # the next posts' statuses, in turn
    cut: int = 0  # this many next posts are made, then the connection is closed
    fail_ratio: float = 0.0
    fail_statuses: list[int] = field(default_factory=lambda: [429, 500])
    rate_limit_reset: int = 1  # seconds ahead, in a 429's ratelimit-reset header


class World:
    def __init__(self) -> None:
        self.handles: dict[str, str] = {}  # did -> handle
        self.posts: dict[str, Post] = {}
        self.events: list[dict[str, Any]] = []
        self.window_us = 24 * 3600 * 10**6  # the stream's replay window
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.random = random.Random(10)
        self._last_us = 0
        self.account(BOT_HANDLE)

    def reset(self) -> None:
        for queue in self.subscribers:
            queue.put_nowait({"_close": True})
        self.__init__()  # type: ignore[misc]

    def account(self, handle: str) -> str:
        did = did_for(handle)
        self.handles.setdefault(did, handle)
        return did

    def did_of(self, actor: str) -> str | None:
        if actor.startswith("did:"):
            return actor if actor in self.handles else None
        return next((d for d, h in self.handles.items() if h == actor.casefold()), None)

    def now_us(self) -> int:
        now = max(int(time.time() * 1e6), self._last_us + 1)
        self._last_us = now
        return now

    def create(self, did: str, record: dict[str, Any]) -> Post:
        at = self.now_us()
        rkey = tid(at)
        record = {"$type": "app.bsky.feed.post", **record}
        record.setdefault("createdAt", iso(at))
        post = Post(post_uri(did, rkey), cid_for([did, rkey, record]), did, rkey, record, at)
        self.posts[post.uri] = post
        commit = {"rev": tid(at, 1), "operation": "create", "collection": "app.bsky.feed.post",
                  "rkey": rkey, "record": record, "cid": post.cid}  # fmt: skip
        self._publish({"did": did, "time_us": at, "kind": "commit", "commit": commit})
        return post

    def delete(self, uri: str) -> None:
        post = self.posts[uri]
        post.deleted = True
        at = self.now_us()
        commit = {"rev": tid(at, 1), "operation": "delete", "collection": "app.bsky.feed.post",
                  "rkey": post.rkey}  # fmt: skip
        self._publish({"did": post.did, "time_us": at, "kind": "commit", "commit": commit})

    def _publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        for queue in self.subscribers:
            queue.put_nowait(event)

    def replay(self, cursor: int | None) -> list[dict[str, Any]]:
        """What a subscriber with ``cursor`` gets first: the retained events from it on
        (Jetstream replays within its window only; an older cursor starts at its oldest)."""
        if cursor is None:
            return []
        oldest = self.now_us() - self.window_us
        return [e for e in self.events if e["time_us"] >= max(cursor, oldest)]

    def post_text(self, who: str, text: str, reply_to: str | None = None) -> Post:
        """A participant's post with the facets an app would add (tags and mentions)."""
        did = self.account(who if "." in who else f"{who}.test")
        record: dict[str, Any] = {"text": text, "facets": self.facets(text)}
        if reply_to:
            parent = self.posts[reply_to]
            root = parent.record.get("reply", {}).get("root") or {"uri": parent.uri,
                                                                   "cid": parent.cid}  # fmt: skip
            record["reply"] = {"root": root, "parent": {"uri": parent.uri, "cid": parent.cid}}
        return self.create(did, record)

    def facets(self, text: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for match in _TAG.finditer(text):
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}
            found.append(_facet(text, match.span(), feature))
        for match in _MENTION.finditer(text):
            did = self.did_of(match.group(1))
            if did is not None:
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
                found.append(_facet(text, match.span(), feature))
        return found

    def tags_of(self, post: Post) -> set[str]:
        tags = {str(t).casefold() for t in post.record.get("tags") or []}
        for facet in post.record.get("facets") or []:
            for feature in facet.get("features") or []:
                if feature.get("$type") == "app.bsky.richtext.facet#tag":
                    tags.add(str(feature["tag"]).casefold())
        return tags

    def view(self, post: Post) -> dict[str, Any]:
        handle = self.handles[post.did]
        return {
            "uri": post.uri,
            "cid": post.cid,
            "author": {"did": post.did, "handle": handle, "displayName": handle.split(".")[0]},
            "record": post.record,
            "indexedAt": iso(post.time_us),
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
        }


def _facet(text: str, span: tuple[int, int], feature: dict[str, Any]) -> dict[str, Any]:
    start = len(text[: span[0]].encode())
    end = start + len(text[span[0] : span[1]].encode())
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}
