"""Reading agenda files, TOML or Markdown, into a draft that keeps every problem's place."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.durations import parse_duration
from bot.errors import Problem

_TEXT_KEYS = ("title", "topic", "welcome", "rules", "closing")
_TOP_KEYS = (*_TEXT_KEYS, "spacing", "first_at", "questions", "translations")
_TRANSLATION_KEYS = (*_TEXT_KEYS, "questions")
_LOCALE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z]{2,4})?")
_QUESTION_KEYS = ("text", "at")
_SECTIONS = {
    "welcome": "welcome",
    "bienvenue": "welcome",
    "accueil": "welcome",
    "rules": "rules",
    "règles": "rules",
    "regles": "rules",
    "closing": "closing",
    "conclusion": "closing",
    "clôture": "closing",
    "cloture": "closing",
    "topic": "topic",
    "sujet": "topic",
    "thème": "topic",
    "theme": "topic",
}
_DUR = r"(?P<at>\d+\s*[dhms](?:\s*\d+\s*[dhms])*)\s*\)?"
_HEADING = re.compile(r"(#{1,6})\s+(.*?)(?:\s+#+)?\s*")
_QHEAD = re.compile(
    rf"q(?:uestion)?\s*(?P<n>\d+)\b\s*[:.)\-\u2013\u2014]?\s*(?:(?:\(\s*(?:at|à|\+)?\s*|[@+]\s*)"
    rf"{_DUR})?\s*[:.\-\u2013\u2014]?\s*(?P<text>.*)",
    re.IGNORECASE,
)
_TRAILING_AT = re.compile(rf"\s*(?:\(\s*(?:at|à|\+)\s*|@\s*){_DUR}$", re.IGNORECASE)
_SETTING = re.compile(r"([A-Za-z][\w ]*?)\s*:\s*(\S.*)")


@dataclass(slots=True)
class Item:
    """A question as written; ``text``/``at`` are None once reported as unusable."""

    text: str | None
    at: timedelta | None
    timed: bool
    text_where: tuple[str, int | None]
    at_where: tuple[str, int | None]


@dataclass(slots=True)
class Draft:
    source: str
    md: bool
    problems: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    spacing: tuple[timedelta, int | None] | None = None
    first_at: tuple[timedelta, int | None] | None = None
    line: int | None = None  # where file-level problems point
    # For bilingual communities: locale -> title, welcome, ... and "questions" in order.
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: bool = False

    def add(self, message: str, where: str | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(self.source, message, where, line))

    def offset(
        self, value: object, where: str, line: int | None, *, positive: bool = False
    ) -> timedelta | None:
        try:
            got = parse_duration(value, positive=False) if isinstance(value, str) else None
        except ValueError:
            got = None
        if got is None:
            self.add(
                f'cannot read the time {value!r}: write it in quotes, like "15m" or "1h05m"',
                where,
                line,
            )
        elif positive and not got:
            self.add(f'{where} must be longer than zero, like "10m"', where, line)
            return None
        return got

    def setting(self, key: str, value: object, line: int | None) -> None:
        if (got := self.offset(value, key, line, positive=key == "spacing")) is not None:
            setattr(self, key, (got, line))


def _unknown(key: str, valid: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(valid)}"
    return f"unknown key {key!r}: {hint}"


def read_toml(text: str, source: str) -> Draft:
    d = Draft(source, md=False)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except RecursionError:
        d.add("this is not valid TOML: arrays or tables nested too deeply")
        d.broken = True
        return d
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", str(exc))
        line = (int(at[1]) if at[1] else text.count("\n") + 1) if at else None
        why = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
        d.add(f"this is not valid TOML ({why}): check the quotes, brackets and '=' here", line=line)
        d.broken = True
        return d
    lines = text.splitlines()
    heads = [i for i, s in enumerate(lines, 1) if re.match(r"\s*\[\[\s*questions\s*\]\]", s)]
    top_end = next((i for i, s in enumerate(lines) if s.lstrip().startswith("[")), len(lines))

    def line_of(key: str, lo: int, hi: int) -> int | None:
        pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return next((i + 1 for i in range(lo, hi) if pattern.match(lines[i])), None)

    for key, value in data.items():
        line = line_of(key, 0, top_end)
        if key not in _TOP_KEYS:
            d.add(_unknown(key, _TOP_KEYS), key, line)
        elif key in _TEXT_KEYS and isinstance(value, str):
            d.texts[key] = value.strip()
        elif key in _TEXT_KEYS:
            d.add(f'{key} should be text in quotes, like {key} = "..."', key, line)
        elif key == "translations":
            _read_translations(d, value, lines)
        elif key != "questions":
            d.setting(key, value, line)
    if "title" not in data:
        d.add('the agenda has no title: add a line like title = "Patients as partners"', "title")
    entries = data.get("questions", [])
    if not isinstance(entries, list) or not all(isinstance(q, dict) for q in entries):
        d.add(
            'questions should be [[questions]] blocks, each with a text = "..." line',
            "questions",
            line_of("questions", 0, len(lines)),
        )
        entries = []
    for n, entry in enumerate(entries, 1):
        head = heads[n - 1] if n <= len(heads) else None
        lo, hi = (head, heads[n] - 1 if n < len(heads) else len(lines)) if head else (0, 0)
        name = f"questions[{n}]"
        for key in entry:
            if key not in _QUESTION_KEYS:
                d.add(_unknown(key, _QUESTION_KEYS), f"{name}.{key}", line_of(key, lo, hi) or head)
        value, at = entry.get("text", ""), entry.get("at")
        text_at = (f"{name}.text", line_of("text", lo, hi) or head)
        at_at = (f"{name}.at", line_of("at", lo, hi) or head)
        if not isinstance(value, str):
            d.add('the question should be text in quotes, like text = "..."', *text_at)
        offset = None if at is None else d.offset(at, *at_at)
        text_value = value if isinstance(value, str) else None
        d.items.append(Item(text_value, offset, at is not None, text_at, at_at))
    return d


def _read_translations(d: Draft, value: object, lines: list[str]) -> None:
    """``[translations.en]`` tables: the agenda's texts in a community's second language."""

    def line_of(header: str) -> int | None:
        pattern = re.compile(rf"\s*\[\s*translations\.{re.escape(header)}\s*\]")
        return next((i for i, s in enumerate(lines, 1) if pattern.match(s)), None)

    if not isinstance(value, dict):
        d.add("translations should be tables like [translations.en]", "translations")
        return
    for locale, table in value.items():
        where, line = f"translations.{locale}", line_of(locale)
        if not _LOCALE.fullmatch(locale) or not isinstance(table, dict):
            d.add("name a language, as in [translations.en], and give its texts", where, line)
            continue
        for key, text in table.items():
            if key not in _TRANSLATION_KEYS:
                d.add(_unknown(key, _TRANSLATION_KEYS), f"{where}.{key}", line)
            elif key == "questions" and not (
                isinstance(text, list) and all(isinstance(q, str) and q.strip() for q in text)
            ):
                d.add(
                    'write the questions in order, as questions = ["...", "..."]',
                    f"{where}.questions",
                    line,
                )
            elif key != "questions" and not isinstance(text, str):
                d.add(f"{key} should be text in quotes", f"{where}.{key}", line)
        d.translations[locale] = {"line": line, **table}


def read_markdown(text: str, source: str) -> Draft:
    d = Draft(source, md=True, line=1)
    bodies: dict[str, list[str]] = {}
    section: str | None = None
    intro: list[tuple[int, str]] = []
    item: Item | None = None
    previous, stray = 0, False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        heading = _HEADING.fullmatch(line)
        if heading and len(heading[1]) == 1:
            if "title" in d.texts:
                d.add("a second '# ' title: use '## ' for sections and questions", line[:48], n)
            else:
                d.texts["title"], d.line, section = heading[2], n, "intro"
        elif heading and len(heading[1]) == 2:
            where = f"## {heading[2]}"[:48]
            item, section = None, None
            if q := _QHEAD.fullmatch(heading[2]):
                number, words, at = int(q["n"]), q["text"].strip(), q["at"]
                if number != previous + 1:
                    after = f"the previous question was Q{previous}" if previous else "it is first"
                    d.add(
                        f"this heading says Q{number} but {after}: number the questions Q1, Q2, "
                        "Q3... in order",
                        where,
                        n,
                    )
                previous = number
                if not at and (tail := _TRAILING_AT.search(words)):
                    at, words = tail["at"], words[: tail.start()]
                offset = d.offset(at, where, n) if at else None
                item = Item(words, offset, bool(at), (where, n), (where, n))
                d.items.append(item)
                continue
            name = heading[2].casefold().rstrip(":").strip()
            section = _SECTIONS.get(name) or _SECTIONS.get(name.partition(" ")[0])
            if section is None:
                close = difflib.get_close_matches(name, ["welcome", "rules", "topic", "closing"])
                hint = f"did you mean '## {close[0].capitalize()}'? " if close else ""
                d.add(
                    f"unknown section: {hint}use ## Welcome, ## Rules, ## Topic, ## Closing, "
                    "or ## Q1, ## Q2... for the questions",
                    where,
                    n,
                )
            elif section in bodies:
                d.add(f"a second {section} section: merge the two into one", where, n)
            bodies[section or ""] = []
        elif "title" not in d.texts:
            if line and not stray:
                d.add(
                    "the agenda must start with a title line like '# Patients as partners'", line=1
                )
            stray = stray or bool(line)
        elif item is not None and item.text is not None:
            item.text = f"{item.text}\n{line}".strip()
        elif section == "intro":
            kv = _SETTING.fullmatch(line)
            if line and not (kv and _setting(d, kv[1], kv[2], n)):
                intro.append((n, line))
        elif section is not None:
            bodies[section].append(raw.rstrip())
    d.texts.update({key: "\n".join(body).strip() for key, body in bodies.items() if key})
    if intro:
        if "topic" in bodies:
            d.add(
                "text under the title is read as the topic, but there is also a ## Topic "
                "section: keep only one",
                line=intro[0][0],
            )
        d.texts["topic"] = " ".join(s for _, s in intro)
    if "topic" in d.texts:
        d.texts["topic"] = " ".join(d.texts["topic"].split())
    if "title" not in d.texts:
        d.add(
            "the agenda has no title: start the file with a line like '# Patients as partners'",
            line=1,
        )
    return d


def _setting(d: Draft, key: str, value: str, line: int) -> bool:
    """Read ``spacing: 10m`` under the title; False when the line is just topic text."""
    name = key.casefold().replace(" ", "_")
    close = difflib.get_close_matches(name, ["spacing", "first_at"], n=1, cutoff=0.75)
    if name in {"spacing", "first_at"}:
        d.setting(name, value, line)
    elif close:
        d.add(f"unknown setting {key!r}: did you mean '{close[0]}'?", key, line)
    return bool(close)
