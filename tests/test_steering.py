"""Moderators steer a live chat; every change is stored, timed exactly and survives a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain import UserRef
from tests.conftest import MOD, START, Chat
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")


def posted_at(chat: Chat, prefix: str, channel: str = "local:main") -> list[timedelta]:
    """When each bot post starting with ``prefix`` went out, counted from the planned start."""
    return [m.sent_at - START for m in chat.local.bot_posts(channel) if m.text.startswith(prefix)]


def problems(chat: Chat) -> list[str]:
    """Notices to the moderators other than where the transcript's files are."""
    return [p for p in chat.posts("local:mods") if "the transcript is written in" not in p]


def last_reply(chat: Chat) -> str:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to][-1]


def minutes(*values: float) -> list[timedelta]:
    return [timedelta(minutes=v) for v in values]


async def command(chat: Chat, minute: float, text: str, who: UserRef = MOD) -> str:
    await chat.at(minute)
    chat.local.say(who, "local:main", text)
    await chat.at(minute)
    return last_reply(chat)


async def test_pause_resume_next_and_extend_move_the_timeline_and_survive_a_restart(
    chat: Chat,
) -> None:
    assert await command(chat, 12, "/pause") == (
        "Paused: nothing is posted until someone sends resume."
    )
    await chat.at(16)
    assert await command(chat, 17, "/status", ANN) == (
        "“Patients as partners” is paused since 1:12\u202fPM (Europe/Paris)."
    )
    assert await command(chat, 17, "/resume") == (
        "Resumed: everything still to come moves 5 minutes later."
    )
    assert await command(chat, 20, "/next") == (
        "Q2 is posted now; the rest of the chat keeps its spacing."
    )
    assert posted_at(chat, "Q2:") == minutes(20)
    assert posted_at(chat, "Q2:", "local:side") == minutes(20)
    assert await command(chat, 21, "/extend 10m") == (
        "Extended by 10 minutes: the chat now closes at 2:10\u202fPM (Europe/Paris)."
    )
    await chat.stop()
    await chat.boot()
    await chat.at(39.9)
    assert posted_at(chat, "Q3:") == []
    await chat.at(40)
    assert posted_at(chat, "Q3:") == minutes(40)
    await chat.at(69.9)
    assert posted_at(chat, "Thanks all.") == []
    await chat.at(70)
    assert posted_at(chat, "Thanks all.") == minutes(70)
    assert posted_at(chat, "The transcript") == minutes(70)
    assert posted_at(chat, "Q1:") == minutes(10)  # nothing posted twice
    assert posted_at(chat, "Q2:") == minutes(20)
    assert transcript(chat)["session"]["duration_seconds"] == 70 * 60

    assert chat.app is not None
    actions = await chat.app.store.audit.recent("hcsmeu")
    assert [(a.action, a.target, a.reason) for a in actions] == [
        ("extend", "", "10m"),
        ("next", "Q2", ""),
        ("resume", "", ""),
        ("pause", "", ""),
    ]
    assert {a.actor for a in actions} == {"local:mod"}
    assert actions[0].at == START + timedelta(minutes=21)


async def test_skip_drops_the_next_question_and_keeps_the_others_times(chat: Chat) -> None:
    assert await command(chat, 12, "/skip") == "Q2 is skipped."
    await chat.at(61)
    assert posted_at(chat, "Q2:") == []
    assert posted_at(chat, "Q3:") == minutes(30)
    posted = {q["number"]: q["posted_at"] for q in transcript(chat)["questions"]}
    assert posted[2] is None
    assert problems(chat) == []  # a decision, not a failure to report


