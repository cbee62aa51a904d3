"""The live panel of a running chat: what was posted, what comes next, the answers as
they arrive, and the moderators' buttons, which run the chat commands themselves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web

from bot.console.chats import CHAT_LINKS, ChatView, Link
from bot.console.framework import ConsoleRequest, page
from bot.console.timeline_view import StepView, local_time, step_views
from bot.domain import ChannelRef, IncomingMessage, MessageRef
from bot.moderation import Command
from bot.store import SessionRow
from bot.transcript.model import MessageRecord

# The buttons, and whether the command takes what the moderator typed.
BUTTONS = {
    "pause": False,
    "resume": False,
    "next": False,
    "skip": False,
    "extend": True,
    "ask": True,
    "announce": True,
    "end": False,
}


@dataclass(frozen=True, slots=True)
class QuestionAnswers:
    number: int
    text: str
    answers: list[MessageRecord]


async def _chat(req: ConsoleRequest) -> SessionRow:
    try:
        row = await req.host.store.session(int(req.request.match_info["session"]))
    except (ValueError, KeyError, LookupError):
        raise web.HTTPNotFound() from None
    if row.plan.community != req.community.id:
        raise web.HTTPNotFound()
    return row


async def _show(req: ConsoleRequest, row: SessionRow, outcome: str = "") -> web.StreamResponse:
    store = req.host.store
    done = {key for key, _ in await store.posts(row.id)}
    steps: list[StepView] = step_views(row.plan, await store.steps(row.id), done, req.m)
    source = await store.transcript_source(row.id)
    by_question = [
        QuestionAnswers(q.number, q.text, [m for m in source.messages if q.number in m.questions])
        for q in row.plan.questions
    ]
    return req.render(
        "console_live.html",
        row=row,
        when=local_time(row.plan.starts_at, row.plan, req.m.locale),
        posted=[s for s in steps if s.done],
        coming=[s for s in steps if not s.done],
        questions=by_question,
        chatter=[m for m in source.messages if not m.questions],
        buttons=BUTTONS,
        outcome=outcome,
        paused=row.paused_at is not None,
    )


@page("/chats/{session}/live")
async def live(req: ConsoleRequest) -> web.StreamResponse:
    return await _show(req, await _chat(req))


@page("/chats/{session}/live/{command}", method="POST")
async def steer(req: ConsoleRequest) -> web.StreamResponse:
    """A button: the chat command of that name, run as if the moderator had sent it
    (same code, same checks on the chat's state, same audit entry)."""
    row = await _chat(req)
    name = req.request.match_info["command"]
    if name not in BUTTONS:
        raise web.HTTPNotFound()
    args = " ".join(req.form.get("text", "").split()) if BUTTONS[name] else ""
    channel = ChannelRef.parse(req.community.channels[0])
    message = IncomingMessage(
        ref=MessageRef(channel, f"console-{secrets.token_hex(8)}"),
        author=req.moderator,
        text=f"/{name} {args}".strip(),
        sent_at=req.host.clock.now(),
    )
    outcome = await req.host.moderation.execute(
        req.community, message, Command(name, args, explicit=True), moderator=True
    )
    return await _show(req, await req.host.store.session(row.id), outcome.reply)


def _live_link(req: ConsoleRequest, chat: ChatView) -> Link | None:
    if chat.row.state != "live":
        return None
    return Link(req.url(f"/chats/{chat.row.id}/live"), req.m.gettext("Live panel"))


CHAT_LINKS.append(_live_link)
