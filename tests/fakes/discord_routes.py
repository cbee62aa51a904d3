"""The REST routes of the stand-in Discord, each a small function of (fake, match, body)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_world import Payload

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

Handler = Callable[["FakeDiscord", re.Match[str], Any, web.Request], Awaitable[web.Response]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def json_response(data: object, status: int = 200) -> web.Response:
    # discord.py parses a body only when the type is exactly this, with no charset.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def error(status: int, code: int, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status)


def rate_limited(retry_after: float) -> web.Response:
    """A 429 as Discord sends it; discord.py waits ``retry_after`` and tries again only
    when a ``Via`` header shows it came from Discord's API, not its firewall."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    return web.Response(
        body=json.dumps(body).encode(),
        status=429,
        headers={"Content-Type": "application/json", "Via": "1.1 google"},
    )


def _on(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern), handler))
        return handler

    return register


async def route(
    fake: FakeDiscord, method: str, path: str, body: Any, request: web.Request
) -> web.Response:
    for verb, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if verb == method and match:
            return await handler(fake, match, body, request)
    return error(404, 0, f"404: Not Found ({method} {path})")


def _channel(fake: FakeDiscord, ident: str) -> Payload | None:
    return fake.world.channels.get(int(ident))


# login -----------------------------------------------------------------------------------


