"""The stand-in's loopback control API (``/_control/...``): what a test in another process
needs of the Mastodon stand-in, as JSON over HTTP.

- ``GET posts``: what the bot posted (id, visibility, text without HTML, in_reply_to_id,
  accept time in ISO UTC, deleted), in the order the server took them;
- ``GET requests``: every request (method, path, query, Idempotency-Key, by the bot?,
  arrival time, status answered);
- ``POST statuses`` / ``PUT statuses/{id}`` / ``DELETE statuses/{id}``: a participant
  (``who``, an account made on first use) posts (a tagged answer, a reply), edits or
  deletes, through the real API with their own token, so streams and notifications
  follow as for any status; the JSON body
  is the API's (``status`` or ``text``, ``in_reply_to_id``, ``visibility``) plus ``who``;
  a reply starts with its parent's author, as apps write it (``mention_parent: false``
  not);
- ``POST preload``: ``count`` statuses of ``texts`` under ``tag``, built at once and
  served as fast as a client reads (tests/fakes/mastodon_preload.py, for the benchmark);
- ``POST settings``: the switches (``fail_ratio`` and ``fail_statuses`` for the bot's
  posts, ``refuse``, ``refuse_exact``, ``refusal``, ``streaming_down``,
  ``lose_post_answers``, ``cut_posts``, ``ignore_idempotency``); ``POST drop_streams``.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from mastodon_mock.config import SeedAccount, SeedConfig
from mastodon_mock.db.seed import apply_seed_data
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.mastodon_preload import preload

if TYPE_CHECKING:
    from tests.fakes.mastodon_server import Controls

_SWITCHES = {
    "fail_ratio": float,
    "fail_statuses": lambda v: tuple(int(x) for x in v),
    "refuse": lambda v: {str(k): int(c) for k, c in v.items()},
    "refuse_exact": lambda v: {str(k): int(c) for k, c in v.items()},
    "streaming_down": bool,
    "lose_post_answers": int,
    "cut_posts": int,
    "refusal": str,
    "ignore_idempotency": bool,
}


def control_app(controls: Controls, tokens: dict[str, str]) -> Starlette:
    """The control routes over ``controls``; participants act as the accounts in ``tokens``."""

    async def as_participant(
        who: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> JSONResponse:
        token = tokens.get(who) or await account(who)
        if token is None:
            return JSONResponse({"error": f"{who!r}: a name of letters and digits"}, 400)
        transport = httpx.ASGITransport(app=controls)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            answer = await http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        return JSONResponse(answer.json(), answer.status_code)

    async def account(who: str) -> str | None:
        """A new participant's account, made on first use (as the mock seeds them)."""
        if not re.fullmatch(r"[a-z0-9_]{1,30}", who):
            return None
        spec = SeedAccount(username=who, display_name=who.title(), access_token=f"{who}-t")
        engine = controls.app.state.engine
        await asyncio.to_thread(apply_seed_data, engine, SeedConfig(accounts=[spec]))
        tokens[who] = f"{who}-t"
        return tokens[who]

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def posts(request: Request) -> JSONResponse:
        with controls._lock:
            found = [dict(p) for p in controls.bot_posts.values()]
        return JSONResponse({"posts": found})

    async def requests(request: Request) -> JSONResponse:
        with controls._lock:
            found = [asdict(r) for r in controls.requests]
        return JSONResponse({"requests": found})

    async def settings(request: Request) -> JSONResponse:
        wanted = await request.json()
        unknown = set(wanted) - set(_SWITCHES)
        if unknown:
            return JSONResponse({"error": f"unknown switches: {sorted(unknown)}"}, 400)
        with controls._lock:
            for name, value in wanted.items():
                setattr(controls, name, _SWITCHES[name](value))
        return JSONResponse({"status": "ok"})

    async def drop_streams(request: Request) -> JSONResponse:
        controls.drop_streams()
        return JSONResponse({"status": "ok"})

    async def post_status(request: Request) -> JSONResponse:
        body = await request.json()
        who = str(body.pop("who"))
        if "text" in body:
            body["status"] = body.pop("text")
        parent = body.get("in_reply_to_id")
        if parent and body.pop("mention_parent", True):
            body["status"] = await mentioned(who, str(parent), str(body.get("status") or ""))
        return await as_participant(who, "POST", "/api/v1/statuses", body)

    async def mentioned(who: str, parent: str, text: str) -> str:
        """A reply as apps write it: starting with its parent's author, who is notified."""
        answer = await as_participant(who, "GET", f"/api/v1/statuses/{parent}")
        if answer.status_code != 200:
            return text
        acct = json.loads(answer.body)["account"]["acct"]
        return text if text.startswith(f"@{acct}") else f"@{acct} {text}"

    async def preload_statuses(request: Request) -> Any:
        return await preload(request, controls, as_participant)

    async def change_status(request: Request) -> JSONResponse:
        body = await request.json()
        who = str(body.pop("who"))
        path = f"/api/v1/statuses/{request.path_params['sid']}"
        if request.method == "DELETE":
            return await as_participant(who, "DELETE", path)
        if "text" in body:
            body["status"] = body.pop("text")
        return await as_participant(who, "PUT", path, body)

    return Starlette(
        routes=[
            Route("/_control/health", health),
            Route("/_control/posts", posts),
            Route("/_control/requests", requests),
            Route("/_control/settings", settings, methods=["POST"]),
            Route("/_control/drop_streams", drop_streams, methods=["POST"]),
            Route("/_control/preload", preload_statuses, methods=["POST"]),
            Route("/_control/statuses", post_status, methods=["POST"]),
            Route("/_control/statuses/{sid}", change_status, methods=["PUT", "DELETE"]),
        ]
    )
