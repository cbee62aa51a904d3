"""Sign-ups and the host rota in the running bot: reminders go out once, hosts take turns."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.store.participation import HostRota
from tests.conftest import START, Chat, chat_config

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
WEEKLY = """
[[communities.series]]
id = "weekly"
schedule = "every wednesday at 18:00"
agenda = "agenda.toml"
reminders = ["1h"]
hosts = ["local:ann", "local:bob"]
"""


def mentions(chat: Chat, channel: str = "local:main") -> list[str]:
    return [m.text for m in chat.local.bot_posts(channel) if m.text.startswith("@")]


async def test_signed_up_people_are_reminded_once_by_the_running_bot(chat: Chat) -> None:
    chat.local.say(ANN, "local:main", "/rsvp")
    chat.local.say(BOB, "local:side", "/rsvp")
    await chat.at(-90)
    await chat.at(-60)
    assert mentions(chat) == ["@Ann: the #hcsmeu chat “Patients as partners” starts in 1 hour."]
    assert mentions(chat, "local:side") == [
        "@Bob: the #hcsmeu chat “Patients as partners” starts in 1 hour."
    ]
    await chat.stop()
    await chat.boot()  # a restart must not remind anyone twice
    await chat.at(-10)
    assert mentions(chat) == [
        "@Ann: the #hcsmeu chat “Patients as partners” starts in 1 hour.",
        "@Ann: the #hcsmeu chat “Patients as partners” starts in 10 minutes.",
    ]


async def test_hosts_take_turns_and_are_reminded_the_day_before(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, extra=WEEKLY))
    try:
        await chat.boot()
        assert chat.app is not None
        rota = HostRota(chat.app.store.db)
        (first,) = [s for s in await chat.app.store.open_sessions() if s.plan.series == "weekly"]
        assert await rota.host(first.id) == "local:ann"
        await chat.at(-120)  # planned with less than a day to go: the host hears at once
        assert [m for m in mentions(chat) if "you host" in m] == [
            "@ann: you host the #hcsmeu chat “Patients as partners” on Wednesday,"
            " March 4, 2026, 6:00\u202fPM (Europe/Paris). To hand over, send “host @name”."
        ]
        await chat.at(5 * 60 + 61)  # the 18:00 chat is over; the next one is planned
        (second,) = [s for s in await chat.app.store.open_sessions() if s.plan.series == "weekly"]
        assert second.plan.starts_at.date().isoformat() == "2026-03-11"
        assert await rota.host(second.id) == "local:bob"
        await chat.at((6 * 24 + 4) * 60)  # 2026-03-10 17:00 Paris
        assert not any("@bob: you host" in m for m in mentions(chat))
        await chat.at((6 * 24 + 5) * 60)  # 2026-03-10 18:00: a day before
        (reminder,) = [
            m for m in chat.local.bot_posts("local:main") if m.text.startswith("@bob: you host")
        ]
        assert reminder.sent_at == datetime(2026, 3, 10, 18, 0, tzinfo=START.tzinfo)
    finally:
        if chat.app is not None:
            await chat.stop()
