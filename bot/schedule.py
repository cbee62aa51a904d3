"""When a series' sessions start: friendly phrases, RRULEs or cron lines, in a local zone."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger
from dateutil.rrule import rrulestr

FORMS = (
    "one of 'every friday at 12:00', 'every monday and thursday at 19:30', "
    "'every weekday at 08:15', 'every day at 09:00', "
    "'every other friday at 12pm' or 'every two weeks on tuesday at 19:00' (need start_date), "
    "'first wednesday of every month at 13:00', 'last friday of every month at 18:00', "
    "'the 15th of every month at 18:30', 'last day of every month at 17:00'; "
    "a time is written 18:30, 18.30, 18h30, 6:30pm or noon, and 'until 2027-06-30' at the "
    "end stops the series. An RRULE covers the rest, "
    "e.g. 'FREQ=MONTHLY;BYDAY=2TU,4TU;BYHOUR=20;BYMINUTE=0' (the second and fourth "
    "Tuesday), and so does a cron line such as '0 12 * * 5'"
)
_DAYS = {
    "monday": "MO", "mon": "MO", "tuesday": "TU", "tue": "TU", "tues": "TU",
    "wednesday": "WE", "wed": "WE", "thursday": "TH", "thu": "TH", "thur": "TH",
    "thurs": "TH", "friday": "FR", "fri": "FR", "saturday": "SA", "sat": "SA",
    "sunday": "SU", "sun": "SU",
}  # fmt: skip
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_ORD = r"(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)"
_NUM = rf"(?:other|\d+|{'|'.join(_NUMBERS)})"
_MDAY = r"(?:\d{1,2}(?:st|nd|rd|th)?|last)"
_TIME = r"(?:at\s+)?(?P<time>noon|midnight|\d{1,2}(?:[:h.]\d{2}|h)?(?:\s*[ap]\.?m\.?)?)"


def _listed(item: str) -> str:
    return rf"{item}(?:\s*(?:,|\band\b|&)\s*(?:and\s+)?{item})*"


_DAILY = re.compile(rf"(?:every\s+(?:(?P<n>{_NUM})\s+)?days?|daily)\s+{_TIME}")
_WEEKDAYS = re.compile(rf"every\s+weekday\s+{_TIME}")
_WEEKLY = re.compile(
    rf"every\s+(?:(?P<other>other)\s+(?:weeks?\s+on\s+)?|(?P<n>{_NUM})\s+weeks?\s+on\s+"
    rf"|weeks?\s+on\s+)?(?P<days>{_listed(_DAY)})\s+{_TIME}"
)
_MONTHLY = re.compile(
    rf"(?:every\s+|on\s+)?(?:the\s+)?(?P<ords>{_listed(_ORD)})\s+(?P<day>{_DAY})\s+of\s+"
    rf"(?:every|each|the)\s+(?:(?P<n>{_NUM})\s+)?months?\s+{_TIME}"
)
# "the 15th of every month", "last day of each month", "every month on the 1st and 15th".
_MONTH_DAYS = re.compile(
    rf"(?:(?:every\s+|on\s+)?(?:the\s+)?(?P<days>{_listed(_MDAY)})(?:\s+days?)?\s+of\s+"
    rf"(?:every|each|the)\s+(?:(?P<n>{_NUM})\s+)?months?"
    rf"|(?:every\s+(?:(?P<n2>{_NUM})\s+)?months?|monthly)\s+on\s+(?:the\s+)?"
    rf"(?P<days2>{_listed(_MDAY)})(?:\s+days?)?)\s+{_TIME}"
)
_UNTIL = re.compile(r"\s*,?\s+until\s+(?P<date>.+?)(?=\s+at\s|$)")


class ScheduleError(ValueError):
    """A schedule a moderator wrote cannot be used; the message shows a form that works."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed recurrence; kept as text (``rule``) so it stays hashable and printable.

    Starts are wall times in ``timezone``: a wall time skipped by a spring-forward change
    (02:30 in Paris on the last Sunday of March) is read with the offset in force before
    the change, i.e. moved forward by the gap (02:30 -> 03:30 CEST); an ambiguous wall
    time on a fall-back day is the first of the two (fold=0). "Every other week" counts
    weeks (Monday first) from the one holding ``start_date``. ``extra`` starts are
    explicit, so neither ``skip`` nor ``start_date`` removes them.
    """

    timezone: str
    kind: Literal["rrule", "cron"]
    rule: str
    start_date: date | None = None
    skip: frozenset[date] = frozenset()
    extra: tuple[datetime, ...] = ()
    text: str = field(default="", compare=False)

    def occurrences(self, after: datetime, count: int) -> list[datetime]:
        """Next `count` starts strictly after `after` (aware), as aware datetimes in UTC."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError(f"`after` must be timezone-aware, got {after!r}")
        if count <= 0:
            return []
        after = after.astimezone(UTC)
        tz = ZoneInfo(self.timezone)
        floor = _resolve(datetime.combine(self.start_date, time()), tz) if self.start_date else None
        found: set[datetime] = set()
        horizon: datetime | None = None
        for wall in self._walls(max(after, floor or after) - timedelta(days=2), tz):
            # Gap-shifted starts can sort after later wall times, so look a day further.
            if (horizon is not None and wall > horizon) or wall.year > after.year + 200:
                break
            when = _resolve(wall, tz)
            if when <= after or (floor is not None and when < floor) or wall.date() in self.skip:
                continue
            found.add(when)
            if horizon is None and len(found) >= count:
                horizon = wall + timedelta(days=1)
        found.update(e for e in self.extra if e > after)
        return sorted(found)[:count]

    def next_after(self, after: datetime) -> datetime | None:
        nxt = self.occurrences(after, 1)
        return nxt[0] if nxt else None

    def _walls(self, since: datetime, tz: ZoneInfo) -> Iterator[datetime]:
        """Naive local wall times in order, from roughly `since` on."""
        local = since.astimezone(tz).replace(tzinfo=None)
        if self.kind == "cron":
            trigger = CronTrigger.from_crontab(self.rule, timezone=tz)
            prev: datetime | None = None
            now = since.astimezone(tz)
            while (nxt := trigger.get_next_fire_time(prev, now)) is not None:
                yield nxt.astimezone(tz).replace(tzinfo=None, fold=0)
                prev = now = nxt
            return
        begin = local.date()
        if self.start_date is not None:
            begin = self.start_date if _needs_anchor(self.rule) else max(begin, self.start_date)
        for wall in rrulestr(self.rule, dtstart=datetime.combine(begin, time())):
            if wall >= local:
                yield wall


