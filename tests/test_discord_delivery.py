"""A failed post on Discord during a chat: retried until it is shown, and shown once."""

from __future__ import annotations

from tests.conftest import Chat
from tests.fakes.discord_harness import Server, chat, server, transcript

__all__ = ["chat", "server"]  # fixtures

Q1 = "Q1: What does partnership mean to you? #hcsmeu"


async def test_a_question_discord_refused_is_posted_30_seconds_later(
    server: Server, chat: Chat
) -> None:
    await chat.at(9)
    server.fake.faults.append(("POST", f"/channels/{server.chat}/messages", 503))
    await chat.at(10)
    assert Q1 not in server.bot_texts(server.chat)  # answered 503: nothing was posted
    await chat.at(10.5)
    assert server.bot_texts(server.chat).count(Q1) == 1
    await chat.at(61)
    questions = transcript(chat)["questions"]
    assert questions[0]["number"] == 1  # type: ignore[index]
    assert questions[0]["posted_at"] is not None  # type: ignore[index]


async def test_a_question_cut_off_on_its_way_is_shown_once_without_a_notice(
    server: Server, chat: Chat
) -> None:
    await chat.at(9)
    # Discord takes the post, then the connection breaks before its answer: the bot
    # cannot know, sends it again with the same nonce, and Discord shows it once.
    server.fake.faults.append(("POST", f"/channels/{server.chat}/messages", 0))
    await chat.at(10.5)
    assert server.bot_texts(server.chat).count(Q1) == 1
    posts = [m for m in server.world.in_channel(server.chat) if m["content"] == Q1]
    assert len(posts) == 1
    # Nothing for the moderators to check by hand.
    assert not any("it is not certain" in text for text in chat.posts("local:mods"))
    await chat.at(61)
    assert server.bot_texts(server.chat)[-1].startswith("The transcript of today's")
