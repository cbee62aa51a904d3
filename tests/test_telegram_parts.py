"""The Telegram adapter's pure parts: updates as events, text cut and escaped, the flood
limiter, the offset bookkeeping and how errors are read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.domain import ChannelRef, IncomingMessage, MessageEdited, MessageRef, UserRef
from bot.platforms.base import DeliveryUncertain
from bot.platforms.telegram.errors import translate
from bot.platforms.telegram.inflight import Inflight
from bot.platforms.telegram.limits import RateLimiter
from bot.platforms.telegram.text import split_text, to_html
from bot.platforms.telegram.updates import to_events
from tests.fakes.telegram_api import FakeTime

GROUP: dict[str, Any] = {
    "id": -1001234567890,
    "type": "supergroup",
    "title": "EU",
    "is_forum": True,
}
ANN: dict[str, Any] = {"id": 5001, "is_bot": False, "first_name": "Ann", "last_name": "K"}
WHEN = 1772625600  # 2026-03-04 12:00 UTC
TOPIC_START: dict[str, Any] = {
    "message_id": 42,
    "date": WHEN - 3600,
    "chat": GROUP,
    "from": ANN,
    "message_thread_id": 42,
    "is_topic_message": True,
    "forum_topic_created": {"name": "Monthly chat", "icon_color": 7322096},
}


def message(**fields: Any) -> dict[str, Any]:
    return {
        "message_id": 100,
        "date": WHEN,
        "chat": GROUP,
        "from": ANN,
        "text": "A1: yes",
        **fields,
    }


def events(kind: str = "message", **fields: Any) -> list[Any]:
    return to_events(Update.de_json({"update_id": 1, kind: message(**fields)}, None))


def incoming(**fields: Any) -> IncomingMessage:
    [event] = events(**fields)
    assert isinstance(event, IncomingMessage)
    return event


def test_a_group_message_becomes_an_incoming_message() -> None:
    event = incoming()
    assert event.ref == MessageRef(
        ChannelRef("telegram", "-1001234567890"), "100", url="https://t.me/c/1234567890/100"
    )
    assert event.author.key == "telegram:5001"
    assert event.author.name == "Ann K"
    assert event.sent_at == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert event.reply_to is None


def test_in_a_topic_the_implicit_reply_to_its_start_is_not_a_reply() -> None:
    event = incoming(message_thread_id=42, is_topic_message=True, reply_to_message=TOPIC_START)
    assert event.ref.channel == ChannelRef("telegram", "-1001234567890", "42")
    assert event.reply_to is None


def test_in_a_topic_a_real_reply_is_one() -> None:
    question = {**message(), "message_id": 77, "message_thread_id": 42, "is_topic_message": True}
    event = incoming(message_thread_id=42, is_topic_message=True, reply_to_message=question)
    assert event.reply_to == "77"


def test_a_reply_outside_topics_keeps_the_general_channel() -> None:
    # In a forum's General topic messages carry no topic; a thread id without
    # is_topic_message is a reply thread, not a place.
    event = incoming(message_thread_id=90, reply_to_message={**message(), "message_id": 90})
    assert event.ref.channel.thread is None
    assert event.reply_to == "90"


def test_an_anonymous_admin_speaks_as_the_group() -> None:
    bot = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    event = incoming(**{"from": bot, "sender_chat": GROUP})
    assert event.author.key == "telegram:-1001234567890"
    assert event.author.name == "EU"


def test_a_caption_counts_as_the_text() -> None:
    assert incoming(text=None, caption="A2: see the photo", photo=[]).text == "A2: see the photo"


@pytest.mark.parametrize(
    "fields",
    [
        {"text": None, "new_chat_members": [ANN]},  # a service message
        {"from": {**ANN, "is_bot": True}},  # another bot
        {"is_automatic_forward": True, "from": {**ANN, "id": 777000}},  # a linked channel
        {"chat": {"id": -1005, "type": "channel", "title": "News"}},  # a channel post
    ],
)
def test_what_is_not_a_participant_speaking_is_ignored(fields: dict[str, Any]) -> None:
    assert events(**fields) == []


def test_an_edit_carries_the_new_text_and_its_time() -> None:
    [event] = events("edited_message", text="A2: changed", edit_date=WHEN + 60)
    assert isinstance(event, MessageEdited)
    assert event.ref.id == "100"
    assert event.text == "A2: changed"
    assert event.edited_at == datetime(2026, 3, 4, 12, 1, tzinfo=UTC)


def test_long_text_is_cut_after_a_line_or_word_and_never_over_the_limit() -> None:
    text = "a first line that is long\n" + "word " * 30
    parts = split_text(text, limit=40)
    assert parts[0] == "a first line that is long\n"
    assert parts[1] == "word " * 8
    assert all(len(p) <= 40 for p in parts)
    assert "".join(parts) == text
    assert split_text("x" * 100, limit=40) == ["x" * 40, "x" * 40, "x" * 20]
    assert split_text("   ", limit=40) == []


def test_the_limit_counts_as_telegram_does_with_emoji_as_two() -> None:
    parts = split_text("🙂" * 30, limit=40)
    assert [len(p) for p in parts] == [20, 10]


def test_markup_is_escaped_for_html_parse_mode() -> None:
    assert to_html("<b>x</b> & <a href='y'>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href='y'&gt;"


async def test_twenty_messages_a_minute_per_group_and_thirty_a_second_overall() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    for _ in range(20):
        await limiter.acquire(-1)
    assert time.now == 0
    await limiter.acquire(-1)
    assert time.now == 60  # the 21st waits until the first is a minute old
    for chat in range(2, 32):
        await limiter.acquire(-chat)
    assert 60 < time.now <= 61  # 30 other groups at once: the overall limit spreads them


def test_the_offset_passes_only_a_contiguous_run_of_stored_updates() -> None:
    inflight = Inflight()
    first, second = said(1), said(2)
    inflight.add(10, [first])
    inflight.add(11, [])  # nothing to store
    inflight.add(12, [second])
    assert not inflight.advance()
    assert inflight.ack(second) == 12
    assert not inflight.advance()  # 10 is still being stored
    assert inflight.ack(first) == 10
    assert inflight.advance()
    assert inflight.offset == 13
    assert len(inflight) == 0


def said(n: int) -> IncomingMessage:
    return IncomingMessage(
        ref=MessageRef(ChannelRef("telegram", "-1"), str(n)),
        author=UserRef("telegram", "5001"),
        text=f"A1: point {n}",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_errors_are_refusals_retries_or_uncertain_deliveries() -> None:
    assert not translate(BadRequest("Bad Request: chat not found"), sending=True).retryable
    assert not translate(Forbidden("bot was kicked"), sending=True).retryable
    assert isinstance(translate(TimedOut(), sending=True), DeliveryUncertain)
    assert not isinstance(translate(TimedOut(), sending=False), DeliveryUncertain)
    refused = NetworkError("httpx.ConnectError: refused")
    refused.__cause__ = httpx.ConnectError("refused")
    result = translate(refused, sending=True)
    assert result.retryable
    assert not isinstance(result, DeliveryUncertain)  # it never left: safe to send again
