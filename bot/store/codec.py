"""How times and question sets are written in SQLite: ISO-8601 UTC text, sortable as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def ts(value: datetime) -> str:
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"refusing to store naive datetime {value!r}")
        value = value.astimezone(UTC)
    # isoformat() without a timespec is a quarter faster (this runs twice per stored
    # message); it leaves the fraction out only when it is zero.
    text = value.isoformat()
    return text if value.microsecond else f"{text[:-6]}.000000+00:00"


def ts_or_none(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_ts_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def encode_questions(numbers: Iterable[int]) -> str:
    if not numbers:
        return ""  # most messages: general discussion
    ordered = sorted(numbers)  # once per stored message: most have none or one
    return str(ordered[0]) if len(ordered) == 1 else " ".join(map(str, ordered))


def decode_questions(text: str) -> frozenset[int]:
    return frozenset(int(n) for n in text.split())
