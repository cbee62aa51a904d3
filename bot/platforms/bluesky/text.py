"""Posts as Bluesky counts and marks them: at most 300 graphemes (what a reader sees as
one character: an emoji with its modifiers, a letter with its accents), and rich text
whose links, chat hashtags and mentions are facets over UTF-8 *byte* offsets.

Facets are what make a tag, link or mention live; text without one is inert, so words
the bot repeats from participants cannot ping people or spill into other hashtags."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import regex
from atproto_client import utils as client_utils

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w#&/])#(\w+)")
MENTION = re.compile(r"(?<![\w@/])@([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)")
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def fits(text: str, limit: int = MAX_GRAPHEMES) -> bool:
    return graphemes(text) <= limit and len(text.encode()) <= MAX_BYTES


def split_to_fit(text: str, limit: int = MAX_GRAPHEMES) -> list[str]:
    """Parts of at most ``limit`` graphemes, broken between words where one fits (else
    between graphemes, never inside one), so a long step reads as a short thread."""
    parts: list[str] = []
    rest = text.strip()
    while not fits(rest, limit):
        clusters = _GRAPHEME.findall(rest)
        head = "".join(clusters[:limit])
        while len(head.encode()) > MAX_BYTES:
            head = head[: len(head) // 2]
        cut = max(head.rfind("\n"), head.rfind(" "))
        if cut <= len(head) // 3:  # no break worth keeping: cut between graphemes
            cut = len(head)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def rich_text(
    text: str, *, tags: Collection[str], mentions: Mapping[str, str]
) -> client_utils.TextBuilder:
    """``text`` with facets for its links, the chat's hashtags (``tags``, casefolded)
    and the handles in ``mentions`` (handle -> DID); TextBuilder computes the byte
    offsets."""
    spans: list[tuple[int, int, str, str]] = []  # start, end, kind, value
    for match in URL.finditer(text):
        spans.append((match.start(), match.end(), "link", match.group(0)))
    for match in HASHTAG.finditer(text):
        tag = match.group(1)
        if tag.casefold() in tags and not _inside(match.start(), spans):
            spans.append((match.start(), match.end(), "tag", tag))
    for match in MENTION.finditer(text):
        did = mentions.get(match.group(1).casefold())
        if did is not None and not _inside(match.start(), spans):
            spans.append((match.start(), match.end(), "mention", did))
    builder = client_utils.TextBuilder()
    at = 0
    for start, end, kind, value in sorted(spans):
        if start < at:
            continue
        if start > at:
            builder.text(text[at:start])
        getattr(builder, kind)(text[start:end], value)  # link, tag or mention
        at = end
    if at < len(text):
        builder.text(text[at:])
    return builder


def _inside(position: int, spans: list[tuple[int, int, str, str]]) -> bool:
    return any(start <= position < end for start, end, _, _ in spans)


def record_tags(record: Mapping[str, Any]) -> set[str]:
    """The hashtags a post carries: its tag facets, its ``tags`` field, and (for apps
    that write no facets) the ``#words`` of its text; casefolded."""
    found = {str(t).casefold() for t in record.get("tags") or []}
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == "app.bsky.richtext.facet#tag":
                found.add(str(feature.get("tag", "")).casefold())
    found |= {m.casefold() for m in HASHTAG.findall(str(record.get("text") or ""))}
    return found


def mentioned(record: Mapping[str, Any]) -> set[str]:
    """The DIDs a post's mention facets name."""
    found: set[str] = set()
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == "app.bsky.richtext.facet#mention":
                found.add(str(feature.get("did", "")))
    return found


def without_chat_tags(text: str, tags: Collection[str]) -> str:
    """The chat's hashtag at the end of a post is how it joined the chat, not part of
    the answer: left out of what is recorded (one inside a sentence stays)."""
    folded = {t.casefold() for t in tags}
    words = text.rstrip().split(" ")
    while words and words[-1].startswith("#") and words[-1][1:].casefold() in folded:
        words.pop()
    return " ".join(words).rstrip() or text.strip()
