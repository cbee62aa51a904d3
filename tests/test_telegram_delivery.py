"""Telegram's limits and outages, met by waiting on the adapter's injected clock."""

from __future__ import annotations

from pathlib import Path

from bot.domain import ChannelRef
from tests.fakes.telegram_api import GROUP, Person, telegram_rig

ANN = Person(5001, "Ann", "ann_k")


async def test_an_outage_while_reading_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(10)
        rig.api.fail_next("getUpdates", 502, "Bad Gateway")
        rig.api.fail_next("getUpdates", 502, "Bad Gateway")
        rig.api.member_changed(GROUP, ANN, "member")  # ends the poll under way
        await rig.api.wait_for(lambda: rig.time.sleeps == [1.0, 2.0])  # longer each time
        answer = rig.api.post(ANN, GROUP, "A1: still here")
        await rig.delivered(answer)
        assert rig.chat.app is not None
        async with rig.chat.app.store.db.execute("SELECT text FROM messages") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["A1: still here"]


async def test_at_most_twenty_messages_a_minute_go_to_one_group(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        group = ChannelRef("telegram", str(GROUP))
        for n in range(21):
            await rig.platform.send(group, f"note {n}")
        assert rig.time.sleeps == [60.0]  # the 21st waited for the first to be a minute old
        assert rig.api.bot_texts(GROUP)[-1] == "note 20"
