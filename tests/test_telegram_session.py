"""A chat on Telegram, end to end: python-telegram-bot talking HTTP to a Bot API stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.domain import UserRef
from tests.fakes.telegram_api import GROUP, FakeTelegram, Person, Rig, telegram_rig

ANN = Person(5001, "Ann", "ann_k")
BOB = Person(5002, "Bob", None)
MIA = Person(5003, "Mia", "mia_mod")  # an administrator of the group
TOPIC = 1  # the forum topic the community chats in (the group's first message)
IN_TOPIC = (f"telegram:{GROUP}/{TOPIC}",)


def with_topic(api: FakeTelegram) -> None:
    assert api.add_topic(GROUP, "Monthly #hcsmeu chat") == TOPIC
    api.add_admin(GROUP, MIA)


def transcript(rig: Rig) -> dict[str, Any]:
    path = rig.chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def test_a_whole_chat_runs_in_a_forum_topic(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, channels=IN_TOPIC, prepare=with_topic) as rig:
        api = rig.api
        await rig.chat.at(10)
        texts = api.bot_texts(GROUP, thread=TOPIC)
        assert [t[:8] for t in texts] == ["Reminder", "Reminder", "Welcome ", "Q1: What"]
        q1 = api.bot_messages(GROUP)[-1]
        updates = [
            api.post(ANN, GROUP, "A1: sharing decisions", thread=TOPIC),
            api.post(BOB, GROUP, "co-design from day one", thread=TOPIC, reply_to=q1["message_id"]),
            api.post(BOB, GROUP, "hello all, Bob from Lyon", thread=TOPIC),
            api.post(ANN, GROUP, "A1: said in the General topic, not the chat's"),
        ]
        await rig.delivered(*updates)
        await rig.chat.at(20)
        api.post(ANN, GROUP, "A1 & A2: <b>both</b>!", thread=TOPIC)
        await rig.chat.at(61)
        texts = api.bot_texts(GROUP, thread=TOPIC)
        assert api.bot_texts(GROUP) == texts  # nothing posted outside the topic
        assert [t[:8] for t in texts][3:] == [
            "Q1: What",
            "Q2: Whic",
            "Q3: What",
            "Thanks a",
            "The tran",
        ]
        data = transcript(rig)
    questions = {q["number"]: q for q in data["questions"]}
    messages = {m["id"]: m for m in data["messages"]}
    assert {messages[i]["text"] for i in questions[1]["answer_ids"]} == {
        "A1: sharing decisions",
        "co-design from day one",
        "A1 & A2: <b>both</b>!",
    }
    assert {messages[i]["text"] for i in questions[2]["answer_ids"]} == {"A1 & A2: <b>both</b>!"}
    general = {messages[i]["text"] for i in data["general_discussion_ids"]}
    assert general == {"hello all, Bob from Lyon"}
    assert {m["channel"] for m in messages.values()} == {f"telegram:{GROUP}/{TOPIC}"}
    assert {m["author_name"] for m in messages.values()} == {"Ann", "Bob"}


async def test_an_edited_answer_changes_the_stored_text_and_question(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, channels=IN_TOPIC, prepare=with_topic) as rig:
        await rig.chat.at(20)
        typo = rig.api.post(ANN, GROUP, "A1: sharing decisons", thread=TOPIC)
        await rig.delivered(typo)
        await rig.chat.at(21)
        await rig.delivered(rig.api.edit(typo, "A2: on reflection, this answers Q2"))
        await rig.chat.at(61)
        data = transcript(rig)
    [message] = data["messages"]
    assert message["text"] == "A2: on reflection, this answers Q2"
    assert message["questions"] == [2]
    assert message["edited_at"] is not None


async def test_moderator_commands_are_refused_to_participants_and_anonymous_admins(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path, channels=IN_TOPIC, prepare=with_topic) as rig:
        api = rig.api
        await rig.chat.at(10)
        by_ann = api.post(ANN, GROUP, "/pause@hashchat_bot", thread=TOPIC)
        anonymous = api.post(
            Person(1087968824, "Group", "GroupAnonymousBot", is_bot=True),
            GROUP,
            "/pause",
            thread=TOPIC,
            sender_chat=api.chats[GROUP],
        )
        for_another_bot = api.post(MIA, GROUP, "/pause@other_bot", thread=TOPIC)
        await rig.delivered(by_ann, anonymous, for_another_bot)
        refusals = api.bot_messages(GROUP)[-2:]
        assert [m["text"] for m in refusals] == [
            "Sorry, only the moderators of #hcsmeu can use “pause”.",
        ] * 2
        assert [m["reply_to_message"]["message_id"] for m in refusals] == [
            by_ann["message"]["message_id"],
            anonymous["message"]["message_id"],
        ]
        assert all(m["message_thread_id"] == TOPIC for m in refusals)

        await rig.delivered(api.post(MIA, GROUP, "/pause", thread=TOPIC))
        assert api.bot_texts(GROUP)[-1].startswith("Paused: nothing is posted")
        await rig.chat.at(25)
        assert not any(t.startswith("Q2:") for t in api.bot_texts(GROUP))


async def test_a_new_administrator_is_trusted_at_once(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, channels=IN_TOPIC, prepare=with_topic) as rig:
        api = rig.api
        await rig.chat.at(10)
        await rig.delivered(api.post(ANN, GROUP, "/skip", thread=TOPIC))
        assert api.bot_texts(GROUP)[-1].startswith("Sorry, only the moderators")
        api.add_admin(GROUP, ANN)
        promoted = api.member_changed(GROUP, ANN, "administrator")
        await rig.delivered(promoted, api.post(ANN, GROUP, "/skip", thread=TOPIC))
        assert api.bot_texts(GROUP)[-1] == "Q2 is skipped."
        assert len(api.method_calls("getChatAdministrators")) == 2


async def test_a_flood_wait_is_honoured_and_the_question_posted_once(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(9)
        rig.api.fail_next_sends(2, retry_after=7)
        await rig.chat.at(10)
        q1 = [t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")]
        assert q1 == ["Q1: What does partnership mean to you? #hcsmeu"]
        assert rig.time.sleeps == [7.0, 7.0]
        assert rig.chat.posts("local:mods") == []  # delayed, not failed: nothing to report


async def test_a_send_that_got_no_answer_is_not_repeated_and_moderators_are_told(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(9)
        rig.api.drop_next_send()  # Q1 is posted, but the answer is lost on the way
        await rig.chat.at(12)
        assert [t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")] != []
        assert len([t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")]) == 1
        [notice] = rig.chat.posts("local:mods")
        assert "Q1" in notice
        assert f"telegram:{GROUP}" in notice


async def test_a_long_announcement_is_split_and_shown_exactly_as_written(tmp_path: Path) -> None:
    text = "<b>Not bold</b> & <a href='x'>no link</a> " + "word " * 1100
    async with telegram_rig(tmp_path, prepare=lambda api: api.add_admin(GROUP, MIA)) as rig:
        await rig.delivered(rig.api.post(MIA, GROUP, f"/announce {text.strip()}"))
        parts = rig.api.bot_texts(GROUP)[:-1]  # then "Announced in 1 channel."
    assert len(parts) == 2
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts) == text.strip()
    sent = rig.api.method_calls("sendMessage")[0]
    assert sent["parse_mode"] == "HTML"
    assert sent["text"].startswith("&lt;b&gt;Not bold&lt;/b&gt; &amp; &lt;a href='x'&gt;")


async def test_delete_removes_an_answer_from_the_group_and_the_transcript(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path, prepare=lambda api: api.add_admin(GROUP, MIA)) as rig:
        api = rig.api
        await rig.chat.at(10)
        spam = api.post(BOB, GROUP, "A1: buy cheap pills at example.com")
        kept = api.post(ANN, GROUP, "A1: listening first")
        await rig.delivered(spam, kept)
        spam_id = spam["message"]["message_id"]
        await rig.delivered(api.post(MIA, GROUP, "/delete", reply_to=spam_id))
        assert (GROUP, spam_id) in api.deleted
        assert api.bot_texts(GROUP)[-1] == "Deleted, and taken out of the transcript."
        await rig.delivered(api.post(MIA, GROUP, "/mute 10m", reply_to=spam_id))
        restriction = api.restrictions[(GROUP, BOB.id)]
        assert not any(restriction["permissions"].values())
        assert restriction["until_date"] == int(rig.chat.clock.now().timestamp()) + 600
        await rig.chat.at(61)
        data = transcript(rig)
    assert [m["text"] for m in data["messages"]] == ["A1: listening first"]


async def test_one_chat_in_a_telegram_group_and_a_local_channel_has_one_transcript(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path, channels=(f"telegram:{GROUP}", "local:main")) as rig:
        await rig.chat.at(10)
        assert rig.api.bot_texts(GROUP)[-1].startswith("Q1: ")
        assert rig.chat.posts("local:main")[-1] == rig.api.bot_texts(GROUP)[-1]
        rig.chat.local.say(UserRef("local", "lea", "Léa"), "local:main", "A1: from the terminal")
        await rig.delivered(rig.api.post(ANN, GROUP, "A1: from Telegram"))
        await rig.chat.at(61)
        data = transcript(rig)
        link = rig.api.bot_texts(GROUP)[-1]
    assert link == rig.chat.posts("local:main")[-1]  # one transcript, linked in both places
    assert link.startswith("The transcript of today's #hcsmeu chat is ready")
    answers = {m["channel"]: m["text"] for m in data["messages"]}
    assert answers == {
        f"telegram:{GROUP}": "A1: from Telegram",
        "local:main": "A1: from the terminal",
    }
    [q1] = [q for q in data["questions"] if q["number"] == 1]
    assert len(q1["answer_ids"]) == 2
