"""Recurrence parsing and DST-correct occurrence lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.durations import format_duration, parse_duration
from bot.schedule import Schedule, ScheduleError, ends_on, parse_schedule
from tests.conftest import AGENDA

PARIS = ZoneInfo("Europe/Paris")
TORONTO = ZoneInfo("America/Toronto")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(when: datetime, tz: ZoneInfo = PARIS) -> tuple[date, int, int]:
    moment = when.astimezone(tz)
    return moment.date(), moment.hour, moment.minute


def between(s: Schedule, first: date, last: date, tz: ZoneInfo = PARIS) -> list[datetime]:
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz) - timedelta(microseconds=1)
    return [o for o in s.occurrences(start, 100) if o.astimezone(tz).date() <= last]


def test_paris_friday_across_march_dst() -> None:
    s = parse_schedule("every friday at 13:00", timezone="Europe/Paris")
    got = between(s, date(2026, 3, 20), date(2026, 4, 3))
    assert [local(o) for o in got] == [
        (date(2026, 3, 20), 13, 0),
        (date(2026, 3, 27), 13, 0),
        (date(2026, 4, 3), 13, 0),
    ]
    assert [o.hour for o in got] == [12, 12, 11]
    assert all(o.tzinfo is UTC for o in got)


def test_paris_friday_across_october_dst() -> None:
    s = parse_schedule("Every Friday at 1pm", timezone="Europe/Paris")
    got = between(s, date(2026, 10, 16), date(2026, 11, 6))
    assert [o.astimezone(PARIS).day for o in got] == [16, 23, 30, 6]
    assert {o.astimezone(PARIS).hour for o in got} == {13}
    assert [o.hour for o in got] == [11, 11, 12, 12]


def test_toronto_across_both_dst_changes() -> None:
    s = parse_schedule("every thursday at 12:00", timezone="America/Toronto")
    spring = between(s, date(2026, 3, 5), date(2026, 3, 12), TORONTO)
    autumn = between(s, date(2026, 10, 29), date(2026, 11, 5), TORONTO)
    assert [o.hour for o in spring] == [17, 16]
    assert [o.hour for o in autumn] == [16, 17]
    assert {o.astimezone(TORONTO).hour for o in spring + autumn} == {12}


def test_first_wednesday_over_twelve_months() -> None:
    s = parse_schedule("first wednesday of every month at 13:00", timezone="Europe/Paris")
    got = s.occurrences(utc(2026, 5, 15), 12)
    assert len({o.astimezone(PARIS).month for o in got}) == 12
    for o in got:
        day, hour, minute = local(o)
        assert (day.weekday(), hour, minute) == (2, 13, 0)
        assert day.day <= 7
    year = between(s, date(2027, 1, 1), date(2027, 12, 31))
    assert [o.astimezone(PARIS).date() for o in year] == [
        date(2027, m, d)
        for m, d in [(1, 6), (2, 3), (3, 3), (4, 7), (5, 5), (6, 2),
                     (7, 7), (8, 4), (9, 1), (10, 6), (11, 3), (12, 1)]
    ]  # fmt: skip


def test_last_friday_of_month() -> None:
    s = parse_schedule("last friday of every month at 18:00", timezone="Europe/Paris")
    got = [o.astimezone(PARIS) for o in s.occurrences(utc(2026, 1, 1), 6)]
    assert [o.date() for o in got] == [
        date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27),
        date(2026, 4, 24), date(2026, 5, 29), date(2026, 6, 26),
    ]  # fmt: skip
    assert all(o.hour == 18 and (o + timedelta(days=7)).month != o.month for o in got)


def test_second_and_fourth_tuesday() -> None:
    s = parse_schedule("second and fourth tuesday of every month at 20:00", timezone="Europe/Paris")
    got = [o.astimezone(PARIS).date() for o in s.occurrences(utc(2026, 3, 1), 4)]
    assert got == [date(2026, 3, 10), date(2026, 3, 24), date(2026, 4, 14), date(2026, 4, 28)]


@pytest.mark.parametrize(
    "phrase", ["every other friday at 12:00", "every 2 weeks on friday at 12:00"]
)
def test_every_other_week_counts_from_start_date(phrase: str) -> None:
    s = parse_schedule(phrase, timezone="Europe/Paris", start_date=date(2026, 3, 11))
    got = [local(o) for o in s.occurrences(utc(2026, 1, 1), 4)]
    assert got == [(date(2026, 3, d), 12, 0) for d in (13, 27)] + [
        (date(2026, 4, d), 12, 0) for d in (10, 24)
    ]
    assert [local(o)[0] for o in s.occurrences(utc(2026, 3, 14), 1)] == [date(2026, 3, 27)]


def test_every_other_week_without_anchor_is_an_error() -> None:
    with pytest.raises(ScheduleError, match="start_date") as err:
        parse_schedule("every other friday at 12:00", timezone="Europe/Paris")
    assert "every other friday at 12:00" in str(err.value)


def test_start_date_bounds_every_form() -> None:
    for text in ["every friday at 12:00", "FREQ=WEEKLY;BYDAY=FR;BYHOUR=12", "0 12 * * 5"]:
        s = parse_schedule(text, timezone="Europe/Paris", start_date=date(2026, 6, 1))
        assert local(s.occurrences(utc(2026, 1, 1), 1)[0]) == (date(2026, 6, 5), 12, 0), text


EQUIVALENT = [
    ("every friday at 12:00", "FREQ=WEEKLY;BYDAY=FR;BYHOUR=12;BYMINUTE=0", "0 12 * * 5"),
    ("first wednesday of every month at 13:00",
     "RRULE:FREQ=MONTHLY;BYDAY=1WE;BYHOUR=13;BYMINUTE=0", "0 13 1-7 * 3"),
    ("every monday and thursday at 19:30", "freq=weekly;byday=MO,TH;byhour=19;byminute=30",
     "30 19 * * 1,4"),
    ("every sunday at 18:00", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18", "0 18 * * 0"),
    ("every sunday at 6pm", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=18", "0 18 * * 7"),
    ("every weekday at 08:15", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=15",
     "15 8 * * 1-5"),
    ("every day at 09:00", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "0 9 * * *"),
]  # fmt: skip


@pytest.mark.parametrize(("phrase", "rrule", "cron"), EQUIVALENT)
@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Toronto"])
def test_rrule_and_cron_match_the_phrase(phrase: str, rrule: str, cron: str, zone: str) -> None:
    after = utc(2026, 2, 20)
    want = parse_schedule(phrase, timezone=zone).occurrences(after, 40)
    assert len(want) == 40
    assert parse_schedule(rrule, timezone=zone).occurrences(after, 40) == want
    assert parse_schedule(cron, timezone=zone).occurrences(after, 40) == want


def test_skip_and_extra() -> None:
    extra = [
        datetime(2026, 3, 14, 10, 0, tzinfo=PARIS),
        datetime(2026, 3, 20, 11, 0, tzinfo=UTC),  # the same instant as a regular session
        datetime(2026, 3, 1, 10, 0, tzinfo=PARIS),  # before `after`
    ]
    s = parse_schedule(
        "every friday at 12:00",
        timezone="Europe/Paris",
        skip=[date(2026, 3, 13)],
        extra=extra[::-1],
    )
    got = [local(o) for o in s.occurrences(utc(2026, 3, 7), 4)]
    assert got == [
        (date(2026, 3, 14), 10, 0),
        (date(2026, 3, 20), 12, 0),
        (date(2026, 3, 27), 12, 0),
        (date(2026, 4, 3), 12, 0),
    ]
    assert s.extra == tuple(sorted(e.astimezone(UTC) for e in extra))


def test_naive_extra_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="time zone"):
        parse_schedule("every friday at 12:00", timezone="UTC", extra=[datetime(2026, 3, 14)])  # noqa: DTZ001


@pytest.mark.parametrize(
    "text", ["every day at 02:30", "30 2 * * *", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"]
)
def test_missing_and_ambiguous_wall_times(text: str) -> None:
    s = parse_schedule(text, timezone="Europe/Paris")
    spring = s.occurrences(utc(2026, 3, 28, 12), 2)
    assert spring[0] == utc(2026, 3, 29, 1, 30)  # 02:30 does not exist: 03:30 CEST
    assert local(spring[0]) == (date(2026, 3, 29), 3, 30)
    autumn = s.occurrences(utc(2026, 10, 24, 12), 2)
    assert autumn == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]  # first 02:30 only


def test_strictly_after_and_next_after() -> None:
    s = parse_schedule("every friday at 12:00", timezone="Europe/Paris")
    first = s.next_after(utc(2026, 3, 1))
    assert first == utc(2026, 3, 6, 11)
    assert s.next_after(first) == utc(2026, 3, 13, 11)
    assert s.occurrences(first - timedelta(microseconds=1), 1) == [first]
    assert s.occurrences(first, 0) == []
    with pytest.raises(ValueError, match="aware"):
        s.occurrences(datetime(2026, 3, 1), 1)  # noqa: DTZ001


def test_a_finished_rule_has_no_next() -> None:
    rule = "FREQ=WEEKLY;BYDAY=FR;BYHOUR=12;UNTIL=20260320T110000Z"  # UTC, as calendars export
    s = parse_schedule(rule, timezone="Europe/Paris")
    assert s.occurrences(utc(2026, 3, 1), 9) == [utc(2026, 3, d, 11) for d in (6, 13, 20)]
    assert s.next_after(utc(2026, 3, 21)) is None


@pytest.mark.parametrize(
    ("time_text", "hour", "minute"),
    [("12pm", 12, 0), ("12am", 0, 0), ("7:30 pm", 19, 30), ("7:30 p.m.", 19, 30),
     ("noon", 12, 0), ("19h30", 19, 30), ("9am", 9, 0), ("09:05", 9, 5),
     ("12.00", 12, 0), ("9.05", 9, 5), ("7.30pm", 19, 30), ("7.30 p.m.", 19, 30)],
)  # fmt: skip
def test_time_of_day_forms(time_text: str, hour: int, minute: int) -> None:
    s = parse_schedule(f"every friday at {time_text}", timezone="Europe/Paris")
    assert local(s.occurrences(utc(2026, 3, 1), 1)[0]) == (date(2026, 3, 6), hour, minute)


def test_bad_zone_is_named() -> None:
    with pytest.raises(ScheduleError, match="Mars/Olympus") as err:
        parse_schedule("every friday at 12:00", timezone="Mars/Olympus")
    assert "Europe/Paris" in str(err.value)
    with pytest.raises(ScheduleError, match="did you mean 'Europe/Paris'"):
        parse_schedule("every friday at 12:00", timezone="Europe/Pariss")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("whenever we like at 12:00", "every friday at 12:00"),
        ("whenever we like at 12:00", "cron"),
        ("every fryday at 12:00", "'fryday' -> 'friday'"),
        ("every friday", "no time of day"),
        ("every friday at 25:00", "not a time of day"),
        ("every friday at 13pm", "not a time of day"),
        ("once", "not a recurrence"),
        ("FREQ=WEEKLY;BYDAY=FR", "BYHOUR"),
        ("FREQ=HOURLY;BYHOUR=1", "at most daily"),
        ("FREQ=WEEKLY;BYDAY=XX;BYHOUR=1", "cannot read the RRULE"),
        ("FREQ=WEEKLY;BYHOUR=12", "start_date"),
        ("FREQ=WEEKLY;BYDAY=FR;BYHOUR=12;COUNT=5", "start_date"),
        ("0 25 * * 1", "5 fields"),
        ("0 13 * * 9", "weekday field"),
        ("whenever we like at 12:00", "the 15th of every month at 18:30"),
        ("whenever we like at 12:00", "last day of every month at 17:00"),
        ("whenever we like at 12:00", "until 2027-06-30"),
        ("whenever we like at 12:00", "An RRULE covers the rest"),
        ("every friday at 12:00 until next year", "YYYY-MM-DD"),
        ("every friday at 12:00 until 2027-02-30", "YYYY-MM-DD"),
        ("the 32nd of every month at 12:00", "not a day of the month"),
        ("the 0th of every month at 12:00", "not a day of the month"),
        ("every friday at 12.60", "not a time of day"),
        ("every two weeks on tuesday at 19:00", "start_date"),
    ],
)
def test_bad_schedule_messages(text: str, expected: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(text, timezone="Europe/Paris")
    assert expected in str(err.value)


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2035, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(min_value=1, max_value=6),
)
def test_occurrences_are_ordered_local_and_chainable(after: datetime, split: int) -> None:
    s = parse_schedule("every monday and friday at 13:00", timezone="Europe/Paris")
    got = s.occurrences(after, 8)
    assert len(got) == 8
    assert after < got[0]
    assert all(a < b <= a + timedelta(days=4, hours=1) for a, b in pairwise(got))
    assert all(local(o)[1:] == (13, 0) and local(o)[0].weekday() in (0, 4) for o in got)
    assert s.occurrences(after, split) + s.occurrences(got[split - 1], 8 - split) == got


@pytest.mark.parametrize(
    ("text", "expected"),
    [("60m", timedelta(minutes=60)), ("1h", timedelta(hours=1)),
     ("1h30m", timedelta(minutes=90)), ("1h 30m", timedelta(minutes=90)),
     ("90s", timedelta(seconds=90)), ("24h", timedelta(days=1)), ("2d", timedelta(days=2)),
     (" 1H30M ", timedelta(minutes=90)), ("1d2h3m4s", timedelta(days=1, seconds=7384))],
)  # fmt: skip
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "60m"),
        ("abc", "1h30m"),
        ("0m", "zero"),
        ("-5m", "cannot read"),
        ("1.5h", "cannot read"),
    ],
)
def test_parse_duration_errors(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        parse_duration(text)


def test_zero_duration_allowed_when_not_positive() -> None:
    assert parse_duration("0m", positive=False) == timedelta(0)


@pytest.mark.parametrize(
    ("td", "text"),
    [(timedelta(minutes=90), "1h30m"), (timedelta(0), "0m"), (timedelta(days=2), "2d"),
     (timedelta(seconds=90), "1m30s"), (timedelta(days=1, minutes=5), "1d5m"),
     (-timedelta(minutes=15), "-15m")],
)  # fmt: skip
def test_format_duration(td: timedelta, text: str) -> None:
    assert format_duration(td) == text
    if td >= timedelta(0):
        assert parse_duration(text, positive=False) == td


PHRASES = [
    ("the 15th of every month at 18:30", None,
     [(date(2026, m, 15), 18, 30) for m in (1, 2, 3, 4)]),
    ("on the 15th of each month at 6:30pm", None,
     [(date(2026, m, 15), 18, 30) for m in (1, 2, 3, 4)]),
    ("every month on the 1st and 15th at 12.00", None,
     [(date(2026, 1, 15), 12, 0), (date(2026, 2, 1), 12, 0), (date(2026, 2, 15), 12, 0),
      (date(2026, 3, 1), 12, 0)]),
    ("last day of every month at 17:00", None,
     [(date(2026, 1, 31), 17, 0), (date(2026, 2, 28), 17, 0), (date(2026, 3, 31), 17, 0),
      (date(2026, 4, 30), 17, 0)]),
    ("the last day of the month at 17h", None,
     [(date(2026, 1, 31), 17, 0), (date(2026, 2, 28), 17, 0), (date(2026, 3, 31), 17, 0),
      (date(2026, 4, 30), 17, 0)]),
    ("the 31st of every month at 12:00", None,
     [(date(2026, m, 31), 12, 0) for m in (1, 3, 5, 7)]),
    ("every wednesday at 20:00 until 2026-01-28", None,
     [(date(2026, 1, d), 20, 0) for d in (14, 21, 28)]),
    ("every wednesday at 20:00, until 2026-01-27", None,
     [(date(2026, 1, d), 20, 0) for d in (14, 21)]),
    ("every two weeks on tuesday at 19:00", date(2026, 1, 13),
     [(date(2026, 1, 13), 19, 0), (date(2026, 1, 27), 19, 0), (date(2026, 2, 10), 19, 0),
      (date(2026, 2, 24), 19, 0)]),
    ("every three days at 09:00", date(2026, 1, 13),
     [(date(2026, 1, d), 9, 0) for d in (13, 16, 19, 22)]),
    ("every friday at 12.00", None, [(date(2026, 1, d), 12, 0) for d in (16, 23, 30)]
     + [(date(2026, 2, 6), 12, 0)]),
]  # fmt: skip


@pytest.mark.parametrize(("phrase", "start", "expected"), PHRASES)
def test_phrases_people_write(
    phrase: str, start: date | None, expected: list[tuple[date, int, int]]
) -> None:
    s = parse_schedule(phrase, timezone="Europe/Paris", start_date=start)
    assert [local(o) for o in s.occurrences(utc(2026, 1, 10), 4)] == expected


def test_until_stops_the_series_after_that_day() -> None:
    s = parse_schedule("every wednesday at 20:00 until 2027-06-30", timezone="Europe/Paris")
    assert ends_on(s) == date(2027, 6, 30)
    last = s.occurrences(utc(2027, 6, 20), 5)
    assert [local(o) for o in last] == [(date(2027, 6, 23), 20, 0), (date(2027, 6, 30), 20, 0)]
    assert s.next_after(last[-1]) is None
    assert s.next_after(utc(2030, 1, 1)) is None
    assert ends_on(parse_schedule("every wednesday at 20:00", timezone="Europe/Paris")) is None


def test_the_same_phrase_as_an_rrule() -> None:
    after = utc(2026, 1, 10)
    for phrase, rule in [
        ("the 15th of every month at 18:30", "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=18;BYMINUTE=30"),
        ("last day of every month at 17:00", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=0"),
    ]:
        want = parse_schedule(rule, timezone="Europe/Paris").occurrences(after, 24)
        assert parse_schedule(phrase, timezone="Europe/Paris").occurrences(after, 24) == want


SERIES = """
[[communities.series]]
id = "{id}"
schedule = "{schedule}"
agenda = "agenda.toml"
{extra}
"""


def _config(tmp_path: Path, *series: tuple[str, str, str]) -> Path:
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    text = (
        '[[communities]]\nid = "hcsmeu"\nhashtag = "#hcsmeu"\n'
        'timezone = "Europe/Paris"\nchannels = ["local:main"]\n'
    )
    text += "".join(SERIES.format(id=i, schedule=p, extra=e) for i, p, e in series)
    path = tmp_path / "hashchat.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _listed(output: str) -> dict[str, list[str]]:
    """Each series' printed lines under its header, in `hashchat schedule`'s output."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            current = line.strip().partition(":")[0]
            blocks[current] = []
        elif line.startswith("    "):
            blocks[current].append(line.strip())
    return blocks


