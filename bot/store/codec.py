"""How times and question sets are written in SQLite: ISO-8601 UTC text, sortable as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def ts(value: datetime) -> str:
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"refusing to store naive datetime {value!r}")
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def ts_or_none(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_ts_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def encode_questions(numbers: Iterable[int]) -> str:
    ordered = sorted(numbers)  # once per stored message: most have none or one
    return str(ordered[0]) if len(ordered) == 1 else " ".join(map(str, ordered))


def decode_questions(text: str) -> frozenset[int]:
    return frozenset(int(n) for n in text.split())
