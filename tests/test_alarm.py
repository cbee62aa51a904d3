"""The alarm that wakes the runner: APScheduler in production, the manual one in tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.alarm import ManualAlarm, SchedulerAlarm, Wake
from bot.app import App
from bot.clock import ManualClock, ScaledClock, SystemClock
from bot.platforms.local.platform import LocalPlatform
from tests.conftest import MOD, chat_config

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
FAR = datetime(2099, 1, 1, 12, 0, tzinfo=UTC)  # never reached while a test runs


STRAY: list[str] = []  # wake-ups that ran although they were replaced or cancelled


def never(name: str = "stray") -> Wake:
    async def wake() -> None:
        STRAY.append(name)

    return wake


def setter(event: asyncio.Event) -> Wake:
    async def wake() -> None:
        event.set()

    return wake


async def next_loop_turn() -> None:
    """Let callbacks already queued on the loop (call_soon) run, without waiting for time."""
    done = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(done.set_result, None)
    await done


# SchedulerAlarm -----------------------------------------------------------------------


@pytest.fixture
async def alarm() -> AsyncIterator[SchedulerAlarm]:
    STRAY.clear()
    a = SchedulerAlarm()
    a.start()
    yield a
    a.shutdown()
    await next_loop_turn()
    assert STRAY == []


async def test_wake_at_registers_one_named_job_at_the_utc_time(alarm: SchedulerAlarm) -> None:
    alarm.wake_at("session:1:q1", FAR, never())
    assert [job.id for job in alarm.scheduler.get_jobs()] == ["session:1:q1"]
    assert alarm.next_wake("session:1:q1") == FAR


async def test_wake_at_converts_a_zoned_time_to_the_same_instant(alarm: SchedulerAlarm) -> None:
    when = datetime(2099, 1, 1, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    alarm.wake_at("job", when, never())
    assert alarm.next_wake("job") == FAR  # 13:00 in Paris in January is 12:00 UTC


async def test_a_second_wake_at_with_the_same_id_replaces_the_first(
    alarm: SchedulerAlarm,
) -> None:
    alarm.wake_at("session:1:q1", FAR, never())
    alarm.wake_at("session:1:q1", FAR + timedelta(minutes=3), never())
    assert [job.id for job in alarm.scheduler.get_jobs()] == ["session:1:q1"]
    assert alarm.next_wake("session:1:q1") == FAR + timedelta(minutes=3)


async def test_cancel_removes_the_job_and_is_harmless_when_repeated(
    alarm: SchedulerAlarm,
) -> None:
    alarm.wake_at("keep", FAR, never())
    alarm.wake_at("drop", FAR, never())
    alarm.cancel("drop")
    alarm.cancel("drop")
    alarm.cancel("never-scheduled")
    assert [job.id for job in alarm.scheduler.get_jobs()] == ["keep"]
    assert alarm.next_wake("drop") is None


async def test_a_wake_up_already_due_runs_promptly(alarm: SchedulerAlarm) -> None:
    woke = asyncio.Event()
    alarm.wake_at("late", datetime.now(UTC) - timedelta(minutes=10), setter(woke))
    await asyncio.wait_for(woke.wait(), timeout=5)
    assert alarm.scheduler.get_jobs() == []  # a date job runs once and is gone


async def test_a_replaced_due_wake_up_runs_only_the_new_callback(alarm: SchedulerAlarm) -> None:
    woke = asyncio.Event()
    due = datetime.now(UTC) - timedelta(seconds=1)
    alarm.wake_at("step", due, never("replaced"))
    alarm.wake_at("step", due, setter(woke))
    await asyncio.wait_for(woke.wait(), timeout=5)
    await next_loop_turn()
    assert alarm.next_wake("step") is None
    assert STRAY == []


async def test_a_cancelled_due_wake_up_never_runs(alarm: SchedulerAlarm) -> None:
    woke = asyncio.Event()
    due = datetime.now(UTC) - timedelta(seconds=1)
    alarm.wake_at("cancelled", due, never("cancelled"))
    alarm.cancel("cancelled")
    alarm.wake_at("witness", due, setter(woke))  # due at the same time, set afterwards
    await asyncio.wait_for(woke.wait(), timeout=5)
    await next_loop_turn()
    assert STRAY == []


async def test_shutdown_stops_the_scheduler() -> None:
    a = SchedulerAlarm()
    a.start()
    a.wake_at("job", FAR, never())
    assert a.scheduler.running
    a.shutdown()
    await next_loop_turn()
    assert not a.scheduler.running
    a.shutdown()  # once stopped, shutting down again is a no-op


async def test_shutdown_twice_in_a_row_raises_nothing_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    try:
        a = SchedulerAlarm()
        a.start()
        a.shutdown()
        a.shutdown()  # e.g. a signal handler and a finally block both stopping the bot
        await next_loop_turn()
        await next_loop_turn()
    finally:
        loop.set_exception_handler(None)
    assert not a.scheduler.running
    assert [str(c.get("exception") or c["message"]) for c in errors] == []


# The shapes the code base passes, on the real alarm with real time ---------------------


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll every 50 ms until ``condition`` holds, failing after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


class Target:
    """Stands for the runner, the planner and the host reminder: async methods called
    through the exact callback shapes they hand the alarm."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, float]] = []

    async def wake(self, session_id: int) -> None:
        await asyncio.sleep(0)  # a real await: the coroutine must be driven, not dropped
        self.ran.append((f"wake:{session_id}", asyncio.get_running_loop().time()))

    async def plan_upcoming(self) -> None:
        await asyncio.sleep(0)
        self.ran.append(("planner", asyncio.get_running_loop().time()))


