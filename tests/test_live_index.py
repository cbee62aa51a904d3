"""Which open chat a message belongs to, by where it was sent: forum topics of one group
each run their own chat, and a chat over the whole group takes the rest."""

from __future__ import annotations

from bot.domain import ChannelRef
from bot.live import LiveIndex
from tests.test_store import plan

TOPIC_7, TOPIC_9 = ChannelRef("telegram", "-100", "7"), ChannelRef("telegram", "-100", "9")
GROUP = ChannelRef("telegram", "-100")


def chat_in(live: LiveIndex, channel: ChannelRef) -> int | None:
    found = live.for_channel(channel)
    return None if found is None else found.id


def test_each_forum_topic_finds_its_own_chat_and_a_closed_one_lets_go() -> None:
    live = LiveIndex()
    live.open(1, plan("telegram:-100/7", series="seven"))
    live.open(2, plan("telegram:-100/9", series="nine"))
    live.open(3, plan("local:main", series="local"))
    assert [chat_in(live, c) for c in (TOPIC_7, TOPIC_9, GROUP)] == [1, 2, None]
    assert chat_in(live, ChannelRef("telegram", "-200", "7")) is None  # another group
    live.open(4, plan("telegram:-100", series="group"))  # a chat over the whole group
    assert [chat_in(live, c) for c in (TOPIC_7, TOPIC_9, GROUP)] == [1, 2, 4]  # first opened
    live.close(1)
    assert [chat_in(live, c) for c in (TOPIC_7, TOPIC_9, GROUP)] == [4, 2, 4]
    live.close(4)
    assert [chat_in(live, c) for c in (TOPIC_7, TOPIC_9, GROUP)] == [None, 2, None]
    assert chat_in(live, ChannelRef("local", "main")) == 3