def test_hashchat_schedule_prints_the_dates_of_each_phrase(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        ("mid", "the 15th of every month at 18:30", "start_date = 2031-01-01"),
        ("end", "last day of every month at 17:00", "start_date = 2031-01-01"),
        ("fortnight", "every two weeks on tuesday at 19:00", "start_date = 2031-01-07"),
        ("dot", "every friday at 12.00", "start_date = 2031-01-01"),
        ("until", "every wednesday at 20:00 until 2031-01-22", "start_date = 2031-01-01"),
    )
    result = CliRunner().invoke(main, ["schedule", "--config", str(path), "-n", "3"])
    assert result.exit_code == 0, result.output
    printed = {k: [line[:20] for line in v] for k, v in _listed(result.output).items()}
    assert printed == {
        "mid": ["Wed 2031-01-15 18:30", "Sat 2031-02-15 18:30", "Sat 2031-03-15 18:30"],
        "end": ["Fri 2031-01-31 17:00", "Fri 2031-02-28 17:00", "Mon 2031-03-31 17:00"],
        "fortnight": ["Tue 2031-01-07 19:00", "Tue 2031-01-21 19:00", "Tue 2031-02-04 19:00"],
        "dot": ["Fri 2031-01-03 12:00", "Fri 2031-01-10 12:00", "Fri 2031-01-17 12:00"],
        "until": ["Wed 2031-01-01 20:00", "Wed 2031-01-08 20:00", "Wed 2031-01-15 20:00"],
    }
    result = CliRunner().invoke(main, ["schedule", "--config", str(path), "-n", "6"])
    until = _listed(result.output)["until"]
    assert [line[:20] for line in until[:-1]] == [
        f"Wed 2031-01-{d:02} 20:00" for d in (1, 8, 15, 22)
    ]
    assert until[-1] == "the series ends on Wed 2031-01-22 (until): no session after that day"


def test_a_series_past_its_until_has_no_next_chat(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        ("old", "every wednesday at 20:00 until 2021-06-30", ""),
        ("weekly", "every friday at 12:00 until 2099-12-31", ""),
    )
    result = CliRunner().invoke(main, ["schedule", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert _listed(result.output)["old"] == [
        "no more sessions: the series ended on Wed 2021-06-30 (until)"
    ]
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "hcsmeu/old: no more sessions: the series ended on Wed 2021-06-30 (until)" in lines
    assert not [line for line in lines if line.startswith("hcsmeu/old: next on")]
    assert (
        "hcsmeu/weekly: the series ends on Thu 2099-12-31 (until): no session after that day"
        in lines
    )
    assert [line for line in lines if line.startswith("hcsmeu/weekly: next on Fri")]
