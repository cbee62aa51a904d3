"""The schedule's exceptions: a skip the planner drops at once, a move, a one-off added,
each on the console's schedule and coming-chats pages, audited, refused without CSRF."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.planning import upcoming
from bot.schedule_exceptions import apply_exceptions
from bot.store import Store
from bot.store.backend import Location
from bot.store.schedule_exceptions import Kind, ScheduleException, ScheduleExceptions
from tests.conftest import PARIS, START, Chat, chat_config
from tests.console_site import Browser, console_chat
from tests.test_check_replans import SOON, store_as_the_bot_did, write_config

NOW = START - timedelta(hours=2)


@pytest.fixture
async def site(tmp_path: Path, db_location: Location) -> AsyncIterator[tuple[Chat, Browser]]:
    """On each backend: the moderation pages and schedule exceptions are stored rows."""
    async for pair in console_chat(tmp_path, database=str(db_location)):
        yield pair


async def planned(chat: Chat) -> list[tuple[str, str]]:
    assert chat.app is not None
    rows = await chat.app.store.open_sessions()
    return sorted(
        (r.plan.series, f"{r.plan.starts_at.astimezone(PARIS):%m-%d %H:%M}")
        for r in rows
        if r.plan.community == "hcsmeu"
    )


def chat_value(body: str, label_part: str) -> str:
    found = re.findall(r'<option value="([^"]+)">([^<]*)</option>', body)
    return next(value for value, label in found if label_part in label)


async def test_a_skip_drops_the_planned_chat_at_once(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    assert await planned(chat) == [("march", "03-04 13:00")]
    _, body = await browser.get("/console/hcsmeu/schedule")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    assert csrf
    form = {"csrf": csrf[1], "chat": chat_value(body, "march")}
    status, body, _ = await browser.post("/console/hcsmeu/schedule/skip", form)
    assert status == 200
    assert "march: the chat of" in body
    assert "is skipped" in body
    assert await planned(chat) == []
    # The moderators hear of it; nothing of the chat is posted at its time.
    await chat.at(15)
    assert any("will not run" in p for p in chat.posts("local:mods"))
    assert chat.posts() == []
    _, coming = await browser.get("/console/hcsmeu/")
    assert "Exceptions to the schedule" in coming
    assert "is skipped" in coming
    assert chat.app is not None
    [entry] = [
        a for a in await chat.app.store.audit.recent("hcsmeu") if a.action != "console login"
    ]
    assert (entry.action, entry.actor) == ("schedule skip", "local:mod")


async def test_skipping_an_announced_chat_tells_the_channel(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    await chat.at(-30)  # its reminder is out
    assert len(chat.posts()) == 1
    _, body = await browser.get("/console/hcsmeu/schedule")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    assert csrf
    await browser.post(
        "/console/hcsmeu/schedule/skip", {"csrf": csrf[1], "chat": chat_value(body, "march")}
    )
    assert chat.posts()[-1].startswith("“Patients as partners” of ")
    assert chat.posts()[-1].endswith("is cancelled.")


async def test_move_then_undo(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    _, body = await browser.get("/console/hcsmeu/schedule")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    assert csrf
    form = {"csrf": csrf[1], "chat": chat_value(body, "march"), "at": "2026-03-05T18:30"}
    status, body, _ = await browser.post("/console/hcsmeu/schedule/move", form)
    assert status == 200
    assert "moves to" in body
    assert await planned(chat) == [("march", "03-05 18:30")]
    [undo] = re.findall(r'name="id" value="(\d+)"', body)
    _, body, _ = await browser.post(
        "/console/hcsmeu/schedule/remove", {"csrf": csrf[1], "id": undo}
    )
    assert "The exception is undone." in body
    assert await planned(chat) == [("march", "03-04 13:00")]
    # A time gone by is refused, with nothing changed.
    form["at"] = "2020-01-01T10:00"
    status, body, _ = await browser.post("/console/hcsmeu/schedule/move", form)
    assert status == 422
    assert await planned(chat) == [("march", "03-04 13:00")]


async def test_an_added_chat_runs_after_a_skip(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    _, body = await browser.get("/console/hcsmeu/schedule")
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    assert csrf
    add = {"csrf": csrf[1], "series": "march", "at": "2026-03-06T10:00"}
    status, body, _ = await browser.post("/console/hcsmeu/schedule/add", add)
    assert status == 200
    assert "an extra chat on" in body
    skip = {"csrf": csrf[1], "chat": chat_value(body, "Mar 4")}
    await browser.post("/console/hcsmeu/schedule/skip", skip)
    assert await planned(chat) == [("march", "03-06 10:00")]


async def test_exceptions_are_refused_without_csrf_and_to_others(
    site: tuple[Chat, Browser],
) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    _, body = await browser.get("/console/hcsmeu/schedule")
    status, _, _ = await browser.post(
        "/console/hcsmeu/schedule/skip", {"chat": chat_value(body, "march")}
    )
    assert status == 403
    assert await planned(chat) == [("march", "03-04 13:00")]
    await browser.log_in("local:boss")
    status, _ = await browser.get("/console/hcsmeu/schedule")
    assert status == 403


def test_a_skipped_week_gives_way_to_the_next(tmp_path: Path) -> None:
    weekly = """
