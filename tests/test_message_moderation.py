"""Moderators and rules acting on messages: hidden, deleted, warned, muted, all audited."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.platforms.base import PlatformError
from tests.conftest import MOD, Chat, chat_config
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
RULES = """
[communities.rules]
flood = { messages = 3, per = "1m", action = "hide" }

[[communities.rules.filters]]
words = ["casino", "crypto"]
action = "delete"

[[communities.rules.filters]]
links = ["bit.ly"]
action = "warn"
"""


def texts(chat: Chat) -> list[str]:
    return [m["text"] for m in transcript(chat)["messages"]]


def replies(chat: Chat) -> list[str]:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to]


async def audit(chat: Chat) -> list[tuple[str, str, str, str]]:
    assert chat.app is not None
    actions = await chat.app.store.audit.recent("hcsmeu")
    return [(a.action, a.actor, a.target, a.reason) for a in reversed(actions)]


async def test_hide_and_delete_by_reply(chat: Chat) -> None:
    await chat.at(10)
    rude = chat.local.say(ANN, "local:main", "A1: something rude")
    spam = chat.local.say(BOB, "local:main", "A1: buy my book")
    chat.local.say(ANN, "local:main", "A1: a fine answer")
    await chat.at(11)
    chat.local.say(MOD, "local:main", "/hide", reply_to=rude)
    chat.local.say(MOD, "local:main", "/delete", reply_to=spam)
    await chat.at(12)
    assert replies(chat) == [
        "Hidden from the transcript.",
        "Deleted, and taken out of the transcript.",
    ]
    assert chat.local.messages[spam.id].deleted  # gone from the platform too
    assert not chat.local.messages[rude.id].deleted
    await chat.at(61)
    assert texts(chat) == ["A1: a fine answer"]
    assert await audit(chat) == [
        ("hide", "local:mod", f"message {rude.id} by local:ann", ""),
        ("delete", "local:mod", f"message {spam.id} by local:bob", ""),
    ]


async def test_hide_without_a_reply_asks_which_message(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(MOD, "local:main", "/hide")
    await chat.at(10)
    assert replies(chat) == ["Reply to the message you mean with this command."]


async def test_warn_names_the_author(chat: Chat) -> None:
    await chat.at(10)
    ad = chat.local.say(BOB, "local:main", "Visit my shop")
    chat.local.say(MOD, "local:main", "/warn no advertising please", reply_to=ad)
    await chat.at(11)
    assert replies(chat) == [
        "@Bob: a moderator asks you to keep to the rules of #hcsmeu. no advertising please"
    ]
    assert await audit(chat) == [("warn", "local:mod", "local:bob", "no advertising please")]


async def test_a_muted_participant_is_left_out_until_the_mute_ends(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(MOD, "local:main", "/mute @bob 5m")
    await chat.at(10)
    assert replies(chat)[-1] == (
        "bob is muted for 5 minutes: their messages stay out of the transcript."
    )
    with pytest.raises(PlatformError, match="may not post"):  # the platform restricts too
        chat.local.say(BOB, "local:main", "A1: while muted")
    await chat.at(16)
    chat.local.say(BOB, "local:main", "A1: after the mute")
    await chat.at(17)
    chat.local.say(MOD, "local:main", "/mute local:ann")
    await chat.at(17)
    with pytest.raises(PlatformError, match="may not post"):
        chat.local.say(ANN, "local:side", "A1: muted until further notice, in any channel")
    await chat.stop()
    await chat.boot()
    await chat.at(18)
    chat.local.say(MOD, "local:main", "/unmute @ann")  # lifts the platform's restriction too
    await chat.at(19)
    chat.local.say(ANN, "local:main", "A1: back")
    await chat.at(61)
    assert texts(chat) == ["A1: after the mute", "A1: back"]
    assert replies(chat)[-1] == "ann is no longer muted."


async def test_where_the_platform_cannot_restrict_the_mute_keeps_them_out_of_the_record(
    chat: Chat,
) -> None:
    chat.local.capabilities = replace(chat.local.capabilities, restrict=False)
    await chat.at(10)
    chat.local.say(MOD, "local:main", "/mute @bob")
    await chat.at(10)
    chat.local.say(BOB, "local:main", "A1: said, but not recorded")
    await chat.stop()
    await chat.boot()  # mutes are stored: a restart keeps them
    await chat.at(12)
    chat.local.say(BOB, "local:main", "A1: still not recorded")
    chat.local.say(ANN, "local:main", "A1: recorded")
    await chat.at(61)
    assert texts(chat) == ["A1: recorded"]


@pytest.fixture
async def ruled(tmp_path: Path) -> Chat:
    c = Chat(tmp_path, chat_config(tmp_path, extra=RULES))
    await c.boot()
    return c


async def test_filters_and_flood_control_act_and_are_audited(ruled: Chat) -> None:
    chat = ruled
    try:
        await chat.at(10)
        casino = chat.local.say(ANN, "local:main", "A1: try my CASINO tonight")
        chat.local.say(BOB, "local:main", "A1: see https://bit.ly/xyz for more")
        chat.local.say(MOD, "local:main", "Moderators may post bit.ly links: https://bit.ly/m")
        await chat.at(11)
        for n in range(5):
            chat.local.say(BOB, "local:side", f"chatter {n}")
        await chat.at(11.5)
        chat.local.say(BOB, "local:side", "after a minute's pause? not yet")
        await chat.at(13)
        chat.local.say(BOB, "local:side", "calm again")
        await chat.at(61)
        assert chat.local.messages[casino.id].deleted
        assert replies(chat) == [
            "@Bob: a moderator asks you to keep to the rules of #hcsmeu. (link to bit.ly)"
        ]
        assert texts(chat) == [
            "A1: see https://bit.ly/xyz for more",  # warned, kept
            "Moderators may post bit.ly links: https://bit.ly/m",
            "chatter 0",
            "chatter 1",
            "chatter 2",
            "calm again",
        ]
        assert await audit(chat) == [
            ("delete", "rule:filter", "local:ann", "word “casino”"),
            ("warn", "rule:filter", "local:bob", "link to bit.ly"),
            ("hide", "rule:flood", "local:bob", "over 3 in 1m"),
            ("hide", "rule:flood", "local:bob", "over 3 in 1m"),
            ("hide", "rule:flood", "local:bob", "over 3 in 1m"),
        ]
    finally:
        await chat.stop()


async def test_slow_mode_is_on_for_the_chat_hour_only(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, settings='slow_mode = "30s"'))
    await chat.boot()
    try:
        await chat.at(-1)
        chat.local.say(ANN, "local:main", "before the chat")
        chat.local.say(ANN, "local:main", "no limit yet")
        await chat.at(0)
        assert chat.local.slow_mode == {"main": 30, "side": 30}
        chat.local.say(ANN, "local:main", "A1: first")
        with pytest.raises(PlatformError, match="slow mode"):
            chat.local.say(ANN, "local:main", "A1: too soon")
        chat.local.say(MOD, "local:main", "moderators are not slowed down")
        chat.local.say(MOD, "local:main", "not at all")
        await chat.at(0.5)
        chat.local.say(ANN, "local:main", "A1: thirty seconds later")
        await chat.at(61)
        assert chat.local.slow_mode == {"main": 0, "side": 0}
        actions = [(a, t, r) for a, _, t, r in await audit(chat)]
        assert actions == [
            ("slowmode", "local:main", "30s"),
            ("slowmode", "local:side", "30s"),
            ("slowmode", "local:main", "off"),
            ("slowmode", "local:side", "off"),
        ]
    finally:
        await chat.stop()
