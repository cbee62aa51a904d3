"""A console button that is a chat command: run it as if the moderator had sent it, so
the console and the chat share the code, the checks and the audit entry."""

from __future__ import annotations

import secrets

from bot.commands import Outcome
from bot.console.framework import ConsoleRequest
from bot.domain import ChannelRef, IncomingMessage, MessageRef
from bot.moderation import Command
from bot.store import SessionRow


async def run_command(
    req: ConsoleRequest, name: str, args: str = "", *, session: SessionRow | None = None
) -> Outcome:
    """``session``: the chat the command is about (default: the live one, else the next)."""
    channel = ChannelRef.parse(req.community.channels[0])
    message = IncomingMessage(
        ref=MessageRef(channel, f"console-{secrets.token_hex(8)}"),
        author=req.moderator,
        text=f"/{name} {args}".strip(),
        sent_at=req.host.clock.now(),
    )
    return await req.host.moderation.execute(
        req.community, message, Command(name, args, explicit=True), moderator=True, session=session
    )


async def chat_of(req: ConsoleRequest, text: str) -> SessionRow | None:
    """A chat of this community by its id as a form sent it; None for anything else."""
    try:
        row = await req.host.store.session(int(text))
    except (ValueError, KeyError, LookupError):
        return None
    return row if row.plan.community == req.community.id else None
