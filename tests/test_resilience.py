"""Things going wrong mid-flight: the chat goes on and the moderators hear about it."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from bot.alarm import ManualAlarm
from bot.app import App
from bot.clock import ManualClock
from bot.domain import UserRef
from bot.platforms.base import Host, PlatformError
from bot.platforms.local.platform import LocalPlatform
from tests.conftest import AGENDA, START, Chat, chat_config
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
WEEKLY = """
[[communities.series]]
id = "weekly"
schedule = "every wednesday at 18:00"
agenda = "weekly.toml"
reminders = ["1h"]
"""


async def test_a_malformed_event_is_logged_and_the_recording_goes_on(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", None)  # type: ignore[arg-type]  # an adapter's bug
    chat.local.say(ANN, "local:main", "A1: still recorded")
    await chat.at(61)
    assert [m["text"] for m in transcript(chat)["messages"]] == ["A1: still recorded"]
    assert "could not handle" in caplog.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)


async def test_an_agenda_broken_after_start_up_is_reported_once_and_picked_up_when_fixed(
    tmp_path: Path,
) -> None:
    (tmp_path / "weekly.toml").write_text(AGENDA, encoding="utf-8")
    chat = Chat(tmp_path, chat_config(tmp_path, extra=WEEKLY))
    try:
        await chat.boot()
        assert chat.app is not None
        first = {s.plan.slug for s in await chat.app.store.open_sessions()}
        assert first == {"hcsmeu/2026-03-04", "hcsmeu/2026-03-04-2"}  # one day, two chats
        (tmp_path / "weekly.toml").write_text('title = "T"\n', encoding="utf-8")
        await chat.at(5 * 60 + 61)  # the weekly chat of 18:00 is over; plan the next
        notices = [p for p in chat.posts("local:mods") if "cannot be planned" in p]
        assert len(notices) == 1
        assert "weekly.toml" in notices[0]
        assert "no questions" in notices[0]
        await chat.at(8 * 60)  # hourly re-planning: the same problem is not repeated
        assert len([p for p in chat.posts("local:mods") if "cannot be planned" in p]) == 1
        assert await chat.app.store.open_sessions() == []
        (tmp_path / "weekly.toml").write_text(AGENDA, encoding="utf-8")
        await chat.at(9 * 60)
        (upcoming,) = await chat.app.store.open_sessions()
        assert upcoming.plan.slug == "hcsmeu/2026-03-11"
    finally:
        if chat.app is not None:
            await chat.stop()


class RefusingPlatform(LocalPlatform):
    """A platform that will not connect, as with a revoked token."""

    async def start(self, host: Host) -> None:
        raise PlatformError("401 Unauthorized: the token was revoked")


def database_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_a_failed_start_closes_what_it_opened(tmp_path: Path) -> None:
    before = database_threads()
    clock = ManualClock(START)
    app = App(
        chat_config(tmp_path),
        platforms={"local": RefusingPlatform(clock)},
        clock=clock,
        alarm=ManualAlarm(clock),
        serve_web=False,
    )
    with pytest.raises(PlatformError, match="revoked"):
        await app.start()
    started = [t for t in database_threads() if t not in before]
    for thread in started:  # closed connections' threads end just after close() returns
        await asyncio.to_thread(thread.join, 10)
    assert [t for t in started if t.is_alive()] == []  # nothing keeps the process alive
    await app.stop()  # and stopping again is harmless
