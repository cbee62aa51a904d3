"""Notices to the moderators and start-up alerts: never lost, never repeated at every
restart, never posted in public when the moderators have a channel of their own."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import ChannelRef
from bot.platforms.base import Alert, AlertKind, PlatformError
from tests.conftest import MOD, START, Chat, chat_config
from tests.fakes.local_faults import AlertingLocal, FaultyLocal, anything_in

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends


def broken_agenda_chat(tmp_path: Path) -> Chat:
    chat = Chat(tmp_path, chat_config(tmp_path))
    (tmp_path / "agenda.toml").write_text('title = "T"\n', encoding="utf-8")
    chat.local = local = FaultyLocal(chat.clock, admins=[MOD])
    # Every post in the moderators' channel is refused until the test clears the fault.
    refused = PlatformError("503 Service Unavailable", retryable=True)
    local.fail(anything_in("mods"), refused, times=None)
    return chat


def unplannable(chat: Chat) -> list[str]:
    return [p for p in chat.posts("local:mods") if "cannot be planned" in p]


async def test_with_one_channel_and_no_moderators_channel_a_notice_goes_there(
    tmp_path: Path,
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, channels=("local:main",), moderator_channels=()))
    await chat.boot()
    try:
        await chat.at(10)  # Q1 really was posted...
        assert chat.app is not None
        await chat.app.store.db.execute("UPDATE posts SET state = 'sending' WHERE step_key = 'q1'")
        await chat.app.store.db.commit()  # ...but the bot died before recording it
        await chat.stop()
        chat.local.capabilities = replace(chat.local.capabilities, idempotent_send=False)
        await chat.boot()
        await chat.at(11)
        notices = [p for p in chat.posts() if "local:main" in p and "Q1" in p]
        assert len(notices) == 1
    finally:
        if chat.app is not None:
            await chat.stop()


async def test_a_refused_notice_is_retried_and_the_log_shows_it_pending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chat = broken_agenda_chat(tmp_path)
    await chat.boot()
    try:
        assert unplannable(chat) == []
        assert "notice to the moderators in local:mods is pending" in caplog.text
        assert isinstance(chat.local, FaultyLocal)
        chat.local.faults.clear()
        await chat.at(-119)  # a minute later: the retry after 30 s went out
        assert len(unplannable(chat)) == 1
        await chat.at(-60)  # and only once, though the planner ran again
        assert len(unplannable(chat)) == 1
    finally:
        if chat.app is not None:
            await chat.stop()


async def test_a_notice_pending_at_a_stop_is_sent_after_the_restart_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chat = broken_agenda_chat(tmp_path)
    await chat.boot()
    await chat.stop()
    assert isinstance(chat.local, FaultyLocal)
    chat.local.faults.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await chat.boot()
    try:
        assert "1 notice(s) to the moderators pending" in caplog.text
        assert len(unplannable(chat)) == 1
    finally:
        await chat.stop()


def pinning_alert(where: str = "main") -> Alert:
    """A platform's finding at every start-up that it lacks a permission in ``where``."""
    return Alert(AlertKind.MISSING_PERMISSION, ChannelRef("local", where), "pinning")


def alerted(chat: Chat, channel: str) -> list[str]:
    return [p for p in chat.posts(channel) if "lacks a permission" in p]


async def test_an_alert_is_told_once_a_day_not_at_every_restart(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = AlertingLocal(chat.clock, [pinning_alert()], admins=[MOD])
    for _ in range(3):
        await chat.boot()
        await chat.stop()
    assert len(alerted(chat, "local:mods")) == 1
    chat.clock.set(START + timedelta(days=1))
    await chat.boot()
    await chat.stop()
    assert len(alerted(chat, "local:mods")) == 2  # the problem is still there the next day


@pytest.mark.parametrize("where", ["main", "mods"])
async def test_an_alert_never_goes_public_when_the_moderators_have_a_channel(
    tmp_path: Path, where: str
) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    chat.local = AlertingLocal(chat.clock, [pinning_alert(where)], admins=[MOD])
    await chat.boot()
    await chat.stop()
    assert alerted(chat, "local:main") == alerted(chat, "local:side") == []
    (alert,) = alerted(chat, "local:mods")
    assert f"local:{where}" in alert
