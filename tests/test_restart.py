"""Restarts in the middle of a live chat: no double post, late inside the grace window,
skipped past it, and nothing participants said while the bot was down is lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.platforms.base import DeliveryUncertain
from bot.transcript.model import TranscriptSource
from tests.conftest import MOD, START, Chat, chat_config
from tests.fakes.local_faults import FaultyLocal, question_in

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")


def count(chat: Chat, prefix: str, channel: str = "local:main") -> int:
    return sum(p.startswith(prefix) for p in chat.posts(channel))


async def test_restart_mid_chat_posts_nothing_twice_and_late_within_grace(chat: Chat) -> None:
    await chat.at(12)
    assert count(chat, "Q1:") == 1
    await chat.stop()

    chat.clock.set(START + timedelta(minutes=23))  # Q2 was due at 20m: 3 minutes late
    chat.local.say(ANN, "local:main", "A1: said while the bot was down")
    await chat.boot()
    await chat.at(23)

    assert count(chat, "Welcome") == 1
    assert count(chat, "Q1:") == 1
    q2 = [p for p in chat.posts() if p.startswith("Q2:")]
    assert len(q2) == 1
    assert q2[0].endswith("(posted 3 minutes late: the bot was offline)")
    assert chat.posts("local:mods") == []  # nothing was missed, so nothing to report

    await chat.at(61)
    assert count(chat, "Q2:") == 1
    assert count(chat, "The transcript") == 1
    source = await _source(chat)
    assert [m.text for m in source.messages] == ["A1: said while the bot was down"]
    assert source.messages[0].questions == frozenset({1})


async def test_restart_past_the_grace_window_skips_and_tells_the_moderators(chat: Chat) -> None:
    await chat.at(12)
    await chat.stop()
    chat.clock.set(START + timedelta(minutes=36))  # Q2 16 minutes late, Q3 6 minutes late
    await chat.boot()
    await chat.at(36)

    assert count(chat, "Q2:") == 0
    assert count(chat, "Q3:") == 0
    notices = chat.posts("local:mods")
    assert len(notices) == 1
    assert "Q2, Q3" in notices[0]
    assert "skipped" in notices[0]

    await chat.at(61)
    source = await _source(chat)
    posted = {q.number: q.posted_at for q in source.questions}
    assert posted[1] is not None
    assert posted[2] is None
    assert posted[3] is None
    assert count(chat, "Q2:") == 0
    assert count(chat, "The transcript") == 1


async def test_the_transcript_link_is_never_skipped_however_late(chat: Chat) -> None:
    await chat.at(30)
    await chat.stop()
    chat.clock.set(START + timedelta(hours=3))
    await chat.boot()
    await chat.at(180)
    assert count(chat, "Thanks all.") == 0  # the closing is stale two hours later
    link = [p for p in chat.posts() if p.startswith("The transcript")]
    assert len(link) == 1
    assert "late" in link[0]


async def test_an_interrupted_send_is_resent_only_where_that_cannot_post_twice(chat: Chat) -> None:
    await chat.at(9)
    assert chat.app is not None
    session = (await chat.app.store.open_sessions())[0]
    # The bot died between recording the intent to post Q1 and hearing back.
    await chat.app.store.claim_post(session.id, "q1", "local:main", chat.clock.now())
    await chat.stop()
    await chat.boot()
    await chat.at(10)
    assert count(chat, "Q1:") == 1  # the local platform de-duplicates by idempotency key


async def test_an_interrupted_send_without_idempotency_is_reported_not_repeated(
    chat: Chat,
) -> None:
    await chat.at(10)  # Q1 really was posted...
    assert chat.app is not None
    session = (await chat.app.store.open_sessions())[0]
    await chat.app.store.db.execute(
        "UPDATE posts SET state = 'sending' WHERE step_key = 'q1' AND channel = 'local:main'"
    )  # ...but the bot died before recording that it had been
    await chat.app.store.db.commit()
    await chat.stop()
    chat.local.capabilities = replace(chat.local.capabilities, idempotent_send=False)
    await chat.boot()
    await chat.at(11)
    assert count(chat, "Q1:") == 1
    notices = chat.posts("local:mods")
    assert len(notices) == 1
    assert "Q1" in notices[0]
    assert "local:main" in notices[0]
    assert chat.app is not None
    posts = await chat.app.store.posts(session.id)
    assert posts[("q1", "local:main")].state == "uncertain"


async def test_a_lost_answer_is_settled_by_a_retry_where_that_cannot_post_twice(
    tmp_path: Path,
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = local = FaultyLocal(chat.clock, admins=[MOD])
    # Q1 is posted, then its answer is lost once, as a timeout after sending would.
    lost = local.fail(
        question_in(1), DeliveryUncertain("timed out waiting for the answer"), posted=True
    )
    await chat.boot()
    try:
        await chat.at(10)
        assert count(chat, "Q1:") == 1
        assert chat.app is not None
        session = (await chat.app.store.open_sessions())[0]
        assert lost.times == 0  # the answer was lost, so the bot does not know yet...
        posts = await chat.app.store.posts(session.id)
        assert posts[("q1", "local:main")].state != "sent"
        await chat.at(10.5)  # ...until the retry, 30 s on, with the same idempotency key
        posts = await chat.app.store.posts(session.id)
        assert posts[("q1", "local:main")].state == "sent"
        assert (
            posts[("q1", "local:main")].message_id == chat.local.bot_posts("local:main")[-1].ref.id
        )
    finally:
        await chat.stop()
    assert count(chat, "Q1:") == 1
    assert chat.posts("local:mods") == []  # nothing for the moderators to check


async def _source(chat: Chat) -> TranscriptSource:
    assert chat.app is not None
    async with chat.app.store.db.execute("SELECT id FROM sessions") as cur:
        row = await cur.fetchone()
    assert row is not None
    return await chat.app.store.transcript_source(int(row[0]))