def _resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def ends_on(schedule: Schedule) -> date | None:
    """The last local day a session may start on, from ``until`` or an RRULE's UNTIL.

    ``check`` and ``schedule`` name it, so that a series that stops is not mistaken for
    one that is broken.
    """
    until = _rule_parts(schedule.rule).get("UNTIL") if schedule.kind == "rrule" else None
    if until is None:
        return None
    return date(int(until[:4]), int(until[4:6]), int(until[6:8]))


def _rule_parts(rule: str) -> dict[str, str]:
    return dict(p.partition("=")[::2] for p in rule.split(";") if p)


def _needs_anchor(rule: str) -> bool:
    """Whether the dates depend on where counting starts, not just on the calendar."""
    parts = _rule_parts(rule)
    if int(parts.get("INTERVAL", "1")) > 1 or "COUNT" in parts:
        return True
    pinned = {"BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYEASTER"} & parts.keys()
    return parts.get("FREQ") != "DAILY" and not pinned


def parse_schedule(
    text: str,
    *,
    timezone: str,
    start_date: date | None = None,
    skip: Collection[date] = (),
    extra: Collection[datetime] = (),
) -> Schedule:
    """Fail here, at config load, with a message a moderator can act on, not at session time."""
    tz = _zone(timezone)
    norm = " ".join(text.strip().rstrip(".").split())
    kind: Literal["rrule", "cron"] = "rrule"
    if re.match(r"(?i)(rrule:|freq=)", norm):
        rule = _check_rrule(norm, tz)
    elif re.fullmatch(r"[\d*/,\-]+(\s+\S+){4}", norm):
        kind, rule = "cron", _check_cron(norm, tz)
    else:
        rule = _phrase_rule(norm.lower(), text)
    if kind == "rrule" and start_date is None and _needs_anchor(rule):
        raise ScheduleError(
            f"the schedule {text!r} counts from a first date (every other week, a COUNT, or "
            "no fixed weekday): set start_date to the date of the first session, "
            "e.g. start_date = 2026-03-06"
        )
    days = frozenset(date(d.year, d.month, d.day) for d in skip)
    extras = list(extra)
    for e in extras:
        if e.tzinfo is None or e.utcoffset() is None:
            raise ScheduleError(f"the extra session {e.isoformat()} needs a time zone")
    moments = tuple(sorted({e.astimezone(UTC) for e in extras}))
    return Schedule(timezone, kind, rule, start_date, days, moments, text)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a long name
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScheduleError(
            f"unknown time zone {name!r}: {hint}use an IANA name such as "
            "'Europe/Paris' or 'America/Toronto'"
        ) from None


