"""Pure conversions between Discord messages and the core's plain text: mentions made
readable, markup escaped, long texts split, idempotency keys turned into nonces."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.discord.lib import discord

LIMIT = 2000
NONCE_LENGTH = 25  # Discord refuses longer nonces

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_COMMAND_STARTS = ("!", "/")
_LINK = re.compile(r"([a-z][a-z0-9+.-]*://\S+)", re.I)


def readable(
    content: str,
    *,
    users: Mapping[int, str],
    roles: Mapping[int, str],
    channels: Mapping[int, str],
    bot_id: int | None,
    command: bool | None = None,
) -> str:
    """The text as people read it: ``<@123>`` becomes ``@Ann``, ``<#9>`` ``#general``.

    A command keeps people as ``@<id>``, because that is how the core's commands name
    someone on the author's platform ("mute @123"); the rest reads well in a transcript.
    ``command`` None: decided from how the text starts.
    """
    stripped = content.lstrip()
    commandish = command
    if commandish is None:
        commandish = stripped.startswith(_COMMAND_STARTS) or (
            bot_id is not None and re.match(rf"<@!?{bot_id}>", stripped) is not None
        )

    def user(match: re.Match[str]) -> str:
        ident = int(match[1])
        if commandish or ident not in users:
            return f"@{ident}"
        return f"@{users[ident]}"

    text = _USER.sub(user, content)
    text = _ROLE.sub(lambda m: f"@{roles.get(int(m[1]), m[1])}", text)
    text = _CHANNEL.sub(lambda m: f"#{channels.get(int(m[1]), m[1])}", text)
    return _EMOJI.sub(lambda m: f":{m[1]}:", text)


def escape(text: str) -> str:
    """Plain text safe to post: Discord markup shown as typed; links (any scheme, such as
    a transcript's file:// address) left as they are, so they still work."""
    pieces = _LINK.split(text)
    return "".join(
        piece if i % 2 else discord.utils.escape_markdown(piece) for i, piece in enumerate(pieces)
    )


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a line break or a space where one
    is near enough, so no word is broken unless a single word is longer than a post."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        # Never leave a lone backslash (an escape) at the end of a part.
        while cut > 1 and rest[cut - 1] == "\\":
            cut -= 1
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def nonce(idempotency_key: str, part: int) -> str:
    """A stable nonce for one part of one post: the same key gives the same nonce on a
    retry, so ``enforce_nonce`` makes Discord return the first message, not a second."""
    digest = hashlib.sha256(f"{idempotency_key}\x00{part}".encode()).hexdigest()
    return digest[:NONCE_LENGTH]


def thread_name(title: str) -> str:
    """Discord thread names are 1 to 100 characters of plain text."""
    name = " ".join(title.split())
    return (name[:99] + "…") if len(name) > 100 else (name or "…")


def to_incoming(
    message: discord.Message, channel: ChannelRef, *, bot_id: int | None
) -> IncomingMessage:
    """A participant's message as the core sees it, ``channel`` saying where (with the
    thread when it was said in one)."""
    reference = message.reference
    reply_to = None
    if message.type is discord.MessageType.reply and reference and reference.message_id:
        reply_to = str(reference.message_id)
    return IncomingMessage(
        ref=MessageRef(channel, str(message.id), url=message.jump_url),
        author=UserRef("discord", str(message.author.id), message.author.display_name),
        text=message_text(message, bot_id=bot_id),
        sent_at=message.created_at,
        reply_to=reply_to,
        raw=message,
    )


def message_text(message: discord.Message, *, bot_id: int | None) -> str:
    content = message.content
    if "<" not in content:
        # No mention, role, channel nor custom emoji to rewrite (the common message):
        # the text is the content, without building discord.py's lists of mentions.
        return content
    return readable(
        message.content,
        users={u.id: u.display_name for u in message.mentions},
        roles={r.id: r.name for r in message.role_mentions},
        channels={c.id: getattr(c, "name", str(c.id)) for c in message.channel_mentions},
        bot_id=bot_id,
    )


def is_conversation(message: discord.Message) -> bool:
    """What people say, not Discord's notices (pins, joins, thread starters)."""
    return message.type in (discord.MessageType.default, discord.MessageType.reply)


def looks_unreadable(message: discord.Message) -> bool:
    """An ordinary message with nothing in it: how messages arrive when the message
    content intent is not granted."""
    return (
        not message.content
        and not message.attachments
        and not message.embeds
        and not message.stickers
        and message.poll is None
        and is_conversation(message)
    )
