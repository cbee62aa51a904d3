"""Stopping and starting hashchat mid-chat on Telegram: the stored update offset is where
reading resumes, so nothing said is lost and nothing is stored twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import START
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


@pytest.mark.parametrize("first_read_fails", [False, True])
async def test_answers_sent_while_the_bot_was_down_at_the_end_are_in_the_first_transcript(
    tmp_path: Path, first_read_fails: bool
) -> None:
    async with telegram_rig(tmp_path) as rig:
        api, chat = rig.api, rig.chat
        await chat.at(59)
        await chat.stop()
        chat.clock.set(START + timedelta(minutes=59.9))
        api.post(ANN, GROUP, "A3: just before the end")
        api.post(BOB, GROUP, "A2: me too")
        chat.clock.set(START + timedelta(minutes=62))  # back after the chat's end
        page = chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
        first: list[dict[str, Any]] = []  # the page as it was when its link was posted

        def published() -> bool:
            texts = api.bot_texts(GROUP)
            if not first and any(t.startswith("The transcript of today's") for t in texts):
                first.append(json.loads(page.read_text(encoding="utf-8")))
            return bool(first)

        # The first read after the start is slow (a long way to the server): the chat
        # must not close meanwhile without what it will bring.
        api.hold("getUpdates")
        if first_read_fails:  # and is tried again
            api.fail_next("getUpdates", 502, "Bad Gateway")
        booting = asyncio.create_task(chat.boot())
        with contextlib.suppress(TimeoutError):
            await api.wait_for(published, within=0.5)
        api.release("getUpdates")
        await booting
        await api.wait_for(published)
        await chat.at(63)
        final = json.loads(page.read_text(encoding="utf-8"))
        links = [t for t in api.bot_texts(GROUP) if t.startswith("The transcript of today's")]
    said = {"A3: just before the end": [3], "A2: me too": [2]}
    assert {m["text"]: m["questions"] for m in first[0]["messages"]} == said
    assert {m["text"]: m["questions"] for m in final["messages"]} == said
    assert len(links) == 1
