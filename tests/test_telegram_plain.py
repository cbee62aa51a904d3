"""The common message read from the update's JSON is the message python-telegram-bot's
objects give (same place, author, link, text, time); everything else is left to them."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.domain import IncomingMessage
from bot.platforms.telegram.plain import plain_message
from bot.platforms.telegram.updates import to_events

SUPERGROUP = {"id": -1001234567890, "title": "HCSM", "type": "supergroup", "is_forum": True}
GROUP = {"id": -4242, "title": "Small", "type": "group"}
ANN = {"id": 7001, "is_bot": False, "first_name": "Ann", "last_name": "Lee"}
BOB = {"id": 7002, "is_bot": False, "first_name": "Bob", "username": "bob"}
TOPIC_START = {
    "message_id": 5,
    "date": 1_760_000_000,
    "chat": SUPERGROUP,
    "from": BOB,
    "message_thread_id": 5,
    "forum_topic_created": {"name": "Chat", "icon_color": 7322096},
    "is_topic_message": True,
}


def update(**message: Any) -> dict[str, Any]:
    body = {"message_id": 41, "date": 1_760_000_123, "chat": SUPERGROUP, "from": ANN}
    return {"update_id": 900, "message": {**body, **message}}


COMMON = {
    "in a forum topic": update(
        text="A1: patients first",
        message_thread_id=5,
        is_topic_message=True,
        reply_to_message=TOPIC_START,
    ),
    "in the General topic": update(text="hello all"),
    "in a plain group": update(text="hi", chat=GROUP, **{"from": BOB}),
    "a public supergroup": update(text="hi", chat={**SUPERGROUP, "username": "hcsm"}),
}
LEFT_TO_THE_LIBRARY = {
    "a reply": update(text="yes", reply_to_message={**TOPIC_START, "forum_topic_created": None}),
    "a reply in a topic": update(
        text="yes",
        message_thread_id=5,
        is_topic_message=True,
        reply_to_message={
            "message_id": 30,
            "date": 1,
            "chat": SUPERGROUP,
            "from": BOB,
            "text": "Q1",
        },
    ),
    "a caption": update(caption="look", photo=[]),
    "a bot": update(text="beep", **{"from": {**BOB, "is_bot": True}}),
    "sent as the chat": update(text="news", sender_chat=SUPERGROUP),
    "a channel post": update(text="news", chat={"id": -1009, "type": "channel", "title": "C"}),
    "an edit": {"update_id": 901, "edited_message": update(text="x", edit_date=1)["message"]},
    "a linked channel's forward": update(text="ours", is_automatic_forward=True),
}


@pytest.mark.parametrize("case", COMMON)
def test_the_common_message_is_what_the_library_gives(case: str) -> None:
    data = COMMON[case]
    plain = plain_message(data)
    (expected,) = to_events(Update.de_json(data, None))
    assert isinstance(expected, IncomingMessage)
    assert plain == expected  # ref (place, id, link), author, text, time, reply
    assert plain.author.name == expected.author.name


@pytest.mark.parametrize("case", LEFT_TO_THE_LIBRARY)
def test_anything_else_is_left_to_the_library(case: str) -> None:
    assert plain_message(LEFT_TO_THE_LIBRARY[case]) is None
