"""The Bluesky stand-in's loopback control API, for tests and the end-to-end suite:
participants post, reply and delete; switches refuse or cut the bot's posts, drop the
stream's connections or shrink its replay window; what the bot posted is read back."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.bluesky_world import BOT_HANDLE, Post, World


def _described(world: World, post: Post) -> dict[str, Any]:
    reply = post.record.get("reply") or {}
    return {
        "uri": post.uri,
        "cid": post.cid,
        "author": world.handles[post.did],
        "text": post.record["text"],
        "facets": post.record.get("facets") or [],
        "reply_parent": (reply.get("parent") or {}).get("uri"),
        "reply_root": (reply.get("root") or {}).get("uri"),
        "time_us": post.time_us,
        "deleted": post.deleted,
    }


def add_control(app: web.Application, world: World) -> None:
    async def posts(request: web.Request) -> web.Response:
        who = request.query.get("author", BOT_HANDLE)
        found = [_described(world, p) for p in world.posts.values() if world.handles[p.did] == who]
        return web.json_response({"posts": found})

    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        made = world.post_text(str(body["who"]), str(body["text"]), body.get("reply_to"))
        return web.json_response(_described(world, made))

    async def delete(request: web.Request) -> web.Response:
        body = await request.json()
        uri = str(body["uri"])
        if uri not in world.posts:
            return web.json_response({"error": "no such post"}, status=404)
        world.delete(uri)
        return web.json_response({})

    async def settings(request: web.Request) -> web.Response:
        body = await request.json()
        faults = world.faults
        faults.refuse = list(body.get("refuse", faults.refuse))
        faults.cut = int(body.get("cut", faults.cut))
        faults.fail_ratio = float(body.get("fail_ratio", faults.fail_ratio))
        faults.fail_statuses = list(body.get("fail_statuses", faults.fail_statuses))
        faults.rate_limit_reset = int(body.get("rate_limit_reset", faults.rate_limit_reset))
        if body.get("drop_streams"):  # every subscriber's connection is closed
            for queue in world.subscribers:
                queue.put_nowait({"_close": True})
        if "window_seconds" in body:
            world.window_us = int(float(body["window_seconds"]) * 1e6)
        return web.json_response({})

    async def reset(request: web.Request) -> web.Response:
        world.reset()
        return web.json_response({})

    async def requests(request: web.Request) -> web.Response:
        return web.json_response({"requests": world.requests})

    app.router.add_get("/_control/posts", posts)
    app.router.add_post("/_control/posts", post)
    app.router.add_delete("/_control/posts", delete)
    app.router.add_post("/_control/settings", settings)
    app.router.add_post("/_control/reset", reset)
    app.router.add_get("/_control/requests", requests)
