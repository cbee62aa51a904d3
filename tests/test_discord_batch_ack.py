"""Discord's read positions by the committed batch: each channel's cursor moves once per
batch, to the newest message acknowledged there, and those waiting on an event hear."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.clock import ManualClock
from bot.domain import ChannelRef, IncomingMessage, MessageDeleted, MessageRef, UserRef
from bot.platforms.base import Alert
from bot.platforms.discord.reader import Reader, cursor_key

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
MAIN = ChannelRef("discord", "100")
THREAD = ChannelRef("discord", "100", thread="300")


class Host:
    """The core's side as the reader sees it: where positions go."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {"last:100": "1000", "last:100/300": "1000"}
        self.moves: list[tuple[str, str]] = []

    async def cursor(self, key: str) -> str | None:
        return self.saved.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        self.saved[key] = value

    async def move_cursor(self, key: str, value: str) -> None:
        self.moves.append((key, value))
        self.saved[key] = value

    async def alert(self, alert: Alert) -> None:
        raise AssertionError(alert)


def said(where: ChannelRef, ident: int) -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef(where, str(ident)),
        author=UserRef("discord", "7", "Ann"),
        text="hi",
        sent_at=AT,
    )


def reader(host: Host) -> Reader:
    r = Reader(
        channels=frozenset({100}),
        clock=ManualClock(AT),
        client=lambda: None,  # type: ignore[arg-type,return-value]
        ready=asyncio.Event(),
        ready_timeout=1,
    )
    r.open(host)
    return r


async def test_each_channel_moves_once_per_batch_to_its_newest_message() -> None:
    host = Host()
    r = reader(host)
    deleted = MessageDeleted(ref=MessageRef(MAIN, "1500"), deleted_at=AT)
    # Out of order within the batch (a catch-up and the gateway interleave), two places.
    await r.acknowledge_all([said(MAIN, 2002), said(THREAD, 2001), said(MAIN, 2005), deleted,
                             said(MAIN, 2003), said(THREAD, 2004)])  # fmt: skip
    assert sorted(host.moves) == [("last:100", "2005"), ("last:100/300", "2004")]
    # A later batch holding only older messages leaves the positions where they are.
    await r.acknowledge_all([said(MAIN, 2004)])
    assert host.saved[cursor_key(MAIN)] == "2005"
    assert len(host.moves) == 2


async def test_a_slash_command_moves_no_position_and_waiters_hear_of_their_event() -> None:
    host = Host()
    r = reader(host)
    command = said(MAIN, 3000)
    r.put_command(command)  # an interaction: no message of the channel's history
    waiting = asyncio.create_task(r.acknowledged("2999", IncomingMessage))
    await asyncio.sleep(0)
    assert not waiting.done()
    await r.acknowledge_all([said(MAIN, 2999), command])
    await asyncio.wait_for(waiting, 1)
    assert host.moves == [("last:100", "2999")]
    await r.acknowledged("3000", IncomingMessage)  # remembered: returns at once
