"""A direct message on Discord (the console's login link), through discord.py."""

from __future__ import annotations

import pytest

from bot.domain import UserRef
from bot.platforms.base import PlatformError
from tests.conftest import Chat
from tests.fakes.discord_harness import Server, chat, discord_of, server

__all__ = ["chat", "server"]  # fixtures


async def test_a_direct_message_reaches_the_person_alone(server: Server, chat: Chat) -> None:
    platform = discord_of(chat)
    ann = UserRef("discord", str(server.ann.id))
    sent = await platform.send_direct(ann, "Your link: https://chats.example.org/console/login/x")
    dm = server.world.channels[int(sent.channel.id)]
    assert dm["type"] == 1
    assert dm["recipients"][0]["id"] == str(server.ann.id)
    assert server.bot_texts(int(sent.channel.id)) == [
        "Your link: https://chats.example.org/console/login/x"
    ]
    assert server.bot_texts(server.chat) == []  # nothing in the community's channel


async def test_closed_direct_messages_are_a_platform_error(server: Server, chat: Chat) -> None:
    server.world.dms_closed.add(server.bob.id)
    with pytest.raises(PlatformError, match="Cannot send messages to this user"):
        await discord_of(chat).send_direct(UserRef("discord", str(server.bob.id)), "secret")
