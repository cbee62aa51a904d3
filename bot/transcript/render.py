"""Renders a built transcript as an HTML page, Markdown and JSON without trusting its text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.i18n import Messages, translations
from bot.site.chatnav import ChatNav
from bot.transcript.build import Transcript
from bot.transcript.model import MessageRecord

SCHEMA = "hashchat.transcript/1"
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


@lru_cache(maxsize=65_536)  # each link is checked for the page, the Markdown and the JSON
def http_link(url: str | None) -> str | None:
    """Only plain web links are let through: platform data could carry ``javascript:``."""
    if not url or _CONTROL_OR_SPACE.search(url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def lang_tag(locale: str) -> str:
    return re.split(r"[.@]", locale, maxsplit=1)[0].replace("_", "-") or "en"


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _locale(name: str) -> Locale:
    try:
        return Locale.parse(lang_tag(name), sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@lru_cache(maxsize=16_384)
def _short_time(locale: Locale, hour: int, minute: int) -> str:
    """A short time shows only the hour and minute in the reader's zone: every chat's
    page formats the same few hundred of them, and Babel took a third of a page's render."""
    return format_time(time(hour, minute), "short", locale=locale)


@lru_cache(maxsize=16_384)
def _decimal(locale: Locale, n: int) -> str:
    return format_decimal(n, locale=locale)


class Formatter:
    """Shows numbers and times in the community's locale and zone, as its members read them."""

    def __init__(self, locale: str, zone: str) -> None:
        self.locale = _locale(locale)
        self.zone = _zone(zone)
        self.zone_name = zone if self.zone is not UTC else "UTC"

    def number(self, n: int) -> str:
        return _decimal(self.locale, n)

    def time(self, dt: datetime) -> str:
        """Short times have no seconds (nor date, nor zone): cached by hour and minute."""
        local = dt.astimezone(self.zone)
        return _short_time(self.locale, local.hour, local.minute)

    def moment(self, dt: datetime) -> str:
        return format_datetime(dt, "medium", tzinfo=self.zone, locale=self.locale)

    def span(self, start: datetime, end: datetime) -> str:
        """Names the zone and its offset, since readers may live elsewhere."""
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        day = format_date(a, "full", locale=self.locale)
        end_text = self.time(b) if a.date() == b.date() else self.moment(b)
        offset = format_datetime(a, "ZZZZ", tzinfo=self.zone, locale=self.locale)
        return f"{day} · {self.time(a)} \u2013 {end_text} · {self.zone_name} ({offset})"

    def duration(self, delta: timedelta) -> str:
        minutes = max(0, round(delta.total_seconds() / 60))
        hours, minutes = divmod(minutes, 60)
        parts = [format_unit(hours, "duration-hour", "long", locale=self.locale)] if hours else []
        if minutes or not hours:
            parts.append(format_unit(minutes, "duration-minute", "long", locale=self.locale))
        return format_list(parts, style="unit", locale=self.locale)


def _without_controls(value: Any) -> Any:
    """Text from outside (never the templates' own Markup) loses its control characters,
    as in the Markdown: a NUL in an HTML page is a parse error."""
    return value.translate(_NO_CONTROLS) if type(value) is str else value


@cache
def _environment(locale: str) -> Environment:
    """One environment per locale, so concurrent renders never swap each other's catalog."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(("html", "htm"), default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        finalize=_without_controls,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def render_html(t: Transcript, messages: Messages, nav: ChatNav | None = None) -> str:
    """``nav`` puts the page in its community's site (bot/site/chatnav.py)."""
    fmt = Formatter(t.session.locale, t.session.timezone)
    from bot.transcript.activity import activity_chart  # it draws with this module's Formatter

    chart = activity_chart(t, fmt, messages)
    return (
        _environment(messages.locale)
        .get_template("transcript.html")
        .render(t=t, fmt=fmt, lang=lang_tag(t.session.locale), link=http_link, chart=chart, nav=nav)
    )


# Control characters (a NUL, an escape sequence) are dropped: a terminal or an editor
# showing the file would act on them. Tabs stay; line breaks are handled line by line.
_CONTROLS = [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]
_NO_CONTROLS = str.maketrans({chr(c): None for c in _CONTROLS if c != 0x0A})  # lines stay
_MD_SPECIAL = str.maketrans(
    {**{c: "\\" + c for c in "\\*_[]()<>#|!`&~"}, **{chr(c): None for c in _CONTROLS}}
)
_MD_LEADING = re.compile(r"^(\d+)\.|^([-+=])")
_URL_SAFE = ":/?#[]@!$&'*+,;=%-._~"  # everything but ( ) < > quotes and spaces


def md_escape(text: str) -> str:
    """Participants' text must stay text: no links, images, HTML or block structure."""
    lines = (line.strip().translate(_MD_SPECIAL) for line in text.strip().splitlines())
    return "\\\n".join(
        _MD_LEADING.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], line) for line in lines
    )


def _md_inline(text: str) -> str:
    return md_escape(" ".join(text.split()))


def _md_message(m: MessageRecord, fmt: Formatter, original: str) -> str:
    head = f"- **{_md_inline(m.author_name)}** · {fmt.time(m.sent_at)}"
    url = http_link(m.link)
    if url:
        head += f" · [{original}]({quote(url, safe=_URL_SAFE)})"
    body = md_escape(m.text)
    return head + ("\\\n" + body if body else "").replace("\n", "\n  ")