@pytest.mark.parametrize(
    "shape",
    [
        "lambda returning a coroutine (runner: session alarm, retry; host reminder)",
        "bound coroutine method (planner)",
        "coroutine function",
    ],
)
async def test_every_callback_shape_is_awaited_when_its_time_comes(
    alarm: SchedulerAlarm, shape: str
) -> None:
    target = Target()
    session_id = 7
    callback: Wake
    if shape.startswith("lambda"):
        callback = lambda: target.wake(session_id)  # noqa: E731 - the runner's own shape
        expected = "wake:7"
    elif shape.startswith("bound"):
        callback = target.plan_upcoming
        expected = "planner"
    else:

        async def callback() -> None:
            await target.wake(session_id)

        expected = "wake:7"
    loop = asyncio.get_running_loop()
    set_at = loop.time()
    alarm.wake_at("job", datetime.now(UTC) + timedelta(milliseconds=300), callback)
    await wait_for(lambda: bool(target.ran))
    assert [name for name, _ in target.ran] == [expected]
    assert 0.25 <= target.ran[0][1] - set_at < 1.5  # at its time, not at once, not late


async def test_a_failing_wake_up_is_logged_with_its_job_and_later_ones_still_run(
    alarm: SchedulerAlarm, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("the store is locked")

    target = Target()
    soon = datetime.now(UTC) + timedelta(milliseconds=100)
    alarm.wake_at("session:3", soon, broken)
    alarm.wake_at("planner", soon + timedelta(milliseconds=200), target.plan_upcoming)
    await wait_for(lambda: bool(target.ran))
    assert "the wake-up session:3 failed" in caplog.text
    assert "the store is locked" in caplog.text


async def test_a_scaled_clock_fires_at_its_own_time_sooner_on_the_wall() -> None:
    STRAY.clear()
    start = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    clock = ScaledClock(start, speed=120)
    a = SchedulerAlarm(clock)
    a.start()
    seen: list[datetime] = []

    async def wake() -> None:
        seen.append(clock.now())

    try:
        a.wake_at("question", start + timedelta(minutes=1), wake)  # 0.5 s of real time
        assert a.next_wake("question") == clock.to_wall(start + timedelta(minutes=1))
        await wait_for(lambda: bool(seen))
    finally:
        a.shutdown()
        await next_loop_turn()
    assert start + timedelta(minutes=1) <= seen[0] < start + timedelta(minutes=3)


async def test_the_runner_posts_a_step_through_the_real_alarm_and_clock(tmp_path: Path) -> None:
    """The production pairing, with nothing driven by hand: the welcome goes out by itself."""
    clock = SystemClock()
    start = clock.now().replace(microsecond=0) + timedelta(seconds=2)
    config = chat_config(tmp_path, start=start)
    local = LocalPlatform(clock, admins=[MOD])
    alarm = SchedulerAlarm()
    alarm.start()
    app = App(config, platforms={"local": local}, clock=clock, alarm=alarm, serve_web=False)
    await app.start()
    try:
        await wait_for(lambda: bool(local.bot_posts("local:main")), seconds=10)
        welcome = local.bot_posts("local:main")[0]
        assert welcome.text.startswith("Welcome to the #hcsmeu chat")
        assert abs((welcome.sent_at - start).total_seconds()) < 1
    finally:
        alarm.shutdown()
        await app.stop()


# ManualAlarm --------------------------------------------------------------------------


class Log:
    """Records which job ran and what the clock said when it did."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.runs: list[tuple[str, datetime]] = []

    def job(self, name: str) -> Wake:
        async def wake() -> None:
            self.runs.append((name, self.clock.now()))

        return wake


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


async def test_manual_jobs_fire_in_time_order_with_the_clock_at_their_time() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)
    alarm.wake_at("q2", minutes(20), log.job("q2"))
    alarm.wake_at("welcome", minutes(0), log.job("welcome"))
    alarm.wake_at("q1", minutes(10), log.job("q1"))
    alarm.wake_at("closing", minutes(60), log.job("closing"))

    await alarm.run_until(minutes(30))
    assert log.runs == [("welcome", minutes(0)), ("q1", minutes(10)), ("q2", minutes(20))]
    assert clock.now() == minutes(30)

    await alarm.run_until(minutes(61))
    assert log.runs[-1] == ("closing", minutes(60))
    assert clock.now() == minutes(61)


async def test_manual_jobs_due_at_the_same_time_fire_in_the_order_they_were_set() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)
    for name in ("closing", "transcript"):
        alarm.wake_at(name, minutes(60), log.job(name))
    await alarm.run_until(minutes(60))
    assert [name for name, _ in log.runs] == ["closing", "transcript"]


async def test_a_replaced_manual_job_fires_once_at_its_new_time() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)
    alarm.wake_at("q1", minutes(10), log.job("old"))
    alarm.wake_at("q1", minutes(15), log.job("new"))
    alarm.wake_at("q2", minutes(5), log.job("q2-old"))
    alarm.wake_at("q2", minutes(5), log.job("q2-new"))  # same time, new callback
    await alarm.run_until(minutes(30))
    assert log.runs == [("q2-new", minutes(5)), ("new", minutes(15))]


async def test_a_cancelled_manual_job_never_fires() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)
    alarm.wake_at("q1", minutes(10), log.job("q1"))
    alarm.wake_at("q2", minutes(20), log.job("q2"))
    alarm.cancel("q1")
    alarm.cancel("not-a-job")
    await alarm.run_until(minutes(30))
    assert log.runs == [("q2", minutes(20))]
    assert alarm.next_time() is None


async def test_a_job_set_by_a_running_job_fires_in_the_same_run() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)

    async def reschedule() -> None:
        log.runs.append(("first", clock.now()))
        alarm.wake_at("second", clock.now() + timedelta(minutes=5), log.job("second"))

    alarm.wake_at("first", minutes(1), reschedule)
    await alarm.run_until(minutes(10))
    assert log.runs == [("first", minutes(1)), ("second", minutes(6))]


async def test_run_until_ends_at_until_and_leaves_later_jobs_waiting() -> None:
    clock = ManualClock(T0)
    alarm = ManualAlarm(clock)
    log = Log(clock)
    alarm.wake_at("later", minutes(45), log.job("later"))
    await alarm.run_until(minutes(44))
    assert log.runs == []
    assert clock.now() == minutes(44)
    assert alarm.next_time() == minutes(45)
    await alarm.run_until(minutes(45))
    assert log.runs == [("later", minutes(45))]
    assert clock.now() == minutes(45)
