"""Statuses as text: Mastodon's HTML read safely, posts fitted to the instance's counting,
and participants' words kept from pinging people or spilling into other hashtags."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from html import unescape
from html.parser import HTMLParser

URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
# As Mastodon finds them: not inside a URL path and not glued to a word.
_MENTION = re.compile(r"(?<![/\w])@(?=\w)")
_HASHTAG = re.compile(r"(?<![/)\w])#(\w+)")
_LEADING_MENTIONS = re.compile(r"\s*((?:@[\w.-]+(?:@[\w.-]+)?[\s,:]*)+)")
_INERT = "\u200b"  # zero-width space: shown as nothing, but breaks a mention or a tag

_BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4"})
_SKIP = frozenset({"script", "style", "template"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


# A start or end tag as Mastodon writes them: a name, attributes quoted or not.
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)"
    r"(?:\s+[^\s\"'>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*\s*(/?)>"
)
_TRAILING_BLANKS = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """The words of a status's HTML, with its line breaks; markup is dropped, never run."""
    text = _simple_text(html)
    if text is None:
        parser = _Text()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    text = _TRAILING_BLANKS.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _simple_text(html: str) -> str | None:
    """The same words as the full parser for the HTML Mastodon writes (paragraphs, line
    breaks, links and spans, character references), at a fraction of its cost; None for
    anything else (a comment, a script, a stray ``<``), which the full parser reads."""
    if "<" not in html:
        return unescape(html)
    parts: list[str] = []
    pos = 0
    for match in _TAG.finditer(html):
        data = html[pos : match.start()]
        if "<" in data:
            return None
        parts.append(unescape(data))
        closing, tag, empty = match.groups()
        tag = tag.lower()
        if tag in _SKIP:
            return None
        if not closing:
            if tag == "br":
                parts.append("\n")
            elif tag == "li":
                parts.append("\n- ")
        if (closing or empty) and tag in _BLOCKS:
            parts.append("\n\n")
        pos = match.end()
    rest = html[pos:]
    if "<" in rest:
        return None
    parts.append(unescape(rest))
    return "".join(parts)


def status_text(content: str, spoiler: str = "") -> str:
    """A status as plain text; a content warning is part of what the author wrote."""
    body = html_to_text(content)
    return f"{spoiler.strip()}\n\n{body}" if spoiler.strip() else body


def split_leading_mentions(text: str) -> tuple[list[str], str]:
    """The names a status starts by addressing (a reply's automatic prefix), and the rest."""
    match = _LEADING_MENTIONS.match(text)
    if match is None or not match.group(1).startswith("@"):
        return [], text
    names = re.findall(r"@([\w.-]+(?:@[\w.-]+)?)", match.group(1))
    return names, text[match.end() :].lstrip()


def as_command_or_answer(
    text: str, *, bot_username: str, bot_addressed: bool, commands: Collection[str]
) -> str:
    """What the core should read: ``@bot end`` when the status addresses the bot with a
    command word, otherwise the words without the reply's leading mentions, so that an
    answer written as a reply is not taken for an unknown command."""
    names, rest = split_leading_mentions(text)
    if not names:
        return text
    first = rest.split(maxsplit=1)[0].lstrip("/!").casefold() if rest.split() else ""
    to_bot = bot_addressed and any(
        n.split("@")[0].casefold() == bot_username.casefold() for n in names
    )
    if to_bot and first in commands:
        return f"@{bot_username} {rest}"
    return rest or text


_LAST_TAG = re.compile(r"(?:^|\s)#(\w+)\s*$")


def without_chat_tags(text: str, tags: Collection[str]) -> str:
    """The words without the chat's hashtags at their end: on Mastodon the hashtag is how
    a post joins the chat (what the channel is elsewhere), not part of what it says, so
    the transcript shows ``A1 shared decisions`` as it would from Telegram."""
    chat = {t.casefold() for t in tags}
    words = text.rstrip()
    while (last := _LAST_TAG.search(words)) is not None and last.group(1).casefold() in chat:
        words = words[: last.start()].rstrip()
    return words or text


def inert(text: str, keep_tags: Iterable[str] = ()) -> str:
    """Participants' words re-posted by the bot: no mention pings anyone, and no hashtag
    but the chat's own files the post under another topic."""
    keep = {t.casefold() for t in keep_tags}
    text = _MENTION.sub("@" + _INERT, text)
    return _HASHTAG.sub(
        lambda m: m.group(0) if m.group(1).casefold() in keep else "#" + _INERT + m.group(1),
        text,
    )


def has_tag(text: str, tag: str) -> bool:
    return any(m.group(1).casefold() == tag.casefold() for m in _HASHTAG.finditer(text))


def weighted_length(text: str, url_length: int = 23) -> int:
    """Characters as Mastodon counts them: every link as ``url_length``, a remote
    mention's domain as nothing."""
    text = URL.sub("x" * url_length, text)
    text = re.sub(r"(?<![/\w])(@\w+)@[\w.-]+\w", r"\1", text)
    return len(text)


def split_to_fit(text: str, limit: int, url_length: int = 23) -> list[str]:
    """Parts of at most ``limit`` counted characters, cut at paragraphs, then lines, then
    words; a link is never cut, a word longer than a whole part is."""
    if limit < 1:
        raise ValueError("limit must be positive")
    if weighted_length(text, url_length) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for token in re.split(r"(\n\n|\n| )", text):
        candidate = current + token
        if weighted_length(candidate.strip(), url_length) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.strip())
        current = "" if token.isspace() else token
        while weighted_length(current, url_length) > limit and not URL.fullmatch(current):
            parts.append(current[:limit])
            current = current[limit:]
    if current.strip():
        parts.append(current.strip())
    return parts