async def test_start_opens_the_chat_early_without_stale_reminders(chat: Chat) -> None:
    assert await command(chat, -30, "/start") == "The chat starts now."
    assert posted_at(chat, "Welcome") == minutes(-30)
    assert await command(chat, -29, "/start") == "The chat is already running."
    chat.local.say(ANN, "local:main", "A1: early bird")
    await chat.at(-20)
    assert posted_at(chat, "Q1:") == minutes(-20)
    await chat.at(30)
    assert posted_at(chat, "Thanks all.") == minutes(30)
    reminders = [p for p in chat.posts() if p.startswith("Reminder")]
    assert len(reminders) == 1  # the hour-before one; the 10-minute one was never due
    assert problems(chat) == []
    data = transcript(chat)
    assert [m["text"] for m in data["messages"]] == ["A1: early bird"]
    assert data["session"]["starts_at"] == "2026-03-04T11:30:00Z"


async def test_announce_reaches_every_channel(chat: Chat) -> None:
    assert await command(chat, -5, "/announce We start in 5 minutes!") == "Announced in 2 channels."
    assert chat.posts("local:main")[-2] == "We start in 5 minutes!"
    assert chat.posts("local:side")[-1] == "We start in 5 minutes!"
    assert await command(chat, -4, "/announce") == (
        "Write the announcement after the command, for example “announce We start in 5 minutes!”."
    )


async def test_next_for_a_participant_tells_when_the_next_chat_is(chat: Chat) -> None:
    assert await command(chat, -90, "/next", ANN) == (
        "The next #hcsmeu chat, “Patients as partners”, starts on"
        " Wednesday, March 4, 2026, 1:00\u202fPM (Europe/Paris)."
    )
    assert await command(chat, 12, "/next", ANN) == (
        "“Patients as partners” is live: 1 of 3 questions asked; Q2 at 1:20\u202fPM (Europe/Paris)."
    )
    assert posted_at(chat, "Q2:") == []  # a participant's next moves nothing


async def test_hashchat_audit_lists_the_actions(chat: Chat, tmp_path: Path) -> None:
    await command(chat, 12, "/skip")
    await command(chat, 13, "/extend 5m")
    await chat.stop()
    config = tmp_path / "hashchat.toml"
    config.write_text(
        f'[bot]\ndatabase = "{chat.config.bot.database}"\n'
        '[[communities]]\nid = "hcsmeu"\nhashtag = "#hcsmeu"\n'
        'timezone = "Europe/Paris"\nchannels = ["local:main"]\n',
        encoding="utf-8",
    )
    # The command runs its own event loop, so it runs in a thread of its own here.
    result = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2026-03-04 13:13 CET  hcsmeu  extend    by Moderator (local:mod)  5m",
        "2026-03-04 13:12 CET  hcsmeu  skip      by Moderator (local:mod)  Q2",
    ]


async def test_ask_posts_an_extra_question_now_and_renumbers_the_rest(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: answered before the extra question")
    assert await command(chat, 12, "/ask What surprised you today?") == "Q2 is posted now."
    assert chat.posts()[-2] == "Q2: What surprised you today? #hcsmeu"
    assert posted_at(chat, "Q2:") == minutes(12)
    await chat.stop()
    await chat.boot()
    await chat.at(20)  # the planned Q2 keeps its time, as Q3
    assert chat.posts()[-1] == "Q3: Which tool helped most? #hcsmeu"
    assert await command(chat, 25, "/skip") == "Q4 is skipped."
    chat.local.say(BOB, "local:main", "A2: that it went so fast")
    await chat.at(61)
    data = transcript(chat)
    assert [(q["number"], q["text"], q["posted_at"] is not None) for q in data["questions"]] == [
        (1, "What does partnership mean to you?", True),
        (2, "What surprised you today?", True),
        (3, "Which tool helped most?", True),
        (4, "What should change first?", False),
    ]
    by_text = {m["text"]: m["questions"] for m in data["messages"]}
    assert by_text == {
        "A1: answered before the extra question": [1],
        "A2: that it went so fast": [2],
    }
    assert await command(chat, 62, "/ask too late") == "No #hcsmeu chat is running."
