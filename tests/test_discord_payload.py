"""The common Discord message read from the gateway's payload: named as discord.py names
the member, linked, timed and replied as discord.py's message; the rest left to it.
(Whole chats through discord.py and the stand-in, where both paths run: test_discord.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain import ChannelRef
from bot.platforms.discord.lib import discord
from bot.platforms.discord.payload import common_message

HERE = ChannelRef("discord", "300", thread="301")
BOT = "999"


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "1300000000000000000",
        "channel_id": "301",
        "guild_id": "200",
        "author": {"id": "42", "username": "ann.lee", "global_name": "Ann", "bot": False},
        "member": {"nick": "Ann (host)", "roles": []},
        "content": "A1: patients first",
        "type": 0,
        "mentions": [],
    }
    data.update(changes)
    return data


def test_a_plain_message_is_read_as_discord_py_would() -> None:
    message = common_message(payload(), HERE, bot_id=BOT)
    assert message is not None
    assert message.ref.channel == HERE
    assert message.ref.id == "1300000000000000000"
    assert message.ref.url == "https://discord.com/channels/200/301/1300000000000000000"
    assert message.author.key == "discord:42"
    assert message.author.name == "Ann (host)"  # the server nickname first
    assert message.text == "A1: patients first"
    assert message.sent_at == discord.utils.snowflake_time(1300000000000000000)
    assert message.reply_to is None


@pytest.mark.parametrize(
    ("member", "author", "name"),
    [
        ({"nick": None}, {"global_name": "Ann"}, "Ann"),
        ({}, {"global_name": None}, "ann.lee"),
    ],
)
def test_without_a_nickname_the_global_name_then_the_username(
    member: dict[str, Any], author: dict[str, Any], name: str
) -> None:
    data = payload()
    data["member"] = member
    data["author"] = {**data["author"], **author}
    message = common_message(data, HERE, bot_id=BOT)
    assert message is not None
    assert message.author.name == name


def test_a_reply_names_the_message_it_answers() -> None:
    reference = {"message_id": "1299", "channel_id": "301", "guild_id": "200"}
    message = common_message(payload(type=19, message_reference=reference), HERE, bot_id=BOT)
    assert message is not None
    assert message.reply_to == "1299"


@pytest.mark.parametrize(
    "changes",
    [
        {"content": "hello <@7>, see <#9>"},  # mentions to make readable
        {"content": ""},  # the content intent may be off: discord.py's path alerts
        {"type": 7},  # a member joined: not conversation
        {"guild_id": None, "member": None},  # a direct message
        {"author": {"id": BOT, "username": "hashchat", "bot": True}},  # our own post
    ],
)
def test_anything_else_is_left_to_discord_py(changes: dict[str, Any]) -> None:
    assert common_message(payload(**changes), HERE, bot_id=BOT) is None
