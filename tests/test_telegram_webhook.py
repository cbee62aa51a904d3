"""Webhook mode: Telegram posts updates to hashchat's own web server, which answers 200
only for the right secret and only once the update is stored."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import backlog
from tests.fakes.telegram_api import GROUP, TELEGRAM_ENV, Json, Person, Rig, telegram_rig

ANN = Person(5001, "Ann", "ann_k")
WEBHOOK = """
mode = "webhook"
webhook_url = "https://chats.example.org/telegram/updates"
secret_token_env = "TELEGRAM_WEBHOOK_SECRET"
"""
SECRET = TELEGRAM_ENV["TELEGRAM_WEBHOOK_SECRET"]


async def stored(rig: Rig) -> list[str]:
    assert rig.chat.app is not None
    async with rig.chat.app.store.db.execute("SELECT text FROM messages ORDER BY id") as cur:
        return [row[0] for row in await cur.fetchall()]


async def deliver(rig: Rig, update: Json, secret: str | None) -> int:
    assert rig.chat.app is not None
    assert rig.chat.app.web is not None
    url = f"http://127.0.0.1:{rig.chat.app.web.port}/telegram/updates"
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=json.dumps(update), headers=headers) as response,
    ):
        return response.status


async def test_the_webhook_is_set_with_its_secret_and_nothing_is_polled(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, options=WEBHOOK, listen_port=0) as rig:
        assert rig.api.webhook == {
            "url": "https://chats.example.org/telegram/updates",
            "secret_token": SECRET,
        }
        assert rig.api.method_calls("getUpdates") == []


async def test_a_delivery_without_the_right_secret_is_refused_and_not_stored(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path, options=WEBHOOK, listen_port=0) as rig:
        await rig.chat.at(10)
        forged = rig.api.post(ANN, GROUP, "A1: forged")
        assert await deliver(rig, forged, None) == 403
        assert await deliver(rig, forged, "guessed") == 403
        assert await deliver(rig, forged, SECRET.upper()) == 403
        await rig.chat.at(11)
        assert await stored(rig) == []


async def test_a_delivery_is_answered_200_once_stored_and_a_repeat_stores_nothing_more(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path, options=WEBHOOK, listen_port=0) as rig:
        await rig.chat.at(10)
        update = rig.api.post(ANN, GROUP, "A1: through the webhook")
        assert await deliver(rig, update, SECRET) == 200
        assert await stored(rig) == ["A1: through the webhook"]  # already committed
        assert await deliver(rig, update, SECRET) == 200  # Telegram may deliver twice
        edit = rig.api.edit(update, "A1: through the webhook, edited")
        assert await deliver(rig, edit, SECRET) == 200
        assert await stored(rig) == ["A1: through the webhook, edited"]
        command = rig.api.post(ANN, GROUP, "/status")
        assert await deliver(rig, command, SECRET) == 200
        assert rig.api.bot_texts(GROUP)[-1].startswith("“Patients as partners” is live")


async def test_a_chat_closes_at_its_end_without_waiting_for_a_backlog(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Telegram pushes what waited while the bot was down: there is no read to wait for.
    monkeypatch.setattr(backlog, "CATCH_UP_BOUND", timedelta(seconds=5))
    async with telegram_rig(tmp_path, options=WEBHOOK, listen_port=0) as rig:
        await rig.chat.at(61)
        texts = rig.api.bot_texts(GROUP)
    assert [t for t in texts if t.startswith("The transcript of today's")] != []
    assert "backlog is not read" not in caplog.text
