"""A whole session on the local platform: steps on time, in every channel, exactly once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import ChannelRef, UserRef
from tests.conftest import START, Chat

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")


def transcript(chat: Chat) -> dict[str, object]:
    path = chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def test_full_session_posts_every_step_in_order_in_every_channel(chat: Chat) -> None:
    await chat.at(61)
    for channel in ("local:main", "local:side"):
        posts = chat.posts(channel)
        assert len(posts) == 8, posts
        assert posts[0].startswith(
            "Reminder: the #hcsmeu chat “Patients as partners” starts in 1 hour,"
            " on Wednesday, March 4, 2026"
        )
        assert "10 minutes" in posts[1]
        assert posts[2].startswith("Welcome to the #hcsmeu chat: Patients as partners")
        assert "Be kind." in posts[2]
        assert posts[3] == "Q1: What does partnership mean to you? #hcsmeu"
        assert posts[4].startswith("Q2: ")
        assert posts[5].startswith("Q3: ")
        assert posts[6].startswith("Thanks all.")
        # Without public_url no link would open for participants: none is posted...
        assert posts[7] == (
            "The transcript of today's #hcsmeu chat is ready; the moderators will share it."
        )
        assert not any("file:" in p or str(chat.tmp) in p for p in posts)
    index = chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "index.html"
    assert index.is_file()
    # ...and the moderators, in their own channel, are told where the files are.
    [notice] = chat.posts("local:mods")
    assert str(index.parent) in notice
    assert "public_url" in notice


async def test_questions_are_posted_at_their_times(chat: Chat) -> None:
    await chat.at(9.9)
    assert not any(p.startswith("Q1:") for p in chat.posts())
    await chat.at(10)
    assert chat.posts()[-1].startswith("Q1:")
    q1 = chat.local.bot_posts("local:main")[-1]
    assert q1.sent_at - START == timedelta(minutes=10)


async def test_answers_by_tag_reply_and_thread_are_attributed_and_merged(chat: Chat) -> None:
    await chat.at(10)
    q1_main = chat.local.bot_posts("local:main")[-1].ref
    q1_side = chat.local.bot_posts("local:side")[-1].ref
    chat.local.say(ANN, "local:main", "A1: sharing decisions")
    chat.local.say(BOB, "local:side", "co-design from day one", reply_to=q1_side)
    chat.local.say(ANN, ChannelRef("local", "main", thread=q1_main.id), "in the thread")
    chat.local.say(BOB, "local:main", "hello all, Bob from Lyon")
    chat.local.say(BOB, "local:main", "A2: too early")  # Q2 is not posted yet
    await chat.at(20)
    chat.local.say(ANN, "local:main", "A1 & A2: both!")
    await chat.at(61)
    data = transcript(chat)
    questions = {q["number"]: q for q in data["questions"]}  # type: ignore[attr-defined]
    messages = {m["id"]: m for m in data["messages"]}  # type: ignore[attr-defined]
    q1_texts = {messages[i]["text"] for i in questions[1]["answer_ids"]}
    assert q1_texts == {
        "A1: sharing decisions",
        "co-design from day one",
        "in the thread",
        "A1 & A2: both!",
    }
    assert {messages[i]["text"] for i in questions[2]["answer_ids"]} == {"A1 & A2: both!"}
    general = {messages[i]["text"] for i in data["general_discussion_ids"]}  # type: ignore[attr-defined]
    assert general == {"hello all, Bob from Lyon", "A2: too early"}
    channels = {m["channel"] for m in messages.values()}
    assert channels == {"local:main", "local:side", f"local:main/{q1_main.id}"}


async def test_edit_changes_the_answer_and_deletion_removes_it(chat: Chat) -> None:
    await chat.at(20)
    typo = chat.local.say(ANN, "local:main", "A1: sharing decisons")
    oops = chat.local.say(BOB, "local:main", "A2: my password is hunter2")
    await chat.at(21)
    chat.local.edit(typo, "A2: on reflection, this answers Q2")
    chat.local.remove(oops)
    await chat.at(61)
    data = transcript(chat)
    texts = [m["text"] for m in data["messages"]]  # type: ignore[attr-defined]
    assert "A2: my password is hunter2" not in texts
    edited = next(m for m in data["messages"] if m["author_name"] == "Ann")  # type: ignore[attr-defined]
    assert edited["text"] == "A2: on reflection, this answers Q2"
    assert edited["questions"] == [2]
    assert edited["edited_at"] is not None


async def test_messages_outside_the_live_chat_are_not_recorded(chat: Chat) -> None:
    await chat.at(-5)
    chat.local.say(ANN, "local:main", "A1: before the chat even started")
    chat.local.say(ANN, "local:elsewhere", "A1: another channel")
    await chat.at(61)
    chat.local.say(ANN, "local:main", "A1: after the transcript")
    await chat.at(62)
    assert transcript(chat)["messages"] == []


async def test_every_stored_message_is_acknowledged_after_commit(chat: Chat) -> None:
    await chat.at(10)
    refs = [chat.local.say(ANN, "local:main", f"A1: point {i}") for i in range(5)]
    await chat.at(11)
    assert chat.local.acknowledged[-5:] == [r.id for r in refs]
    assert chat.app is not None
    async with chat.app.store.db.execute("SELECT COUNT(*) FROM messages") as cur:
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == 5


async def test_hostile_answers_come_out_inert_in_the_page(chat: Chat) -> None:
    await chat.at(10)
    evil = UserRef("local", "x", '"><img src=x onerror=alert(1)>')
    chat.local.say(evil, "local:main", "A1: <script>alert('pwned')</script>")
    chat.local.say(ANN, "local:main", 'A1: "><img src=x onerror=alert(2)>')
    await chat.at(61)
    html = (chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "index.html").read_text("utf-8")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


async def test_a_refused_send_is_retried_and_then_posted(chat: Chat) -> None:
    await chat.at(9)
    chat.local.refuse = lambda channel, text: channel.id == "main" and text.startswith("Q1:")
    await chat.at(10)
    assert [p for p in chat.posts("local:main") if p.startswith("Q1:")] == []
    assert any(p.startswith("Q1:") for p in chat.posts("local:side"))
    chat.local.refuse = None  # the outage is over
    await chat.at(10.5)
    q1 = [m for m in chat.local.bot_posts("local:main") if m.text.startswith("Q1:")]
    assert len(q1) == 1
    assert q1[0].sent_at - START == timedelta(minutes=10, seconds=30)
    assert "late" not in q1[0].text


def test_transcript_folder_is_under_the_configured_root(tmp_path: Path) -> None:
    from tests.conftest import chat_config

    config = chat_config(tmp_path)
    assert config.resolve(config.bot.transcripts_dir) == tmp_path / "pages"


async def test_a_refused_transcript_link_is_retried_before_the_chat_closes(chat: Chat) -> None:
    chat.local.refuse = lambda channel, text: channel.id == "side" and "transcript of" in text
    await chat.at(60)
    assert chat.posts("local:main")[-1].startswith("The transcript of today's")
    assert not chat.posts("local:side")[-1].startswith("The transcript of today's")
    assert chat.app is not None
    assert [s.state for s in await chat.app.store.open_sessions()] == ["live"]
    chat.local.refuse = None
    await chat.at(60.5)
    assert chat.posts("local:side")[-1].startswith("The transcript of today's")
    assert await chat.app.store.open_sessions() == []
    pages = list((chat.tmp / "pages").rglob("index.html"))
    assert len(pages) == 1
