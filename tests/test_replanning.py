"""Edits to agendas and the config take effect on a chat that has not started; what was
posted stays posted, what moderators changed by command stays changed, and a chat that
has started keeps its snapshot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.store.participation import HostRota
from bot.store.suggestions import SuggestionStore
from tests.conftest import AGENDA, START, Chat, chat_config

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

EDITED = (
    AGENDA.replace("Which tool helped most?", "Which tool would you drop?")
    + """
[[questions]]
text = "Who else should join?"
at = "40m"
"""
)


def edit_agenda(chat: Chat, text: str = EDITED) -> None:
    (chat.tmp / "agenda.toml").write_text(text, encoding="utf-8")


def questions(chat: Chat) -> list[str]:
    return [p.partition("\n")[0] for p in chat.posts() if p.startswith("Q")]


async def test_an_agenda_edited_after_planning_is_the_one_the_chat_posts(chat: Chat) -> None:
    edit_agenda(chat)  # the chat was stored at start-up, two hours ahead
    await chat.at(61)  # the hourly planner pass, an hour before, picks the edit up
    assert questions(chat) == [
        "Q1: What does partnership mean to you? #hcsmeu",
        "Q2: Which tool would you drop? #hcsmeu",
        "Q3: What should change first? #hcsmeu",
        "Q4: Who else should join? #hcsmeu",
    ]


async def test_a_restart_picks_up_the_edit_and_a_posted_reminder_stays_posted(
    chat: Chat,
) -> None:
    await chat.at(-30)  # the one-hour reminder is out
    await chat.stop()
    edit_agenda(chat)
    await chat.boot()
    await chat.at(61)
    reminders = [p for p in chat.posts() if p.startswith("Reminder:")]
    assert len(reminders) == 2  # one hour and ten minutes before: none repeated
    assert "Q4: Who else should join? #hcsmeu" in questions(chat)


async def test_a_chat_that_has_started_keeps_its_snapshot(chat: Chat) -> None:
    await chat.at(5)
    edit_agenda(chat)
    assert chat.app is not None
    await chat.app.plan_upcoming()
    await chat.at(61)
    assert questions(chat)[1] == "Q2: Which tool helped most? #hcsmeu"
    assert len(questions(chat)) == 3


async def test_an_approved_suggestion_and_a_handover_survive_the_replan(chat: Chat) -> None:
    assert chat.app is not None
    (session,) = await chat.app.store.open_sessions()
    suggestions = SuggestionStore(chat.app.store.db)
    added = await suggestions.add("hcsmeu", "local:ann", "Ann", "Who pays?", chat.clock.now())
    await suggestions.approve_into(session.id, added.id, 2, chat.clock.now())  # after Q1
    await HostRota(chat.app.store.db).assign(session.id, "local:bob")
    edit_agenda(chat)
    await chat.app.plan_upcoming()
    await chat.at(61)
    assert questions(chat) == [
        "Q1: What does partnership mean to you? #hcsmeu",
        "Q2: Who pays? #hcsmeu",
        "Q3: Which tool would you drop? #hcsmeu",
        "Q4: What should change first? #hcsmeu",
        "Q5: Who else should join? #hcsmeu",
    ]
    assert await HostRota(chat.app.store.db).host(session.id) == "local:bob"


async def test_a_reminder_added_too_late_is_not_posted_late(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    await chat.boot()
    try:
        await chat.at(-30)
        await chat.stop()
        chat.config = chat_config(tmp_path, reminders=("1h", "32m", "10m"))
        await chat.boot()
        await chat.at(61)
        reminders = [p for p in chat.posts() if p.startswith("Reminder:")]
        assert [r.split(" starts in ")[1].split(",")[0] for r in reminders] == [
            "1 hour",
            "10 minutes",
        ]
    finally:
        if chat.app is not None:
            await chat.stop()


async def test_a_chat_moved_in_the_config_runs_at_its_new_time_only(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    await chat.boot()
    try:
        await chat.stop()
        chat.config = chat_config(tmp_path, start=START + timedelta(hours=1))
        await chat.boot()
        await chat.at(61)
        assert questions(chat) == []  # nothing at the old time
        (told,) = [p for p in chat.posts("local:mods") if "no longer in the" in p]
        assert "“Patients as partners” of 2026-03-04 13:00 (Europe/Paris)" in told
        await chat.at(121)
        assert len(questions(chat)) == 3
        assert chat.app is not None
        assert await chat.app.store.open_sessions() == []
    finally:
        if chat.app is not None:
            await chat.stop()
