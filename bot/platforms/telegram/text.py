"""Participants' text made safe for Telegram's HTML parse mode and cut to its length limit."""

from __future__ import annotations

import html

LIMIT = 4096  # what a message may show, counted as Telegram counts: in UTF-16 units


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Parts of at most ``limit`` visible units, cut after a line or a word where one is
    near; parts Telegram would refuse as empty are dropped."""
    parts: list[str] = []
    rest = text
    while rest:
        end = _fitting(rest, limit)
        if end == len(rest):
            parts.append(rest)
            break
        cut = _cut(rest, end)
        parts.append(rest[:cut])
        rest = rest[cut:]
    return [p for p in parts if p.strip()]


def _cut(text: str, end: int) -> int:
    """Where to cut before ``end``: after the last line break, else the last space, else at
    ``end``; never so early that a part comes out much shorter than the limit."""
    floor = end // 2
    for separator in ("\n", " "):
        at = text.rfind(separator, floor, end)
        if at >= 0:
            return at + 1
    return end


def to_html(text: str) -> str:
    """Plain text as Telegram HTML: nothing a participant writes can become markup."""
    return html.escape(text, quote=False)