def _check_rrule(text: str, tz: ZoneInfo) -> str:
    rule = re.sub(r"(?i)^rrule:\s*", "", text).upper().replace(" ", "")
    # Calendar exports write UNTIL in UTC; the rule runs in wall time, so convert it.
    rule = re.sub(
        r"UNTIL=(\d{8}T\d{6})Z",
        lambda m: (
            "UNTIL="
            + datetime.strptime(m[1] + "+0000", "%Y%m%dT%H%M%S%z")
            .astimezone(tz)
            .strftime("%Y%m%dT%H%M%S")
        ),
        rule,
    )
    example = "e.g. 'FREQ=MONTHLY;BYDAY=1WE;BYHOUR=13;BYMINUTE=0'"
    if "DTSTART" in rule:
        raise ScheduleError(f"put the first date in start_date, not DTSTART; {example}")
    try:
        rrulestr(rule, dtstart=datetime.combine(date(2000, 1, 3), time()))
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"cannot read the RRULE {text!r} ({exc}); {example}") from None
    parts = _rule_parts(rule)
    if parts.get("FREQ") not in {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}:
        raise ScheduleError(
            f"sessions repeat at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY; {example}"
        )
    if "BYHOUR" not in parts:
        raise ScheduleError(
            f"the RRULE {text!r} has no time of day: add BYHOUR and BYMINUTE; {example}"
        )
    return rule


def _check_cron(text: str, tz: ZoneInfo) -> str:
    fields = text.split()
    # Standard cron counts weekdays from Sunday=0; APScheduler 3 from Monday=0, so use names.
    fields[4] = _cron_weekdays(fields[4], text)
    rule = " ".join(fields)
    try:
        CronTrigger.from_crontab(rule, timezone=tz)
    except ValueError as exc:
        raise ScheduleError(
            f"cannot read the cron line {text!r} ({exc}); it needs 5 fields, minute hour "
            "day-of-month month weekday, e.g. '0 13 * * 3' for Wednesdays at 13:00"
        ) from None
    return rule


def _cron_weekdays(spec: str, text: str) -> str:
    if spec in {"*", "?"}:
        return "*"
    out: list[str] = []
    for part in spec.lower().split(","):
        if re.fullmatch(r"[a-z]{3}(-[a-z]{3})?", part):
            out.append(part)
            continue
        m = re.fullmatch(r"(\*|[0-7])(?:-([0-7]))?(?:/([1-7]))?", part)
        if not m or (m[2] and int(m[2]) < int(m[1])):
            raise ScheduleError(
                f"cannot read the weekday field {spec!r} of the cron line {text!r}:"
                " use 0-7 (0 and 7 are Sunday) or names, e.g. '1-5' or 'mon,thu'"
            )
        low = 0 if m[1] == "*" else int(m[1])
        high = int(m[2]) if m[2] else 6 if (m[1] == "*" or m[3]) else low
        out.extend(_CRON_DAYS[d % 7] for d in range(low, high + 1, int(m[3] or 1)))
    return ",".join(dict.fromkeys(out))


def _phrase_rule(phrase: str, text: str) -> str:
    """The RRULE a phrase means, with its ``until`` as the rule's UNTIL."""
    until = _UNTIL.search(phrase)
    if until is None:
        return _repeat_rule(phrase, text)
    last = _last_day(until["date"], text)
    rule = _repeat_rule((phrase[: until.start()] + phrase[until.end() :]).strip(), text)
    return f"{rule};UNTIL={last:%Y%m%d}T235959"


def _last_day(value: str, text: str) -> date:
    """The day after which a series stops; the whole day counts, in the community's zone."""
    try:
        return date.fromisoformat(value.rstrip(","))
    except ValueError:
        raise ScheduleError(
            f"cannot read the date {value!r} after 'until' in {text!r}: write the last day "
            "of the series as YYYY-MM-DD, e.g. 'every wednesday at 20:00 until 2027-06-30'"
        ) from None