[[communities.series]]
id = "weekly"
schedule = "0 15 * * 3"
duration = "60m"
agenda = "agenda.toml"
"""
    config = chat_config(tmp_path, extra=weekly)
    first = upcoming(config, NOW, 3)
    weeks = [u.starts_at for u in first if u.series_id == "weekly"]
    skip = ScheduleException(1, "hcsmeu", "weekly", "skip", weeks[0], None, "local:mod", NOW)
    moved = weeks[1] + timedelta(hours=2)
    move = ScheduleException(2, "hcsmeu", "weekly", "move", weeks[1], moved, "local:mod", NOW)
    kept = apply_exceptions(config, first, [skip], NOW, 1)
    assert [u.starts_at for u in kept if u.series_id == "weekly"] == [weeks[1]]
    kept = apply_exceptions(config, first, [skip, move], NOW, 2)
    assert [u.starts_at for u in kept if u.series_id == "weekly"] == [moved, weeks[2]]


def test_check_and_schedule_show_the_exceptions(tmp_path: Path) -> None:
    """``check`` beside the bot's database lists the console's exceptions, and its preview
    of the next planner pass applies them (a skipped chat will be dropped)."""
    path = write_config(tmp_path)
    asyncio.run(store_as_the_bot_did(path))
    friday, monday = SOON, SOON + timedelta(days=3)
    asyncio.run(add_exception(path, "friday", "move", friday, friday + timedelta(hours=3)))
    asyncio.run(add_exception(path, "monday", "skip", monday, None))
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    moved = f"{friday + timedelta(hours=3):%a %Y-%m-%d %H:%M} UTC"
    assert f"exception: hcsmeu/friday: moves {friday:%a %Y-%m-%d %H:%M} UTC to {moved}" in (
        result.output
    )
    assert f"exception: hcsmeu/monday: skips {monday:%a %Y-%m-%d %H:%M} UTC" in result.output
    assert f"hcsmeu/monday {monday.date()}: will be dropped" in result.output
    result = CliRunner().invoke(main, ["schedule", "--config", str(path)])
    assert "exception: hcsmeu/friday: moves" in result.output


async def add_exception(
    path: Path, series: str, kind: Kind, old: datetime, new: datetime | None
) -> None:
    config = load_config(path)
    store = await Store.open(config.resolve(config.bot.database))
    try:
        await ScheduleExceptions(store.db).add(
            "hcsmeu", series, kind, starts_at=old, new_start=new, by="local:mod", at=NOW
        )
    finally:
        await store.close()
