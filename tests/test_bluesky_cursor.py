"""Jetstream's durable position never passes a post handed over and not yet stored, and
what was stored past it is kept only until the position catches up."""

from __future__ import annotations

from bot.platforms.bluesky.cursor import Cursor


def test_the_position_waits_for_the_oldest_unstored_post() -> None:
    cursor = Cursor(100)
    for at, key in ((110, "a"), (120, "b"), (130, "c")):
        cursor.took(at, key)
    cursor.took(140)  # nothing for the core
    assert cursor.durable() == 109

    assert cursor.acknowledged("b")  # stored before "a": ahead of the position
    assert cursor.durable() == 109
    assert cursor.stored_ahead == {"b": 120}

    assert cursor.acknowledged("a")
    assert cursor.durable() == 129  # up to just before "c"
    assert cursor.stored_ahead == {}  # "b" is behind the position now

    assert not cursor.acknowledged("a")  # a second acknowledgement changes nothing
    assert cursor.acknowledged("c")
    assert cursor.durable() == 140


def test_a_post_taken_twice_is_waited_for_once() -> None:
    cursor = Cursor(None)
    cursor.took(50, "a")
    cursor.took(60, "a")  # Jetstream replayed it
    assert cursor.durable() == 49
    assert cursor.acknowledged("a")
    assert cursor.durable() == 60
