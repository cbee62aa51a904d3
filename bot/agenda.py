"""Moderator-written agendas (TOML or Markdown), checked whole before any session relies on them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Literal

from bot.agenda_formats import Draft, read_markdown, read_toml
from bot.durations import format_duration
from bot.errors import ConfigError


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
    # locale -> the same texts in that language ("title", ..., "q1", "q2", ...)
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


AsPosted = Callable[[int, str], str]
"""How question ``n`` with ``text`` reads when posted, so its length is checked as posted."""


def _bare(number: int, text: str) -> str:
    return f"Q{number}: {text}"


def load_agenda(
    path: Path,
    *,
    duration: timedelta,
    text_limit: int | None = None,
    as_posted: AsPosted = _bare,
) -> Agenda:
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
        text,
        source=str(path),
        fmt=fmt,
        duration=duration,
        text_limit=text_limit,
        as_posted=as_posted,
    )


def parse_agenda_text(
    text: str,
    *,
    source: str,
    fmt: Literal["toml", "md"],
    duration: timedelta,
    text_limit: int | None = None,
    as_posted: AsPosted = _bare,
) -> Agenda:
    """Collect every problem at once, so a moderator fixes the file in one pass."""
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    d = read_toml(text, source) if fmt == "toml" else read_markdown(text, source)
    questions = () if d.broken else _check(d, duration, text_limit, as_posted)
    if d.texts.get("title") == "":
        d.add("the title is empty: write one", "title", d.line)
    translations = _translations(d, len(questions))
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
        translations,
    )


def _translations(d: Draft, count: int) -> dict[str, dict[str, str]]:
    """Each translation as flat texts; its questions must match the agenda's one for one."""
    out: dict[str, dict[str, str]] = {}
    for locale, table in d.translations.items():
        texts = {k: v.strip() for k, v in table.items() if isinstance(v, str)}
        questions = table.get("questions") or []
        if isinstance(questions, list) and count and len(questions) != count:
            d.add(
                f"{len(questions)} translated questions for {count} questions: give one for each,"
                " in the same order",
                f"translations.{locale}.questions",
                table.get("line") if isinstance(table.get("line"), int) else None,
            )
        for n, text in enumerate(questions if isinstance(questions, list) else [], 1):
            texts[f"q{n}"] = str(text).strip()
        out[locale] = texts
    return out


def _check(
    d: Draft, duration: timedelta, text_limit: int | None, as_posted: AsPosted
) -> tuple[Question, ...]:
    if not d.items:
        how = "a heading like '## Q1 What ...?'" if d.md else '[[questions]] with text = "..."'
        d.add(f"the agenda has no questions: add at least one, as {how}", line=d.line)
        return ()
    seen: dict[str, int] = {}
    for n, q in enumerate(d.items, 1):
        if q.text is None:
            continue
        key, label = " ".join(q.text.casefold().split()), as_posted(n, q.text)
        if not key:
            d.add("the question is empty: write the question, or remove it", *q.text_where)
        elif key in seen:
            d.add(f"Q{n} repeats Q{seen[key]}: remove one of them or reword it", *q.text_where)
        seen.setdefault(key, n)
        if text_limit is not None and len(label) > text_limit:
            d.add(
                f"Q{n} is {len(label)} characters long as the bot posts it, but the "
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
    d: Draft, duration: timedelta
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
