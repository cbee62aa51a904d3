"""The common Discord message straight from the gateway's MESSAGE_CREATE payload.

discord.py builds a ``discord.Message`` (its author, member, mentions, attachments,
embeds, reference...) and schedules a task for every message: about half of what a
message cost hashchat. Most of a chat is plain words in a configured channel, which the
core needs only five fields of, so those are read from the payload as it came. Anything
else (a mention, role, channel or custom emoji to make readable, an empty text that may
mean the content intent is off, a notice, a direct message, a message of the bot's own)
returns None and goes through discord.py's objects as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.discord.lib import discord

_DEFAULT, _REPLY = 0, 19  # discord.MessageType.default and .reply


def common_message(
    data: Mapping[str, Any], where: ChannelRef, *, bot_id: str | None
) -> IncomingMessage | None:
    """``data`` as the core's message said in ``where``; None when it is not the common
    case, for discord.py's own conversion (``text.to_incoming``) to handle it."""
    kind = data.get("type")
    content = data.get("content")
    if kind not in (_DEFAULT, _REPLY) or not content or "<" in content:
        return None
    author, member = data.get("author"), data.get("member")
    if author is None or member is None or data.get("guild_id") is None:
        return None  # not a server member's message in a server
    author_id = str(author["id"])
    if author_id == bot_id:
        return None
    reply_to = None
    if kind == _REPLY:
        reference = data.get("message_reference")
        replied = None if reference is None else reference.get("message_id")
        reply_to = None if replied is None else str(replied)
    ident = str(data["id"])
    # discord.Member.display_name: the server nickname, else the global name, else the username.
    name = member.get("nick") or author.get("global_name") or author["username"]
    return IncomingMessage(
        ref=MessageRef(
            where,
            ident,
            url=f"https://discord.com/channels/{data['guild_id']}/{data['channel_id']}/{ident}",
        ),
        author=UserRef("discord", author_id, name),
        text=content,
        sent_at=discord.utils.snowflake_time(int(ident)),
        reply_to=reply_to,
    )
