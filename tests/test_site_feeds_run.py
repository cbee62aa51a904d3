"""The feeds served by the real ``hashchat run`` process: a subscriber's calendar fetches
``/<community>/calendar.ics``, and after the moderators move the chat and restart the
bot, the same event comes back with a higher SEQUENCE."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import feedparser
from icalendar import Calendar

from tests.bot_process import BotProcess, free_port, until
from tests.browser.seed import PastChat, Said, seed
from tests.conftest import AGENDA

PARIS = ZoneInfo("Europe/Paris")


def write_config(tmp: Path, port: int, at: str) -> Path:
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    path = tmp / "hashchat.toml"
    path.write_text(
        f"""
[bot]
database = "run.db"
transcripts_dir = "pages"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}

[[communities]]
id = "hcsmeu"
name = "Healthcare social media Europe"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
channels = ["local:hcsmeu"]

[[communities.series]]
id = "weekly"
schedule = "every sunday at {at}"
agenda = "agenda.toml"
""",
        encoding="utf-8",
    )
    return path


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_the_running_bot_serves_its_calendar_and_a_move_raises_the_sequence(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/hcsmeu"
    last_week = datetime.now(PARIS).replace(hour=13, minute=0, second=0, microsecond=0)
    last_week -= timedelta(days=7)
    past = PastChat(
        community="hcsmeu",
        hashtag="#hcsmeu",
        timezone="Europe/Paris",
        starts_at=last_week,
        series="weekly-old",
        title="Patients as partners",
        questions=("What does partnership mean to you?",),
        said=(Said("Ann", "A1: sharing decisions", 11, frozenset({1})),),
    )
    (transcript,) = await seed(
        tmp_path / "run.db", tmp_path / "pages", f"http://127.0.0.1:{port}", [past]
    )

    async with BotProcess(write_config(tmp_path, port, "13:00")) as bot:
        await bot.started()
        async with aiohttp.ClientSession() as http:
            status, kind, body = await fetch(http, f"{base}/calendar.ics")
            assert (status, kind) == (200, "text/calendar; charset=utf-8"), body
            first = {str(e["uid"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
            coming = [e for e in first.values() if e.decoded("dtstart") > datetime.now(PARIS)]
            uid = str(min(coming, key=lambda e: e.decoded("dtstart"))["uid"])
            start = first[uid].decoded("dtstart")
            assert (start.hour, start.minute, str(start.tzinfo)) == (13, 0, "Europe/Paris")
            assert str(first[f"weekly-old-{last_week.date()}@hcsmeu.hashchat"]["url"]) == (
                transcript
            )

            status, _, one = await fetch(http, f"{base}/calendar/{uid}.ics")
            assert status == 200
            assert [str(e["uid"]) for e in Calendar.from_ical(one).walk("VEVENT")] == [uid]
            status, _, _ = await fetch(http, f"{base}/calendar/nothing@hcsmeu.hashchat.ics")
            assert status == 404

            status, kind, atom = await fetch(http, f"{base}/feed.atom")
            assert (status, kind) == (200, "application/atom+xml; charset=utf-8")
            assert [e.link for e in feedparser.parse(atom).entries] == [transcript]
            status, kind, _ = await fetch(http, f"{base}/chats.json")
            assert (status, kind) == (200, "application/json; charset=utf-8")
        assert await bot.stop() == 0

    # The moderators move the chat to 15:30 and restart the bot (which first tells them,
    # on the local platform's stdout, that the 13:00 chat will not run).
    async with BotProcess(write_config(tmp_path, port, "15:30")) as bot:
        await until(lambda: bot.out.has("hashchat is running"), "the bot running again")
        async with aiohttp.ClientSession() as http:
            _, _, body = await fetch(http, f"{base}/calendar.ics")
        assert await bot.stop() == 0
    moved = {str(e["uid"]): e for e in Calendar.from_ical(body).walk("VEVENT")}[uid]
    assert moved.decoded("dtstart") == start.replace(hour=15, minute=30)
    assert int(moved["sequence"]) == int(first[uid]["sequence"]) + 1