@_on("GET", r"users/@me")
async def _me(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    return json_response(fake.world.bot.user())


@_on("GET", r"users/(\d+)")
async def _user(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    person = fake.world.people.get(int(m[1]))
    return json_response(person.user()) if person else error(404, 10013, "Unknown User")


@_on("POST", r"users/@me/channels")
async def _open_dm(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    recipient = int(body["recipient_id"])
    if recipient not in fake.world.people:
        return error(404, 10013, "Unknown User")
    return json_response(fake.world.open_dm(recipient))


@_on("GET", r"oauth2/applications/@me")
async def _app(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    w = fake.world
    return json_response(
        {
            "id": str(w.app_id),
            "name": "hashchat",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": w.bot.user(),
            "team": None,
            "flags": w.app_flags,
            "interactions_endpoint_url": None,
        }
    )


@_on("GET", r"gateway/bot")
async def _gateway_bot(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
    return json_response({"url": fake.gateway_url, "shards": 1, "session_start_limit": limit})


# channels and messages ---------------------------------------------------------------------


@_on("GET", r"channels/(\d+)")
async def _get_channel(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    channel = _channel(fake, m[1])
    return json_response(channel) if channel else error(404, 10003, "Unknown Channel")


@_on("PATCH", r"channels/(\d+)")
async def _edit_channel(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    channel = _channel(fake, m[1])
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    if "rate_limit_per_user" in body:
        channel["rate_limit_per_user"] = body["rate_limit_per_user"]
    await fake.dispatch("CHANNEL_UPDATE", channel)
    return json_response(channel)


@_on("POST", r"channels/(\d+)/messages")
async def _post(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    w = fake.world
    channel_id = int(m[1])
    if channel_id not in w.channels:
        return error(404, 10003, "Unknown Channel")
    if len(body.get("content", "")) > 2000:
        return error(400, 50035, "Invalid Form Body: content too long")
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce") and (channel_id, nonce) in w.nonces:
        return json_response(w.messages[w.nonces[(channel_id, nonce)]])
    direct = w.channels[channel_id]["type"] == 1
    if direct and int(w.channels[channel_id]["recipients"][0]["id"]) in w.dms_closed:
        return error(403, 50007, "Cannot send messages to this user")
    reference = body.get("message_reference")
    reply_to = int(reference["message_id"]) if reference else None
    message = w.message(channel_id, w.bot, body["content"], reply_to=reply_to, nonce=nonce)
    if direct:  # a direct message belongs to no server
        del message["guild_id"], message["member"]
    message["allowed_mentions"] = body.get("allowed_mentions")  # kept to check no pings
    if nonce is not None:
        w.nonces[(channel_id, nonce)] = int(message["id"])
    await fake.dispatch("MESSAGE_CREATE", message)
    return json_response(message)


@_on("GET", r"channels/(\d+)/messages")
async def _history(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    w = fake.world
    limit = int(r.query.get("limit", "50"))
    messages = w.in_channel(int(m[1]))
    if "after" in r.query:
        # The oldest ``limit`` after the id, newest first, as Discord answers.
        after = int(r.query["after"])
        page = [x for x in messages if int(x["id"]) > after][:limit]
    else:
        before = int(r.query.get("before", str(1 << 63)))
        page = [x for x in messages if int(x["id"]) < before][-limit:]
    return json_response([w.visible(x) for x in reversed(page)])


@_on("PATCH", r"channels/(\d+)/messages/(\d+)")
async def _edit(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    message = fake.world.messages.get(int(m[2]))
    if message is None or int(m[2]) in fake.world.deleted:
        return error(404, 10008, "Unknown Message")
    message["content"] = body.get("content", message["content"])
    message["edited_timestamp"] = fake.world.stamp()
    await fake.dispatch("MESSAGE_UPDATE", message)
    return json_response(message)


@_on("DELETE", r"channels/(\d+)/messages/(\d+)")
async def _delete(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    message_id = int(m[2])
    if message_id not in fake.world.messages or message_id in fake.world.deleted:
        return error(404, 10008, "Unknown Message")
    await fake.delete(message_id)
    return web.Response(status=204)


@_on("POST", r"channels/(\d+)/messages/(\d+)/threads")
async def _thread(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    w = fake.world
    message_id = int(m[2])
    if message_id in w.channels:
        return error(400, 160004, "A thread has already been created for this message")
    if message_id not in w.messages:
        return error(404, 10008, "Unknown Message")
    thread = w.add_thread(int(m[1]), message_id, body["name"], w.bot.id)
    w.messages[message_id]["thread"] = thread
    await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
    return json_response(thread, 201)


# members ------------------------------------------------------------------------------------


@_on("GET", r"guilds/(\d+)/members/(\d+)")
async def _member(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    person = fake.world.people.get(int(m[2]))
    return json_response(person.member()) if person else error(404, 10007, "Unknown Member")


@_on("PATCH", r"guilds/(\d+)/members/(\d+)")
async def _edit_member(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    person = fake.world.people.get(int(m[2]))
    if person is None:
        return error(404, 10007, "Unknown Member")
    fake.timeouts[person.id] = body.get("communication_disabled_until")
    return json_response(
        {**person.member(), "communication_disabled_until": fake.timeouts[person.id]}
    )


# scheduled events ---------------------------------------------------------------------------


@_on("POST", r"guilds/(\d+)/scheduled-events")
async def _new_event(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    return json_response(fake.world.scheduled_event(body, fake.world.bot.id))


@_on("GET", r"guilds/(\d+)/scheduled-events/(\d+)")
async def _event(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    event = fake.world.events.get(int(m[2]))
    return json_response(event) if event else error(404, 10070, "Unknown Guild Scheduled Event")


@_on("PATCH", r"guilds/(\d+)/scheduled-events/(\d+)")
async def _edit_event(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    event = fake.world.events.get(int(m[2]))
    if event is None:
        return error(404, 10070, "Unknown Guild Scheduled Event")
    if event["status"] != 1:
        return error(400, 180000, "Cannot update a finished or cancelled event")
    event.update(body)
    return json_response(event)


@_on("DELETE", r"guilds/(\d+)/scheduled-events/(\d+)")
async def _drop_event(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    if fake.world.events.pop(int(m[2]), None) is None:
        return error(404, 10070, "Unknown Guild Scheduled Event")
    return web.Response(status=204)


# application commands and interactions -----------------------------------------------------


@_on("PUT", r"applications/(\d+)/guilds/(\d+)/commands")
async def _sync(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    w = fake.world
    commands = [
        {**c, "id": str(w.new_id()), "application_id": str(w.app_id), "guild_id": m[2],
         "version": "1", "default_member_permissions": None, "type": c.get("type", 1)}
        for c in body
    ]  # fmt: skip
    w.commands[int(m[2])] = commands
    return json_response(commands)


@_on("POST", r"interactions/(\d+)/([\w-]+)/callback")
async def _callback(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    interaction = fake.world.interactions.get(int(m[1]))
    if interaction is None or interaction["token"] != m[2]:
        return error(404, 10062, "Unknown interaction")
    if interaction["responses"]:
        return error(400, 40060, "Interaction has already been acknowledged")
    interaction["responses"].append(("callback", body))
    thinking = body["type"] == 5
    return json_response(
        {"interaction": {"id": m[1], "type": 2, "response_message_loading": thinking,
                         "response_message_ephemeral": False}}
    )  # fmt: skip


def _interaction_by_token(fake: FakeDiscord, token: str) -> Payload | None:
    return next((i for i in fake.world.interactions.values() if i["token"] == token), None)


@_on("POST", r"webhooks/(\d+)/([\w-]+)")
async def _followup(fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request) -> web.Response:
    interaction = _interaction_by_token(fake, m[2])
    if interaction is None:
        return error(404, 10015, "Unknown Webhook")
    interaction["responses"].append(("followup", body))
    w = fake.world
    message = w.message(interaction["channel_id"], w.bot, body["content"])
    message["webhook_id"] = str(w.app_id)
    message["allowed_mentions"] = body.get("allowed_mentions")
    return json_response(message)


@_on("DELETE", r"webhooks/(\d+)/([\w-]+)/messages/@original")
async def _drop_original(
    fake: FakeDiscord, m: re.Match[str], body: Any, r: web.Request
) -> web.Response:
    interaction = _interaction_by_token(fake, m[2])
    if interaction is None:
        return error(404, 10015, "Unknown Webhook")
    interaction["responses"].append(("deleted", None))
    return web.Response(status=204)
