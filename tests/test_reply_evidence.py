"""A reply to a question post whose id the bot never learnt (killed between the platform
taking the post and the bot storing its id, where a resend could post twice) is filed
under that question, and proves the post: the transcript shows it as delivered."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.own_posts import question_of_post
from bot.texts import question_post
from tests.conftest import Chat, chat_config
from tests.fakes.telegram_api import GROUP, Person, telegram_rig
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
TG_ANN = Person(5001, "Ann", "ann_k")
TG_BOB = Person(5002, "Bob")
PAGE = "pages/hcsmeu/2026-03-04/transcript.json"

POSTS = {
    1: question_post(1, "What does partnership mean to you?", "#hcsmeu"),
    2: question_post(2, "Qué herramienta ayudó más?", "#hcsmeu", "Which tool helped most?"),
    3: question_post(3, "Was sollte sich zuerst ändern? " + "Warum genau das? " * 4, "#hcsmeu"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (POSTS[1], 1),  # the post itself
        ("  Q1: What does partnership\nmean to you?  #hcsmeu ", 1),  # spaces the platform folded
        (POSTS[2], 2),  # a bilingual post
        (POSTS[1] + "\n\n(posted 3 minutes late: the bot was offline)", 1),  # late note
        (POSTS[3][:30], 3),  # the first part of a post split in two
        (POSTS[3][30:], 3),  # its later part, long enough to be evidence
        ("Warum genau das?", None),  # a short piece: could be any short post
        ("Q1: What does partnership mean to you? #otherchat", None),  # another chat's
        ("Q4: What does partnership mean to you? #hcsmeu", None),  # another number
        ("Welcome to the #hcsmeu chat: Patients as partners", None),
        ("#hcsmeu", None),  # in every question's post: which one is unknown
        ("", None),
    ],
)
def test_which_question_a_post_of_the_bot_is(text: str, expected: int | None) -> None:
    assert question_of_post(text, POSTS) == expected


async def kill_while_q1_is_sent(chat: Chat, *, also: str = "") -> None:
    """Q1 really was posted, but the bot is killed before it stores its id; then it
    restarts, and at minute 11 has told the moderators Q1 is uncertain. ``also`` is one
    more statement run on the store first."""
    await chat.at(10)
    assert chat.app is not None
    db = chat.app.store.db
    if also:
        await db.execute(also)
    await db.execute(
        "UPDATE posts SET state = 'sending', message_id = NULL, url = NULL WHERE step_key = 'q1'"
    )
    await db.commit()
    await chat.stop()
    await chat.boot()
    await chat.at(11)
    notices = chat.posts("local:mods")
    assert len(notices) == 1
    assert "Q1" in notices[0]


async def test_a_reply_to_an_unconfirmed_question_post_is_filed_under_it_and_confirms_it(
    tmp_path: Path,
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, channels=("local:main",)))
    chat.local.capabilities = replace(chat.local.capabilities, idempotent_send=False)
    await chat.boot()
    try:
        await kill_while_q1_is_sent(chat)
        q1 = next(m for m in chat.local.bot_posts("local:main") if m.text.startswith("Q1:"))
        chat.local.say(ANN, "local:main", "Listening, mostly", reply_to=q1.ref)
        await chat.at(12)
        chat.local.say(BOB, "local:main", "Being asked before, not after", reply_to=q1.ref)
        await chat.at(61)
    finally:
        await chat.stop()
    data = transcript(chat)
    messages = data["messages"]
    assert isinstance(messages, list)
    filed = {m["text"]: m["questions"] for m in messages}
    assert filed == {"Listening, mostly": [1], "Being asked before, not after": [1]}
    questions = data["questions"]
    assert isinstance(questions, list)
    q1_record = next(q for q in questions if q["number"] == 1)
    # The reply showed Q1's post as the platform has it: it was delivered.
    assert q1_record["delivery_confirmed"] is True
    assert len(q1_record["answer_ids"]) == 2


async def test_on_telegram_a_reply_shows_the_uncertain_question_post_and_confirms_it(
    tmp_path: Path,
) -> None:
    """The same through python-telegram-bot: Telegram sends the replied-to post along."""
    async with telegram_rig(tmp_path) as rig:
        api, chat = rig.api, rig.chat
        await kill_while_q1_is_sent(chat)
        q1 = next(m for m in api.bot_messages(GROUP) if m["text"].startswith("Q1:"))
        first = api.post(TG_ANN, GROUP, "Listening, mostly", reply_to=q1["message_id"])
        await rig.delivered(first)
        later = api.post(TG_BOB, GROUP, "Being asked before, not after", reply_to=q1["message_id"])
        await rig.delivered(later)
        await chat.at(61)
        data = json.loads((chat.tmp / PAGE).read_text(encoding="utf-8"))
        sends = [t for t in api.bot_texts(GROUP) if t.startswith("Q1:")]
    assert len(sends) == 1  # never resent
    filed = {m["text"]: m["questions"] for m in data["messages"]}
    assert filed == {"Listening, mostly": [1], "Being asked before, not after": [1]}
    q1_record = next(q for q in data["questions"] if q["number"] == 1)
    assert q1_record["delivery_confirmed"] is True


async def test_a_reply_to_an_older_post_with_the_same_words_confirms_nothing(
    tmp_path: Path,
) -> None:
    """A weekly chat may ask last week's question word for word: a reply to last week's
    post (a message the store knows as another post) is not this week's question."""
    chat = Chat(tmp_path, chat_config(tmp_path, channels=("local:main",)))
    chat.local.capabilities = replace(chat.local.capabilities, idempotent_send=False)
    await chat.boot()
    try:
        # This week's Q1 went out unconfirmed, and the message replied to is known as
        # another post (as last week's would be).
        await kill_while_q1_is_sent(
            chat,
            also="UPDATE posts SET message_id = (SELECT message_id FROM posts"
            " WHERE step_key = 'q1') WHERE step_key LIKE 'reminder:%'",
        )
        q1 = next(m for m in chat.local.bot_posts("local:main") if m.text.startswith("Q1:"))
        chat.local.say(ANN, "local:main", "Replying to last week's question", reply_to=q1.ref)
        await chat.at(61)
    finally:
        await chat.stop()
    data = transcript(chat)
    messages = data["messages"]
    assert isinstance(messages, list)
    assert {m["text"]: m["questions"] for m in messages} == {"Replying to last week's question": []}
    questions = data["questions"]
    assert isinstance(questions, list)
    assert next(q for q in questions if q["number"] == 1)["delivery_confirmed"] is False
