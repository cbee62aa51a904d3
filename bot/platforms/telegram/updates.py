"""Telegram updates as the core's events: a pure conversion, tested on the API's shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Chat, Message, Update

from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageEdited,
    MessageRef,
    PlatformEvent,
    UserRef,
)

PLATFORM = "telegram"
# Updates hashchat asks for: messages, their edits, and membership changes that may
# make someone an administrator or take the bot's rights away.
ALLOWED_UPDATES = ("message", "edited_message", "chat_member", "my_chat_member")
# Accounts that speak for a chat rather than a person: never trusted as moderators.
SERVICE_USERS = frozenset(
    {
        777000,  # "Telegram": linked channels' automatic forwards
        1087968824,  # "GroupAnonymousBot": anonymous administrators
        136817688,  # "Channel_Bot": people posting as a channel
    }
)


def to_events(update: Update) -> list[PlatformEvent]:
    """The events in ``update``; none for what hashchat does not record (service
    messages, stickers, channel posts, other bots, linked channels' forwards)."""
    if update.message is not None:
        incoming = to_incoming(update.message)
        return [] if incoming is None else [incoming]
    if update.edited_message is not None:
        edited = update.edited_message
        if _ignored(edited):
            return []
        text = edited.text or edited.caption or ""
        when = edited.edit_date or edited.date
        return [MessageEdited(ref=message_ref(edited), text=text, edited_at=_utc(when))]
    return []


def member_change_chat(update: Update) -> int | None:
    """The chat whose administrators may have changed, so its cached list is stale."""
    change = update.chat_member or update.my_chat_member
    return None if change is None else change.chat.id


def to_incoming(message: Message) -> IncomingMessage | None:
    if _ignored(message):
        return None
    text = message.text if message.text is not None else message.caption
    assert text is not None  # _ignored() let through only messages with words
    return IncomingMessage(
        ref=message_ref(message),
        author=author(message),
        text=text,
        sent_at=_utc(message.date),
        reply_to=replied_to(message),
        reply_to_bot_text=own_post_text(message) if replied_to(message) else None,
        raw=message,
    )


def channel_of(message: Message) -> ChannelRef:
    """A forum topic's messages are in ``telegram:<chat>/<topic>``; the rest (a plain
    group, a forum's General topic) in ``telegram:<chat>``."""
    topic = message.message_thread_id if message.is_topic_message else None
    return ChannelRef(PLATFORM, str(message.chat.id), None if topic is None else str(topic))


def message_ref(message: Message) -> MessageRef:
    return MessageRef(channel_of(message), str(message.message_id), url=message_link(message))


def message_link(message: Message) -> str | None:
    """The message's t.me link. python-telegram-bot adds ``?thread=`` to every reply,
    with "None" for a reply outside any thread: a link that ended in ``?thread=None``."""
    link = message.link
    return link.removesuffix("?thread=None") if link else link


def author(message: Message) -> UserRef:
    """Who speaks: the chat for anonymous administrators and posts made as a channel,
    which have no person behind them that hashchat could know."""
    if message.sender_chat is not None:
        chat = message.sender_chat
        return UserRef(PLATFORM, str(chat.id), chat.title or chat.username or "")
    user = message.from_user
    assert user is not None  # every message outside channels has a sender
    return UserRef(PLATFORM, str(user.id), user.full_name)


def replied_to(message: Message) -> str | None:
    """The message this one answers. In a forum topic every message "replies" to the
    topic's creation, which is where it is, not what it answers."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return str(replied.message_id)


def own_post_text(message: Message) -> str | None:
    """The text of the bot's own post that ``message`` replies to: Telegram sends the
    replied-to message along, so a reply proves which question post it answers even
    when the bot never learnt that post's id."""
    replied = message.reply_to_message
    user = None if replied is None else replied.from_user
    if replied is None or user is None or not user.is_bot:
        return None
    try:
        if user.id != replied.get_bot().id:
            return None  # another bot's post
    except RuntimeError:
        pass  # no bot attached (an update converted on its own): any bot's post is taken
    return replied.text or replied.caption


def _ignored(message: Message) -> bool:
    if message.chat.type == Chat.CHANNEL or message.is_automatic_forward:
        return True  # announcements only; a linked channel's forwards repeat our own posts
    if message.from_user is None and message.sender_chat is None:
        return True
    if message.sender_chat is None and message.from_user is not None and message.from_user.is_bot:
        return True
    return message.text is None and message.caption is None


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:  # python-telegram-bot stamps UTC; never trust a naive value
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
