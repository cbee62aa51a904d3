"""A participant's words are theirs: forget me, opt out, and retention limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import UserRef
from tests.conftest import MOD, Chat, chat_config
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
PAGE = Path("pages") / "hcsmeu" / "2026-03-04"


def texts(chat: Chat) -> list[str]:
    return [m["text"] for m in transcript(chat)["messages"]]


def last_reply(chat: Chat) -> str:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to][-1]


async def test_forgetme_removes_a_participant_from_a_published_transcript(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: my diagnosis is private, actually")
    chat.local.say(BOB, "local:main", "A1: shared decisions")
    ann_asks_bob = chat.local.say(ANN, "local:side", "hello Bob!")
    chat.local.say(MOD, "local:side", "/warn", reply_to=ann_asks_bob)
    await chat.at(61)
    html = (chat.tmp / PAGE / "index.html").read_text("utf-8")
    assert "my diagnosis is private" in html
    chat.local.say(ANN, "local:main", "/forgetme")
    await chat.at(62)
    assert last_reply(chat) == (
        "Done: I deleted 2 messages of yours, and your votes, suggestions and sign-ups."
        " 1 published transcript was rewritten without you."
    )
    assert texts(chat) == ["A1: shared decisions"]
    html = (chat.tmp / PAGE / "index.html").read_text("utf-8")
    markdown = (chat.tmp / PAGE / "transcript.md").read_text("utf-8")
    for page in (html, markdown):
        assert "diagnosis" not in page
        assert "Ann" not in page
    assert chat.app is not None
    (warning,) = await chat.app.store.audit.recent("hcsmeu")
    assert (warning.action, warning.target) == ("warn", "(forgotten)")


async def test_opting_out_keeps_new_messages_out_even_after_a_restart(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: before opting out")
    chat.local.say(ANN, "local:main", "/optout")
    await chat.at(11)
    assert last_reply(chat).startswith("From now on your messages are not recorded.")
    chat.local.say(ANN, "local:main", "A1: while opted out")
    await chat.stop()
    await chat.boot()
    await chat.at(12)
    chat.local.say(ANN, "local:main", "A1: still opted out")
    chat.local.say(ANN, "local:main", "/optout")
    await chat.at(13)
    assert last_reply(chat) == "You are already opted out."
    chat.local.say(ANN, "local:main", "/optin")
    await chat.at(14)
    chat.local.say(ANN, "local:main", "A1: back in")
    await chat.at(61)
    assert texts(chat) == ["A1: before opting out", "A1: back in"]


async def test_retention_deletes_old_messages_and_pages(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, settings='retention = "30d"'))
    await chat.boot()
    try:
        await chat.at(10)
        chat.local.say(ANN, "local:main", "A1: kept for thirty days")
        await chat.at(61)
        assert (tmp_path / PAGE / "index.html").is_file()
        await chat.at(29 * 24 * 60)
        assert (tmp_path / PAGE / "index.html").is_file()
        await chat.at(31 * 24 * 60)
        assert not (tmp_path / PAGE).exists()
        assert chat.app is not None
        async with chat.app.store.db.execute("SELECT COUNT(*) FROM messages") as cur:
            row = await cur.fetchone()
        assert row == (0,)
        (purge,) = await chat.app.store.audit.recent("hcsmeu")
        assert (purge.action, purge.actor, purge.target) == (
            "purge",
            "rule:retention",
            "hcsmeu/2026-03-04",
        )
    finally:
        await chat.stop()
