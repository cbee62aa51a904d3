"""Times as the store writes them: the text every page and query sorts and parses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.store import codec
from bot.store.codec import parse_ts, ts

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-3, minutes=-30)), ZoneInfo("Europe/Paris"),
     ZoneInfo("America/Toronto"), ZoneInfo("UTC")]
)  # fmt: skip
# (hypothesis takes naive bounds, and gives times in the zones.)
EARLIEST, LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001
TIMES = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=ZONES)


# (Compared in UTC: by PEP 495, a time in a repeated hour, 01:30 on the night the clocks
# go back, is never equal to a time in another zone, not even the same instant.)


@given(TIMES)
@example(datetime(2000, 10, 29, 1, 0, tzinfo=ZoneInfo("America/Toronto")))  # the repeated hour
def test_a_time_is_written_as_iso_8601_in_utc_with_microseconds(value: datetime) -> None:
    text = ts(value)
    assert text == value.astimezone(UTC).isoformat(timespec="microseconds")
    assert parse_ts(text) == value.astimezone(UTC)


@given(TIMES, TIMES)
def test_the_text_sorts_as_the_times_do(a: datetime, b: datetime) -> None:
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    assert (ts(a) < ts(b)) == (a < b)
    assert (ts(a) == ts(b)) == (a == b)


def test_times_in_more_minutes_than_are_kept_are_each_written_right() -> None:
    start = datetime(2030, 1, 9, 12, 0, 0, 5, tzinfo=UTC)
    times = [start + timedelta(minutes=m, seconds=m % 60) for m in range(codec._MINUTES_KEPT + 50)]
    assert [ts(t) for t in times] == [t.isoformat(timespec="microseconds") for t in times]
    assert len(codec._MINUTES) <= codec._MINUTES_KEPT
    # A minute written before the cache was cleared is written again, the same.
    assert ts(times[0]) == "2030-01-09T12:00:00.000005+00:00"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ts(datetime(2030, 1, 9, 12, 0))  # noqa: DTZ001 (the point of the test)