def _repeat_rule(phrase: str, text: str) -> str:
    if phrase == "once":
        raise ScheduleError(
            "'once' is not a recurrence: give one-off sessions as extra dates, "
            f"or use a repeating form, {FORMS}"
        )
    if m := _DAILY.fullmatch(phrase):
        return f"FREQ=DAILY{_interval(m['n'])};{_clock(m['time'], text)}"
    if m := _WEEKDAYS.fullmatch(phrase):
        return f"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;{_clock(m['time'], text)}"
    if m := _WEEKLY.fullmatch(phrase):
        days = ",".join(dict.fromkeys(_day(d) for d in _split(m["days"])))
        every = _interval("other" if m["other"] else m["n"])
        wkst = ";WKST=MO" if every else ""
        return f"FREQ=WEEKLY{every}{wkst};BYDAY={days};{_clock(m['time'], text)}"
    if m := _MONTHLY.fullmatch(phrase):
        day = _day(m["day"])
        nths = ",".join(dict.fromkeys(f"{_ORDINALS[o]}{day}" for o in _split(m["ords"])))
        return f"FREQ=MONTHLY{_interval(m['n'])};BYDAY={nths};{_clock(m['time'], text)}"
    if m := _MONTH_DAYS.fullmatch(phrase):
        days = ",".join(dict.fromkeys(_month_day(d, text) for d in _split(m["days"] or m["days2"])))
        every = _interval(m["n"] or m["n2"])
        return f"FREQ=MONTHLY{every};BYMONTHDAY={days};{_clock(m['time'], text)}"
    if not re.search(r"\d|noon|midnight", phrase):
        raise ScheduleError(
            f"the schedule {text!r} has no time of day: add one, e.g. 'every friday at 12:00'"
        )
    words = re.findall(r"[a-z]+", phrase)
    hints = [
        f"{w!r} -> {c[0]!r}"
        for w in words
        if w not in _DAYS
        for c in [
            difflib.get_close_matches(
                w,
                ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                n=1,
                cutoff=0.75,
            )
        ]
        if c
    ]
    hint = f" (check the spelling: {', '.join(hints)})" if hints else ""
    raise ScheduleError(f"cannot understand the schedule {text!r}{hint}. Write it as {FORMS}")


def _split(listed: str) -> list[str]:
    return [w for w in re.split(r"\s*(?:,|\band\b|&)\s*", listed) if w]


def _day(word: str) -> str:
    code = _DAYS.get(word) or (_DAYS.get(word[:-1]) if word.endswith("s") else None)
    if code is None:
        close = difflib.get_close_matches(word, [k for k in _DAYS if len(k) > 4], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScheduleError(f"unknown day {word!r} in the schedule{hint}")
    return code


def _month_day(word: str, text: str) -> str:
    """BYMONTHDAY for '15th' or 'last'; a month without a 31st has no session that month."""
    if word == "last":
        return "-1"
    day = int(re.sub(r"\D", "", word))
    if not 1 <= day <= 31:
        raise ScheduleError(
            f"{word!r} in {text!r} is not a day of the month: use 1 to 31 or 'last'"
        )
    return str(day)


def _interval(n: str | None) -> str:
    every = 2 if n == "other" else _NUMBERS.get(n or "") or int(n or 1)
    if every < 1:
        raise ScheduleError("the number in 'every N ...' must be 1 or more")
    return f";INTERVAL={every}" if every > 1 else ""


def _clock(spec: str, text: str) -> str:
    """RRULE time parts for '12:00', '12.00', '12pm', '7:30 p.m.', '19h30', 'noon'."""
    s = re.sub(r"([ap])\.?m\.?$", r"\1m", spec.replace(" ", ""))
    if s in {"noon", "midnight"}:
        return f"BYHOUR={12 if s == 'noon' else 0};BYMINUTE=0"
    m = re.fullmatch(r"(\d{1,2})(?:[:h.](\d{2})|h)?([ap]m)?", s)
    hour, minute = (int(m[1]), int(m[2] or 0)) if m else (99, 0)
    if m and m[3]:
        hour = hour % 12 + (12 if m[3] == "pm" else 0) if 1 <= hour <= 12 else 99
    if hour > 23 or minute > 59:
        raise ScheduleError(
            f"{spec!r} in {text!r} is not a time of day: write 24-hour time "
            "like 13:00, 13.00 or 09:30, or 1pm"
        )
    return f"BYHOUR={hour};BYMINUTE={minute}"
