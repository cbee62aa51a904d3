"""The common Telegram message straight from the update's JSON.

python-telegram-bot turns every update into objects (``Update.de_json``: the message, its
chat, its sender, the topic post it sits under...), which cost more than everything
hashchat does with the message. Most of a chat is words from a person in a group or a
forum topic, of which the core needs a few fields, so those are read from the JSON as
it came. Anything else (an edit, a reply, a caption, a channel post, a message sent as a
chat, a bot's, a membership change) returns None and goes through the library's objects
and ``updates.to_events`` as before; the results are the same (tests/test_telegram_plain.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.telegram.updates import PLATFORM

_GROUPS = frozenset({"group", "supergroup"})


def plain_message(update: Mapping[str, Any]) -> IncomingMessage | None:
    """The message of ``update`` when it is the common case; None for the library."""
    message = update.get("message")
    if type(message) is not dict:
        return None
    text, chat, user = message.get("text"), message.get("chat"), message.get("from")
    if type(text) is not str or type(chat) is not dict or type(user) is not dict:
        return None
    if chat.get("type") not in _GROUPS or user.get("is_bot") is not False:
        return None
    if "sender_chat" in message or message.get("is_automatic_forward"):
        return None
    thread = message.get("message_thread_id")
    topic = thread if message.get("is_topic_message") else None
    replied = message.get("reply_to_message")
    if replied is not None:
        # In a forum topic every message "replies" to the topic's first post: that is
        # where it is, not what it answers (``updates.replied_to``). A real reply goes
        # to the library, for the text of the bot's post it answers.
        if type(replied) is not dict:
            return None
        if replied.get("forum_topic_created") is None and (
            topic is None or replied.get("message_id") != topic
        ):
            return None
    chat_id, message_id, date = chat["id"], message["message_id"], message["date"]
    if type(chat_id) is not int or type(message_id) is not int or type(date) is not int:
        return None
    channel = ChannelRef(PLATFORM, str(chat_id), None if topic is None else str(topic))
    first, last = user.get("first_name", ""), user.get("last_name")
    return IncomingMessage(
        ref=MessageRef(channel, str(message_id), url=_link(chat, message_id, thread, message)),
        author=UserRef(PLATFORM, str(user["id"]), f"{first} {last}" if last else first),
        text=text,
        sent_at=datetime.fromtimestamp(date, UTC),
    )


def _link(
    chat: dict[str, Any], message_id: int, thread: object, message: dict[str, Any]
) -> str | None:
    """``updates.message_link``: python-telegram-bot's ``Message.link`` without its
    ``?thread=None``. A supergroup's messages have one; a plain group's none."""
    if chat["type"] != "supergroup":
        return None
    place = chat.get("username") or f"c/{str(chat['id'])[4:]}"
    link = f"https://t.me/{place}/{message_id}"
    topical = message.get("is_topic_message") and thread
    if (topical or "reply_to_message" in message) and thread is not None:
        link = f"{link}?thread={thread}"
    return link
