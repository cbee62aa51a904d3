"""The Bluesky stand-in's network side: the XRPC methods the adapter calls through the
``atproto`` SDK (a PDS's and an AppView's, as bsky.social proxies them), and a
Jetstream-compatible websocket (``/subscribe``) with a replay window and a cursor."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.bluesky_ids import jwt
from tests.fakes.bluesky_world import APP_PASSWORD, BOT_HANDLE, World

Handler = Callable[[web.Request, World], Awaitable[web.StreamResponse]]


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def _caller(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ").strip()
    if token.count(".") != 2:
        return None
    body = token.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return str(data["sub"])


def _session(world: World, did: str) -> dict[str, Any]:
    return {
        "did": did,
        "handle": world.handles[did],
        "accessJwt": jwt(did, "com.atproto.appPass", 7200),
        "refreshJwt": jwt(did, "com.atproto.refresh", 86400 * 60),
        "active": True,
    }


async def create_session(request: web.Request, world: World) -> web.StreamResponse:
    body = await request.json()
    did = world.did_of(str(body.get("identifier", "")))
    if did is None or world.handles[did] != BOT_HANDLE or body.get("password") != APP_PASSWORD:
        return _error(401, "AuthenticationRequired", "Invalid identifier or password")
    return web.json_response(_session(world, did))


async def refresh_session(request: web.Request, world: World) -> web.StreamResponse:
    did = _caller(request)
    if did is None:
        return _error(401, "ExpiredToken", "Token has expired")
    return web.json_response(_session(world, did))


async def resolve_handle(request: web.Request, world: World) -> web.StreamResponse:
    did = world.did_of(request.query.get("handle", ""))
    if did is None:
        return _error(400, "InvalidRequest", "Unable to resolve handle")
    return web.json_response({"did": did})


async def get_profile(request: web.Request, world: World) -> web.StreamResponse:
    did = world.did_of(request.query.get("actor", ""))
    if did is None:
        return _error(400, "InvalidRequest", "Profile not found")
    handle = world.handles[did]
    return web.json_response({"did": did, "handle": handle, "displayName": handle.split(".")[0]})


async def create_record(request: web.Request, world: World) -> web.StreamResponse:
    did = _caller(request)
    if did is None:
        return _error(401, "AuthenticationRequired", "Authentication Required")
    body = await request.json()
    faults = world.faults
    status = faults.refuse.pop(0) if faults.refuse else None
    if status is None and faults.fail_ratio and world.random.random() < faults.fail_ratio:
        status = world.random.choice(faults.fail_statuses)
    if status is not None:
        headers = {}
        if status == 429:
            reset = int(world.now_us() / 1e6) + faults.rate_limit_reset
            headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0",
                       "ratelimit-reset": str(reset)}  # fmt: skip
        answer = _error(status, "RateLimitExceeded" if status == 429 else "InternalServerError",
                        "refused by the stand-in")  # fmt: skip
        answer.headers.update(headers)
        return answer
    post = world.create(did, dict(body["record"]))
    if faults.cut > 0:  # made, but the answer is lost
        faults.cut -= 1
        assert request.transport is not None
        request.transport.close()
        raise asyncio.CancelledError
    answer = {"uri": post.uri, "cid": post.cid, "validationStatus": "valid"}
    return web.json_response(answer)


async def delete_record(request: web.Request, world: World) -> web.StreamResponse:
    did = _caller(request)
    body = await request.json()
    uri = f"at://{body['repo']}/{body['collection']}/{body['rkey']}"
    if did != body["repo"]:
        return _error(401, "AuthRequired", "a repository can only be changed by its owner")
    if uri in world.posts and not world.posts[uri].deleted:
        world.delete(uri)
    return web.json_response({})


async def get_posts(request: web.Request, world: World) -> web.StreamResponse:
    uris = request.query.getall("uris", [])
    found = [
        world.view(world.posts[u]) for u in uris if u in world.posts and not world.posts[u].deleted
    ]
    return web.json_response({"posts": found})


async def search_posts(request: web.Request, world: World) -> web.StreamResponse:
    """Newest first; ``tag`` matches a facet's tag, ``since`` the time the post was
    indexed; ``cursor`` is how many were given already."""
    tags = {t.casefold() for t in request.query.getall("tag", [])}
    since = request.query.get("since")
    limit = int(request.query.get("limit", "25"))
    offset = int(request.query.get("cursor", "0"))
    query = request.query.get("q", "").casefold().lstrip("#")
    posts = [p for p in world.posts.values() if not p.deleted]
    if tags:
        posts = [p for p in posts if tags <= world.tags_of(p)]
    elif query:
        posts = [p for p in posts if query in p.record["text"].casefold()]
    views = sorted((world.view(p) for p in posts), key=lambda v: v["indexedAt"], reverse=True)
    if since:
        views = [v for v in views if v["indexedAt"] >= since]
    page = views[offset : offset + limit]
    more = offset + limit < len(views)
    answer: dict[str, Any] = {"posts": page, "hitsTotal": len(views)}
    if more:
        answer["cursor"] = str(offset + limit)
    return web.json_response(answer)


async def get_author_feed(request: web.Request, world: World) -> web.StreamResponse:
    did = world.did_of(request.query.get("actor", ""))
    limit = int(request.query.get("limit", "50"))
    mine = [p for p in world.posts.values() if p.did == did and not p.deleted]
    mine.sort(key=lambda p: p.time_us, reverse=True)
    return web.json_response({"feed": [{"post": world.view(p)} for p in mine[:limit]]})


METHODS: dict[str, Handler] = {
    "com.atproto.server.createSession": create_session,
    "com.atproto.server.refreshSession": refresh_session,
    "com.atproto.identity.resolveHandle": resolve_handle,
    "app.bsky.actor.getProfile": get_profile,
    "com.atproto.repo.createRecord": create_record,
    "com.atproto.repo.deleteRecord": delete_record,
    "app.bsky.feed.getPosts": get_posts,
    "app.bsky.feed.searchPosts": search_posts,
    "app.bsky.feed.getAuthorFeed": get_author_feed,
}


async def subscribe(request: web.Request, world: World) -> web.StreamResponse:
    """Jetstream: JSON commit events, from ``cursor`` (time_us) on, then live."""
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    cursor = request.query.get("cursor")
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    backlog = world.replay(int(cursor) if cursor else None)
    world.subscribers.add(queue)
    try:
        await _feed(ws, queue, backlog)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        pass  # the subscriber went away
    finally:
        world.subscribers.discard(queue)
        await ws.close()
    return ws


async def _feed(
    ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]], backlog: list[dict[str, Any]]
) -> None:
    sent = 0
    for event in backlog:
        await ws.send_str(json.dumps(event))
        sent = event["time_us"]
    while not ws.closed:
        event = await queue.get()
        if event.get("_close"):
            break
        if event["time_us"] > sent:
            await ws.send_str(json.dumps(event))


def xrpc_app(world: World) -> web.Application:
    app = web.Application()

    async def xrpc(request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        world.requests.append({"method": request.method, "nsid": method})
        handler = METHODS.get(method)
        if handler is None:
            return _error(501, "MethodNotImplemented", f"{method} is not in the stand-in")
        return await handler(request, world)

    async def stream(request: web.Request) -> web.StreamResponse:
        return await subscribe(request, world)

    app.router.add_route("*", "/xrpc/{method}", xrpc)
    app.router.add_get("/subscribe", stream)
    return app
