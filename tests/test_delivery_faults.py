"""Posts that fail, time out or are cut off by a crash: what participants see, what the
transcript records, and what the moderators are told."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import ChannelRef, MessageRef, UserRef
from bot.platforms.base import DeliveryUncertain, PlatformError
from tests.conftest import MOD, START, Chat, chat_config
from tests.fakes.local_faults import FaultyLocal, question_in
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")


def questions(chat: Chat) -> dict[int, dict[str, Any]]:
    return {q["number"]: q for q in transcript(chat)["questions"]}  # type: ignore[attr-defined]


def q1_posts(chat: Chat, channel: str = "local:main") -> list[str]:
    return [p for p in chat.posts(channel) if p.startswith("Q1:")]


async def flaky_chat(tmp_path: Path, error: PlatformError, *, posted: bool) -> Chat:
    """A chat whose first send of Q1 in #main fails with ``error``, after posting it if
    ``posted``."""
    chat = Chat(tmp_path, chat_config(tmp_path, channels=("local:main",)))
    chat.local = local = FaultyLocal(chat.clock, admins=[MOD])
    local.fail(question_in(1), error, posted=posted)
    return chat


async def test_an_uncertain_question_counts_as_posted_and_its_answers_count(
    tmp_path: Path,
) -> None:
    chat = await flaky_chat(tmp_path, DeliveryUncertain("timed out after sending"), posted=True)
    chat.local.capabilities = replace(chat.local.capabilities, idempotent_send=False)
    await chat.boot()
    try:
        await chat.at(10)
        chat.local.say(ANN, "local:main", "A1: answering what we all saw")
        await chat.at(12)
        await chat.stop()
        await chat.boot()  # and after a restart too
        chat.local.say(ANN, "local:main", "A1: one more thought")
        await chat.at(61)
    finally:
        await chat.stop()
    assert len(q1_posts(chat)) == 1  # never resent: that could post it twice
    notices = [n for n in chat.posts("local:mods") if "not certain that Q1" in n]
    assert len(notices) == 1  # the moderators are asked to check
    q1 = questions(chat)[1]
    assert q1["posted_at"] == "2026-03-04T12:10:00Z"
    assert q1["delivery_confirmed"] is False
    assert q1["answer_count"] == 2
    assert transcript(chat)["general_discussion_ids"] == []
    page = chat.tmp / "pages" / "hcsmeu" / "2026-03-04"
    assert "This question was skipped." not in (page / "transcript.md").read_text("utf-8")
    assert "Delivery not confirmed." in (page / "transcript.md").read_text("utf-8")
    assert "Delivery not confirmed." in (page / "index.html").read_text("utf-8")


async def test_a_retryable_refusal_is_posted_30_seconds_later_without_a_notice(
    tmp_path: Path,
) -> None:
    chat = await flaky_chat(tmp_path, PlatformError("503", retryable=True), posted=False)
    await chat.boot()
    try:
        await chat.at(10)
        assert q1_posts(chat) == []
        await chat.at(10.5)
        assert len(q1_posts(chat)) == 1
        await chat.at(61)
    finally:
        await chat.stop()
    assert len(q1_posts(chat)) == 1
    assert questions(chat)[1]["posted_at"] == "2026-03-04T12:10:30Z"  # when it appeared
    assert questions(chat)[1]["delivery_confirmed"] is True
    assert [n for n in chat.posts("local:mods") if "Q1" in n] == []


async def test_a_lost_answer_settled_by_a_resend_keeps_the_first_attempts_time(
    tmp_path: Path,
) -> None:
    chat = await flaky_chat(tmp_path, DeliveryUncertain("timed out"), posted=True)
    await chat.boot()  # the local platform de-duplicates by key, as Discord's nonce does
    try:
        await chat.at(10)
        chat.local.say(ANN, "local:main", "A1: while the bot waits to hear back")
        await chat.at(61)
    finally:
        await chat.stop()
    assert len(q1_posts(chat)) == 1
    q1 = questions(chat)[1]
    assert q1["posted_at"] == "2026-03-04T12:10:00Z"
    assert q1["answer_count"] == 1
    assert chat.posts("local:mods")[:-1] == []  # only where the transcript's files are


async def test_a_question_resent_after_a_crash_keeps_its_time_and_is_not_late(
    chat: Chat,
) -> None:
    await chat.at(9.9)
    assert chat.app is not None
    session = (await chat.app.store.open_sessions())[0]
    chat.clock.set(START + timedelta(minutes=10))
    # The bot claimed Q1 and posted it, then was killed before recording that it had.
    await chat.app.store.claim_post(session.id, "q1", "local:main", chat.clock.now())
    text = "Q1: What does partnership mean to you? #hcsmeu"
    key = f"{session.id}:q1:local:main"
    await chat.local.send(ChannelRef.parse("local:main"), text, idempotency_key=key)
    await chat.stop()
    chat.clock.set(START + timedelta(minutes=12, seconds=30))
    await chat.boot()
    await chat.at(12.5)
    assert len(q1_posts(chat)) == 1  # shown once
    posts = await chat.app.store.posts(session.id)  # type: ignore[union-attr]
    assert posts[("q1", "local:main")].late is False
    await chat.at(61)
    assert questions(chat)[1]["posted_at"] == "2026-03-04T12:10:00Z"


class AnswersAtOnce(FaultyLocal):
    """A participant's tag reaches the bot before the platform confirms the question."""

    async def after_send(self, channel: ChannelRef, text: str, ref: MessageRef) -> None:
        if text.startswith("Q1:") and channel.id == "main":
            self.say(ANN, channel, "A1: the fastest answer")
            await self.drained()  # the bot has handled it, still waiting for this answer