def render_markdown(t: Transcript, messages: Messages) -> str:
    """Labels are looked up outside f-strings, where Babel's extractor can see them."""
    fmt, s, _ = Formatter(t.session.locale, t.session.timezone), t.session, messages.gettext
    original = _md_inline(_("original"))
    duration, n_messages, n_answers = _("Duration"), _("Messages"), _("Answers")
    people = _("Participants")
    skipped, no_answers = _("This question was skipped."), _("No answers.")
    unconfirmed = _("Delivery not confirmed.")
    general, no_messages = _("General discussion"), _("No messages.")
    per_question, question, participant = _("Answers per question"), _("Question"), _("Participant")
    out = [
        f"# {_md_inline(s.title)}",
        "",
        f"{_md_inline(s.hashtag)} · {_md_inline(fmt.span(s.starts_at, s.ends_at))}",
        "",
        f"- {duration}: {fmt.duration(t.duration)}",
        f"- {n_messages}: {fmt.number(t.total_messages)}",
        f"- {n_answers}: {fmt.number(t.total_answers)}",
        f"- {people}: {fmt.number(t.total_participants)}",
        "",
        f"## {per_question}",
        "",
        f"| {question} | {n_answers} |",
        "| --- | ---: |",
    ]
    out += [
        f"| Q{q.number} {_md_inline(q.text)} | {fmt.number(q.answer_count)} |" for q in t.questions
    ]
    for q in t.questions:
        out += ["", f"## Q{q.number}. {_md_inline(q.text)}", ""]
        if q.posted_at is None:
            out += [f"*{skipped}*", ""]
        elif not q.confirmed:
            out += [f"*{unconfirmed}*", ""]
        out += [_md_message(m, fmt, original) for m in q.answers] or [f"*{no_answers}*"]
    out += ["", f"## {general}", ""]
    out += [_md_message(m, fmt, original) for m in t.general] or [f"*{no_messages}*"]
    out += ["", f"## {people}", "", f"| {participant} | {n_messages} | {n_answers} |"]
    out.append("| --- | ---: | ---: |")
    out += [
        f"| {_md_inline(p.name)} | {fmt.number(p.message_count)} | {fmt.number(p.answer_count)} |"
        for p in t.participants
    ]
    return "\n".join(out) + "\n"


def _utc(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


def _json_message(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "platform": m.platform,
        "channel": m.channel,
        "author_key": m.author_key,
        "author_name": m.author_name,
        "text": m.text,
        "sent_at": _utc(m.sent_at),
        "edited_at": _utc(m.edited_at),
        "link": http_link(m.link),
        "questions": sorted(m.questions),
    }


def render_json(t: Transcript) -> str:
    """Schema ``hashchat.transcript/1``; fields are only ever added within a version.

    Top level: ``schema``; ``session`` {community, hashtag, title, locale, timezone, slug,
    starts_at, ends_at, duration_seconds, channels[]}; ``totals`` {messages, answers,
    participants}, where answers counts messages answering at least one question;
    ``questions`` [{number, text, posted_at|null, delivery_confirmed, answer_count,
    answer_ids[]}], where delivery_confirmed is false for a question whose post the
    platform never confirmed (it counts as posted);
    ``general_discussion_ids`` []; ``messages`` [{id, platform, channel, author_key,
    author_name, text, sent_at, edited_at|null, link|null, questions[]}] by time then id,
    each message once; ``participants`` [{author_key, name, message_count, answer_count,
    first_seen}] most active first; ``most_active`` [author_key]; ``activity_per_minute``
    [{minute, count}] for every minute. Times are UTC ``YYYY-MM-DDTHH:MM:SSZ``; links are
    http(s) or null.
    """
    s = t.session
    doc = {
        "schema": SCHEMA,
        "session": {
            "community": s.community,
            "hashtag": s.hashtag,
            "title": s.title,
            "locale": s.locale,
            "timezone": s.timezone,
            "slug": s.slug,
            "starts_at": _utc(s.starts_at),
            "ends_at": _utc(s.ends_at),
            "duration_seconds": int(t.duration.total_seconds()),
            "channels": list(s.channels),
        },
        "totals": {
            "messages": t.total_messages,
            "answers": t.total_answers,
            "participants": t.total_participants,
        },
        "questions": [
            {
                "number": q.number,
                "text": q.text,
                "posted_at": _utc(q.posted_at),
                "delivery_confirmed": q.confirmed,
                "answer_count": q.answer_count,
                "answer_ids": [m.id for m in q.answers],
            }
            for q in t.questions
        ],
        "general_discussion_ids": [m.id for m in t.general],
        "messages": [_json_message(m) for m in t.messages],
        "participants": [
            {
                "author_key": p.author_key,
                "name": p.name,
                "message_count": p.message_count,
                "answer_count": p.answer_count,
                "first_seen": _utc(p.first_seen),
            }
            for p in t.participants
        ],
        "most_active": [p.author_key for p in t.most_active],
        "activity_per_minute": [{"minute": m, "count": c} for m, c in t.activity],
    }
    # Compact: with indent, json falls back to its pure-Python encoder, 5x slower.
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
