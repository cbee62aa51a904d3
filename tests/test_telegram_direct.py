"""A private message on Telegram (the console's login link), through python-telegram-bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.platforms.base import PlatformError
from tests.fakes.telegram_api import GROUP, Person, telegram_rig

ANN = Person(5001, "Ann", "ann_k")


async def test_a_private_message_reaches_the_person_alone(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, prepare=lambda api: api.open_private(ANN)) as rig:
        await rig.platform.send_direct(UserRef("telegram", "5001"), "Your link: x")
        assert rig.api.bot_texts(5001) == ["Your link: x"]
        assert "Your link: x" not in rig.api.bot_texts(GROUP)


async def test_a_person_who_never_opened_a_chat_cannot_be_written_to(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        with pytest.raises(PlatformError):
            await rig.platform.send_direct(UserRef("telegram", "5001"), "Your link: x")