async def test_a_tag_that_arrives_while_its_question_is_being_posted_answers_it(
    tmp_path: Path,
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = AnswersAtOnce(chat.clock, admins=[MOD])
    await chat.boot()
    try:
        await chat.at(61)
    finally:
        await chat.stop()
    assert questions(chat)[1]["answer_count"] == 1
    assert transcript(chat)["general_discussion_ids"] == []


async def test_no_reminder_is_posted_once_the_chat_has_started(tmp_path: Path) -> None:
    config = chat_config(tmp_path)
    bot = config.bot.model_copy(update={"grace": timedelta(minutes=15)})
    chat = Chat(tmp_path, config.model_copy(update={"bot": bot}))
    await chat.boot()
    try:
        await chat.at(-11)
        await chat.stop()
        # Down over the 10-minute reminder; back 2 minutes after the start, well within
        # the grace window, where a late step is still posted.
        chat.clock.set(START + timedelta(minutes=2))
        await chat.boot()
        await chat.at(2)
        posts = chat.posts()
        assert [p for p in posts if "starts in 10 minutes" in p] == []
        assert posts[-1].startswith("Welcome")  # late, but posted
        await chat.stop()
        await chat.boot()  # and a further restart does not post it either
        await chat.at(5)
        assert [p for p in chat.posts() if "starts in 10 minutes" in p] == []
    finally:
        if chat.app is not None:
            await chat.stop()


async def test_an_interrupted_send_is_not_resent_past_the_grace_window(chat: Chat) -> None:
    await chat.at(9.9)
    assert chat.app is not None
    session = (await chat.app.store.open_sessions())[0]
    chat.clock.set(START + timedelta(minutes=10))
    await chat.app.store.claim_post(session.id, "q1", "local:main", chat.clock.now())
    await chat.stop()  # killed before the request went out
    chat.clock.set(START + timedelta(minutes=25))  # even a de-duplicating platform forgets
    await chat.boot()
    await chat.at(25)
    assert q1_posts(chat) == []  # not posted a quarter of an hour late
    notices = [n for n in chat.posts("local:mods") if "not certain that Q1 reached local:main" in n]
    assert len(notices) == 1
