"""Stopping and starting hashchat mid-chat on Telegram: the stored update offset is where
reading resumes, so nothing said is lost and nothing is stored twice."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.fakes.telegram_api import GROUP, Person, telegram_rig

ANN = Person(5001, "Ann", "ann_k")
BOB = Person(5002, "Bob")


async def test_a_restart_resumes_from_the_stored_offset_losing_and_repeating_nothing(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path) as rig:
        api = rig.api
        await rig.chat.at(10)
        await rig.delivered(api.post(ANN, GROUP, "A1: before the restart"))
        # The bot is busy with a command (its admin lookup is held) when it is stopped:
        # what it fetched after that command is not stored yet.
        api.hold("getChatAdministrators")
        api.post(ANN, GROUP, "A1: one")
        command = api.post(BOB, GROUP, "/pause")
        unconsumed = api.post(BOB, GROUP, "A1: three")
        await api.wait_for(lambda: api.held["getChatAdministrators"] == 1)
        assert api.served[unconsumed["update_id"]] == 1
        stopping = asyncio.create_task(rig.chat.stop())
        api.release("getChatAdministrators")
        await stopping

        down = api.post(ANN, GROUP, "A1: said while the bot was down")
        polls_before = len(api.offsets)
        await rig.chat.boot()
        await rig.delivered(unconsumed, down)
        # Reading resumed right after the last update stored: the command's.
        assert api.offsets[polls_before] == command["update_id"] + 1
        assert api.served[unconsumed["update_id"]] == 2
        await rig.chat.at(61)
        path = rig.chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        refusals = [t for t in api.bot_texts(GROUP) if t.startswith("Sorry, only the moderators")]
    assert sorted(m["text"] for m in data["messages"]) == [
        "A1: before the restart",
        "A1: one",
        "A1: said while the bot was down",
        "A1: three",
    ]
    assert len(refusals) == 1  # the command was answered once, not again after the restart
