"""Moderator-written agendas (TOML or Markdown), checked whole before any session relies on them."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from bot.errors import ConfigError, Problem
from bot.schedule import format_duration, parse_duration

_TEXT_KEYS = ("title", "topic", "welcome", "rules", "closing")
_TOP_KEYS = (*_TEXT_KEYS, "spacing", "first_at", "questions")
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


@dataclass(frozen=True, slots=True)
class Question:
    number: int
    text: str
    offset: timedelta


@dataclass(frozen=True, slots=True)
class Agenda:
    source: str
    title: str
    topic: str
    welcome: str
    rules: str
    closing: str
    questions: tuple[Question, ...]


@dataclass(slots=True)
class _Item:
    """A question as written; ``text``/``at`` are None once reported as unusable."""

    text: str | None
    at: timedelta | None
    timed: bool
    text_where: tuple[str, int | None]
    at_where: tuple[str, int | None]


@dataclass(slots=True)
class _Draft:
    source: str
    md: bool
    problems: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)
    spacing: tuple[timedelta, int | None] | None = None
    first_at: tuple[timedelta, int | None] | None = None
    line: int | None = None  # where file-level problems point
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


def load_agenda(path: Path, *, duration: timedelta, text_limit: int | None = None) -> Agenda:
    suffix = path.suffix.lower()
    if suffix not in {".toml", ".md", ".markdown"}:
        raise ConfigError.single(path, "an agenda file must end in .toml, .md or .markdown")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError.single(path, "file not found: check the agenda path") from None
    except OSError as exc:
        raise ConfigError.single(path, f"cannot read the agenda ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = "the file is not UTF-8 text: save it again as UTF-8 in your editor"
        raise ConfigError.single(path, message, line=line) from None
    fmt: Literal["toml", "md"] = "toml" if suffix == ".toml" else "md"
    return parse_agenda_text(
        text, source=str(path), fmt=fmt, duration=duration, text_limit=text_limit
    )


def parse_agenda_text(
    text: str,
    *,
    source: str,
    fmt: Literal["toml", "md"],
    duration: timedelta,
    text_limit: int | None = None,
) -> Agenda:
    """Collect every problem at once, so a moderator fixes the file in one pass."""
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    d = _from_toml(text, source) if fmt == "toml" else _from_markdown(text, source)
    questions = () if d.broken else _check(d, duration, text_limit)
    if d.texts.get("title") == "":
        d.add("the title is empty: write one", "title", d.line)
    if d.problems:
        raise ConfigError(sorted(d.problems, key=lambda p: p.line or 0))
    t = d.texts
    return Agenda(
        source,
        t["title"],
        t.get("topic", ""),
        t.get("welcome", ""),
        t.get("rules", ""),
        t.get("closing", ""),
        questions,
    )


def _unknown(key: str, valid: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(valid)}"
    return f"unknown key {key!r}: {hint}"


def _from_toml(text: str, source: str) -> _Draft:
    d = _Draft(source, md=False)
    try:
        data: dict[str, Any] = tomllib.loads(text)
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
        d.items.append(_Item(text_value, offset, at is not None, text_at, at_at))
    return d


def _from_markdown(text: str, source: str) -> _Draft:
    d = _Draft(source, md=True, line=1)
    bodies: dict[str, list[str]] = {}
    section: str | None = None
    intro: list[tuple[int, str]] = []
    item: _Item | None = None
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
                item = _Item(words, offset, bool(at), (where, n), (where, n))
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


def _setting(d: _Draft, key: str, value: str, line: int) -> bool:
    """Read ``spacing: 10m`` under the title; False when the line is just topic text."""
    name = key.casefold().replace(" ", "_")
    close = difflib.get_close_matches(name, ["spacing", "first_at"], n=1, cutoff=0.75)
    if name in {"spacing", "first_at"}:
        d.setting(name, value, line)
    elif close:
        d.add(f"unknown setting {key!r}: did you mean '{close[0]}'?", key, line)
    return bool(close)


def _check(d: _Draft, duration: timedelta, text_limit: int | None) -> tuple[Question, ...]:
    if not d.items:
        how = "a heading like '## Q1 What ...?'" if d.md else '[[questions]] with text = "..."'
        d.add(f"the agenda has no questions: add at least one, as {how}", line=d.line)
        return ()
    seen: dict[str, int] = {}
    for n, q in enumerate(d.items, 1):
        if q.text is None:
            continue
        key, label = " ".join(q.text.casefold().split()), f"Q{n}: {q.text}"
        if not key:
            d.add("the question is empty: write the question, or remove it", *q.text_where)
        elif key in seen:
            d.add(f"Q{n} repeats Q{seen[key]}: remove one of them or reword it", *q.text_where)
        seen.setdefault(key, n)
        if text_limit is not None and len(label) > text_limit:
            d.add(
                f"Q{n} is {len(label)} characters long as posted ('Q{n}: ' included) but the "
                f"limit is {text_limit} on the strictest platform this community uses: shorten "
                f"it by {len(label) - text_limit} characters",
                *q.text_where,
            )
    if (plan := _plan(d, duration)) is None:
        return ()
    offsets, moved_by, advice = plan
    last: tuple[int, timedelta] | None = None
    for n, (q, at) in enumerate(zip(d.items, offsets, strict=True), 1):
        where = moved_by or q.at_where
        if at is not None and not timedelta(0) <= at < duration:
            d.add(
                f"Q{n} would be posted at {format_duration(at)}, outside the "
                f"{format_duration(duration)} chat: {advice}",
                *where,
            )
        elif at is not None and last and at <= last[1]:
            d.add(
                f"Q{n} at {format_duration(at)} must come after Q{last[0]} at "
                f"{format_duration(last[1])}: list the questions in the order they are asked, "
                "with later times",
                *where,
            )
        last = (n, at) if at is not None else last
    return tuple(
        Question(n, (q.text or "").strip(), at or timedelta(0))
        for n, (q, at) in enumerate(zip(d.items, offsets, strict=True), 1)
    )


def _plan(
    d: _Draft, duration: timedelta
) -> tuple[list[timedelta | None], tuple[str, int | None] | None, str] | None:
    """Explicit times, else ``spacing``, else evenly spread whole minutes; None if unusable."""
    items, timed = d.items, [q for q in d.items if q.timed]
    for n, q in enumerate(items if timed else [], 1):
        if not q.timed:
            d.add(
                f"Q{n} has no time but other questions do: give every question a time, or "
                "none and use spacing",
                *q.at_where,
            )
    if timed and d.spacing:
        d.add(
            "every question has its own time, so spacing is not used: remove spacing",
            "spacing",
            d.spacing[1],
        )
    if timed:
        at = [q.at for q in items]
        return (at, None, "give it an earlier time") if len(timed) == len(items) else None
    if d.spacing:
        step, first = d.spacing[0], (d.first_at or d.spacing)[0]
        advice = "use a smaller spacing or fewer questions, or make the chat longer"
        return [first + i * step for i in range(len(items))], ("spacing", d.spacing[1]), advice
    if d.first_at:
        d.add(
            "first_at only works together with spacing: add spacing (e.g. 10m)",
            "first_at",
            d.first_at[1],
        )
    seconds, slots = int(duration.total_seconds()), len(items) + 1
    even = [
        timedelta(minutes=int(Fraction(seconds * i, 60 * slots) + Fraction(1, 2)))
        for i in range(1, slots)
    ]
    if len(set(even)) < len(even) or even[0] <= timedelta(0):
        d.add(
            f"{len(items)} questions do not fit a whole minute apart in a "
            f"{format_duration(duration)} chat: make it longer or remove questions",
            "questions",
            d.line,
        )
        return None
    return [*even], None, "give it an earlier time"
