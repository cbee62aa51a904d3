"""Telegram message links in transcripts open the message: no ``?thread=None``."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.domain import IncomingMessage
from bot.platforms.telegram.updates import to_events

GROUP: dict[str, Any] = {"id": -1001234567890, "type": "supergroup", "title": "EU"}
ANN: dict[str, Any] = {"id": 5001, "is_bot": False, "first_name": "Ann"}
QUESTION: dict[str, Any] = {"message_id": 90, "date": 1772625000, "chat": GROUP, "text": "Q1"}


def link(**fields: Any) -> str | None:
    message = {"message_id": 100, "date": 1772625600, "chat": GROUP, "from": ANN, "text": "A1"}
    [event] = to_events(Update.de_json({"update_id": 1, "message": {**message, **fields}}, None))
    assert isinstance(event, IncomingMessage)
    return event.ref.url


def test_a_reply_in_a_group_without_topics_links_to_the_message() -> None:
    assert link(reply_to_message=QUESTION) == "https://t.me/c/1234567890/100"


def test_a_reply_in_a_reply_thread_keeps_the_thread_view() -> None:
    linked = link(reply_to_message=QUESTION, message_thread_id=90)
    assert linked == "https://t.me/c/1234567890/100?thread=90"
