"""Answers sent in a chat's last moments reach its transcript, even when they reach the
bot only after the chat closed: the close waits for the platforms' backlog, and a late
message rebuilds the transcript within an hour of the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import backlog
from bot.domain import ChannelRef, PlatformEvent, UserRef
from bot.platforms.base import DeliveryUncertain
from bot.platforms.local.platform import LocalPlatform
from tests.conftest import MOD, START, Chat, chat_config
from tests.fakes.local_faults import FaultyLocal, question_in
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")


def minute(m: float) -> Any:
    return START + timedelta(minutes=m)


def answers(chat: Chat) -> dict[str, list[int]]:
    return {m["text"]: m["questions"] for m in transcript(chat)["messages"]}  # type: ignore[attr-defined]


def links(chat: Chat) -> int:
    return sum(p.startswith("The transcript of today's") for p in chat.posts())


async def test_answers_sent_while_the_bot_was_down_at_the_end_are_in_the_transcript(
    chat: Chat,
) -> None:
    await chat.at(59)
    await chat.stop()
    chat.clock.set(minute(59.9))
    chat.local.say(ANN, "local:main", "A3: just before the end")
    chat.local.say(BOB, "local:side", "A2: me too")
    chat.clock.set(minute(62))  # the bot comes back after the chat's end
    await chat.boot()
    await chat.at(62)
    assert links(chat) == 1
    assert answers(chat) == {"A3: just before the end": [3], "A2: me too": [2]}


class ReadsThePage(FaultyLocal):
    """Reads its backlog slowly, as over a network, and notes what the transcript page
    says at the moment its link is posted."""

    page: dict[str, Any] | None = None
    root = Path()

    async def before_send(self, channel: ChannelRef, text: str, thread_title: str | None) -> None:
        if text.startswith("The transcript of today's") and self.page is None:
            path = self.root / "hcsmeu" / "2026-03-04" / "transcript.json"
            self.page = json.loads(path.read_text(encoding="utf-8"))

    async def events(self) -> AsyncIterator[PlatformEvent]:
        await asyncio.sleep(0.2)  # the first request's round trip (a stand-in's latency)
        async for event in super().events():
            yield event


async def test_after_a_restart_the_chat_closes_once_the_backlog_is_stored(
    tmp_path: Path,
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = local = ReadsThePage(chat.clock, admins=[MOD])
    local.root = tmp_path / "pages"
    await chat.boot()
    await chat.at(59)
    await chat.stop()
    chat.clock.set(minute(59.9))
    local.say(ANN, "local:main", "A3: just before the end")
    chat.clock.set(minute(62))
    await chat.boot()
    try:
        await chat.at(62)
    finally:
        await chat.stop()
    assert local.page is not None  # the page as first published, not rebuilt later
    assert [m["text"] for m in local.page["messages"]] == ["A3: just before the end"]


async def test_a_message_that_arrives_after_the_close_is_added_and_the_link_not_reposted(
    chat: Chat,
) -> None:
    await chat.at(61)
    assert answers(chat) == {}
    # Sent in the last minute, delivered late (a phone's outbox, a platform's queue).
    chat.local.say(ANN, "local:main", "A3: stuck in my outbox", sent_at=minute(59.5))
    chat.local.say(BOB, "local:main", "A3: said after the end")
    await chat.at(62)
    assert answers(chat) == {"A3: stuck in my outbox": [3]}
    assert links(chat) == 1


async def test_late_messages_are_taken_after_a_restart_but_not_after_an_hour(chat: Chat) -> None:
    await chat.at(61)
    await chat.stop()
    chat.clock.set(minute(70))
    await chat.boot()
    chat.local.say(ANN, "local:main", "A1: late but kept", sent_at=minute(58))
    await chat.at(70)
    assert answers(chat) == {"A1: late but kept": [1]}
    await chat.at(60 + 61)  # more than an hour after the end: the record is final
    chat.local.say(BOB, "local:main", "A2: far too late", sent_at=minute(59))
    await chat.at(60 + 62)
    assert answers(chat) == {"A1: late but kept": [1]}


async def test_a_deletion_soon_after_the_chat_takes_the_message_out(chat: Chat) -> None:
    await chat.at(20)
    ref = chat.local.say(ANN, "local:main", "A2: on second thought, not public")
    chat.local.say(BOB, "local:main", "A2: stays")
    await chat.at(61)
    assert set(answers(chat)) == {"A2: on second thought, not public", "A2: stays"}
    chat.local.remove(ref)
    await chat.at(65)
    assert set(answers(chat)) == {"A2: stays"}


class NeverCaughtUp(LocalPlatform):
    """A platform whose first read never completes (a stalled connection)."""

    async def caught_up(self) -> None:
        await asyncio.Event().wait()


async def test_a_stalled_backlog_delays_the_close_only_within_its_bound(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backlog, "CATCH_UP_BOUND", timedelta(milliseconds=50))
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = NeverCaughtUp(chat.clock, admins=[MOD])
    await chat.boot()
    try:
        await chat.at(61)
    finally:
        await chat.stop()
    assert links(chat) == 1  # the transcript is still posted
    assert "backlog is not read" in caplog.text


async def test_a_kill_between_the_transcript_and_the_close_loses_no_answer(chat: Chat) -> None:
    # The link is posted in #main, refused in #side: the chat waits to close...
    chat.local.refuse = lambda channel, text: channel.id == "side" and "transcript of" in text
    await chat.at(60)
    assert links(chat) == 1
    await chat.stop()  # ...and the bot is killed there
    chat.local.refuse = None
    chat.local.say(ANN, "local:main", "A3: typed in the last second", sent_at=minute(59.9))
    await chat.boot()
    await chat.at(61)
    assert chat.posts("local:side")[-1].startswith("The transcript of today's")
    assert answers(chat) == {"A3: typed in the last second": [3]}


async def test_the_communitys_rules_apply_to_a_late_message_too(tmp_path: Path) -> None:
    rules = '[[communities.rules.filters]]\nwords = ["casino"]\naction = "delete"\n'
    chat = Chat(tmp_path, chat_config(tmp_path, extra=rules))
    await chat.boot()
    try:
        await chat.at(61)
        spam = chat.local.say(ANN, "local:main", "A3: CASINO tonight", sent_at=minute(59))
        chat.local.say(BOB, "local:main", "A3: a real answer", sent_at=minute(59))
        await chat.at(62)
    finally:
        await chat.stop()
    assert chat.local.messages[spam.id].deleted
    assert answers(chat) == {"A3: a real answer": [3]}


async def test_an_answer_stored_while_the_transcript_is_written_is_in_it(chat: Chat) -> None:
    assert chat.app is not None
    runner = chat.app.runner
    publish = runner.publish

    async def slow_publish(session_id: int) -> str:
        url = await publish(session_id)
        # The answer is stored after the page was read from the store, before the bot
        # has noted that the page exists (rendering a large chat takes a while).
        chat.local.say(ANN, "local:main", "A3: right on the bell", sent_at=minute(59.99))
        await chat.local.drained()
        return url

    runner.publish = slow_publish
    await chat.at(61)
    assert answers(chat) == {"A3: right on the bell": [3]}


async def test_a_reply_to_a_question_confirmed_only_later_is_filed_under_it(
    tmp_path: Path,
) -> None:
    """Q1 went out but its answer was lost, so the bot learns its id only at the retry;
    a participant replied in between. The transcript files the reply under Q1."""
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = local = FaultyLocal(chat.clock, admins=[MOD])
    local.fail(question_in(1), DeliveryUncertain("timed out waiting for the answer"), posted=True)
    await chat.boot()
    try:
        await chat.at(10.1)
        q1 = next(p for p in local.bot_posts("local:main") if p.text.startswith("Q1:"))
        local.say(ANN, "local:main", "Shared decisions, from day one", reply_to=q1.ref)
        await chat.at(61)  # the retry settles Q1 with the same id; the chat closes
    finally:
        await chat.stop()
    assert answers(chat) == {"Shared decisions, from day one": [1]}
