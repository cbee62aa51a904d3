"""The community's feeds as subscribers' software reads them: the calendar parsed by the
``icalendar`` library (times in the community's zone, stable UIDs, SEQUENCE after a move,
CANCELLED after a skip, the transcript link once published), the Atom feed by
``feedparser``, and the JSON, all from a real config and a real store file."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from icalendar import Calendar

from bot.config import Config, parse_config
from bot.site.feeds import FeedScope, atom_feed, calendar_event, calendar_feed, chats_json
from bot.store import Store
from bot.store.backend import Location
from bot.store.replanning import drop_planned
from bot.timeline import SessionPlan, plan_steps
from tests.browser.seed import PastChat, Said, seed
from tests.conftest import AGENDA

PARIS = ZoneInfo("Europe/Paris")
VANCOUVER = ZoneInfo("America/Vancouver")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)  # a Monday; chats are on Wednesdays
URL = "https://chats.example.org"


def config(tmp: Path, *, at: str = "13:00", skip: str = "", series: bool = True) -> Config:
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    weekly = f"""
[[communities.series]]
id = "weekly"
schedule = "every wednesday at {at}"
agenda = "agenda.toml"
{f"skip = [{skip}]" if skip else ""}
"""
    text = f"""
[bot]
database = "site.db"
transcripts_dir = "pages"
public_url = "{URL}"

[[communities]]
id = "hcsmeu"
name = "Healthcare social media Europe"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
channels = ["local:main"]
{weekly if series else ""}
"""
    return parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)


@pytest.fixture
async def store(db_location: Location) -> AsyncIterator[Store]:
    """On each backend: the calendar's sequences are stored rows."""
    s = await Store.open(db_location)
    yield s
    await s.close()


def scope(cfg: Config, store: Store, now: datetime = NOW) -> FeedScope:
    return FeedScope(
        config=cfg,
        community=cfg.communities[0],
        store=store,
        now=now,
        where=("Mastodon #hcsmeu: https://mastodon.example/tags/hcsmeu",),
    )


def events(text: str) -> dict[str, Any]:
    """The calendar's events by UID, as a calendar application reads them."""
    calendar = Calendar.from_ical(text)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def wednesday(day: int) -> str:
    return f"weekly-2026-03-{day:02d}@hcsmeu.hashchat"


async def test_times_are_the_communitys_wall_times_with_its_zone(
    tmp_path: Path, store: Store
) -> None:
    text = await calendar_feed(scope(config(tmp_path), store))
    calendar = Calendar.from_ical(text)
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    first = events(text)[wednesday(4)]
    start = first.decoded("dtstart")
    assert start == datetime(2026, 3, 4, 13, 0, tzinfo=PARIS)
    assert str(first["dtstart"].params["TZID"]) == "Europe/Paris"
    assert first.decoded("dtend") - start == timedelta(hours=1)
    # The same instant, as a reader's calendar in Vancouver shows it.
    assert start.astimezone(VANCOUVER).strftime("%H:%M") == "04:00"
    assert str(first["summary"]) == "#hcsmeu: Patients as partners"
    assert "Co-design in digital health" in str(first["description"])
    assert "https://mastodon.example/tags/hcsmeu" in str(first["description"])
    assert str(first["status"]) == "CONFIRMED"
    assert "\r\n" in text


async def test_uids_and_sequences_hold_across_renders_and_a_restart(
    tmp_path: Path, store: Store
) -> None:
    cfg = config(tmp_path)
    first = events(await calendar_feed(scope(cfg, store)))
    second = events(await calendar_feed(scope(cfg, store, NOW + timedelta(minutes=5))))
    async with reopened(store.path) as again:
        third = events(await calendar_feed(scope(cfg, again)))
    assert list(first) == list(second) == list(third)
    assert len(first) == 6
    assert {int(e["sequence"]) for e in third.values()} == {0}


@contextlib.asynccontextmanager
async def reopened(where: Location) -> AsyncIterator[Store]:
    """A second connection to the same database, as a restarted bot opens it."""
    s = await Store.open(where)
    try:
        yield s
    finally:
        await s.close()


async def test_a_chat_moved_to_another_hour_keeps_its_uid_and_raises_its_sequence(
    tmp_path: Path, store: Store
) -> None:
    await calendar_feed(scope(config(tmp_path), store))
    async with reopened(store.path) as restarted:
        moved = events(await calendar_feed(scope(config(tmp_path, at="14:30"), restarted)))
        again = events(await calendar_feed(scope(config(tmp_path, at="14:30"), restarted)))
    event = moved[wednesday(4)]
    assert event.decoded("dtstart") == datetime(2026, 3, 4, 14, 30, tzinfo=PARIS)
    assert int(event["sequence"]) == 1
    assert int(again[wednesday(4)]["sequence"]) == 1  # no move since: no new sequence


async def test_a_stored_chat_replanned_to_a_new_time_raises_its_sequence(
    tmp_path: Path, store: Store
) -> None:
    cfg = config(tmp_path)
    plan = stored_plan(datetime(2026, 3, 4, 13, 0, tzinfo=PARIS))
    session_id = await store.ensure_session(plan, plan_steps(plan), NOW)
    before = events(await calendar_feed(scope(cfg, store)))[wednesday(4)]
    # What the planner does when the files move the chat: drop it, store the new one.
    assert await drop_planned(store.db, session_id)
    later = stored_plan(datetime(2026, 3, 4, 15, 0, tzinfo=PARIS))
    await store.ensure_session(later, plan_steps(later), NOW)
    after = events(await calendar_feed(scope(cfg, store)))[wednesday(4)]
    assert int(before["sequence"]) == 0
    assert after.decoded("dtstart") == datetime(2026, 3, 4, 15, 0, tzinfo=PARIS)
    assert int(after["sequence"]) == 1


def stored_plan(start: datetime) -> SessionPlan:
    return SessionPlan(
        community="hcsmeu",
        series="weekly",
        slug="hcsmeu/2026-03-04",
        title="Patients as partners",
        topic="Co-design in digital health",
        hashtag="#hcsmeu",
        locale="en",
        timezone="Europe/Paris",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        channels=("local:main",),
    )


async def test_a_skipped_date_is_a_cancelled_event_at_the_time_it_would_have_been(
    tmp_path: Path, store: Store
) -> None:
    found = events(await calendar_feed(scope(config(tmp_path, skip="2026-03-11"), store)))
    skipped = found[wednesday(11)]
    assert str(skipped["status"]) == "CANCELLED"
    assert skipped.decoded("dtstart") == datetime(2026, 3, 11, 13, 0, tzinfo=PARIS)
    assert "cancelled" in str(skipped["description"])
    assert str(skipped["summary"]) == "#hcsmeu: Patients as partners"  # as its agenda says
    assert str(found[wednesday(18)]["status"]) == "CONFIRMED"


async def test_a_date_skipped_after_it_was_published_is_cancelled_with_a_new_sequence(
    tmp_path: Path, store: Store
) -> None:
    await calendar_feed(scope(config(tmp_path), store))
    found = events(await calendar_feed(scope(config(tmp_path, skip="2026-03-11"), store)))
    assert str(found[wednesday(11)]["status"]) == "CANCELLED"
    assert int(found[wednesday(11)]["sequence"]) == 1


async def test_a_chat_removed_from_the_plan_stays_in_the_feed_as_cancelled(
    tmp_path: Path, store: Store
) -> None:
    await calendar_feed(scope(config(tmp_path), store))
    found = events(await calendar_feed(scope(config(tmp_path, series=False), store)))
    assert found, "the chats subscribers were told of must not silently vanish"
    assert {str(e["status"]) for e in found.values()} == {"CANCELLED"}
    assert {int(e["sequence"]) for e in found.values()} == {1}


async def published_chat(tmp_path: Path, store: Store) -> str:
    chat = PastChat(
        community="hcsmeu",
        hashtag="#hcsmeu",
        timezone="Europe/Paris",
        starts_at=datetime(2026, 2, 25, 13, 0, tzinfo=PARIS),
        title="Patients as partners",
        topic="Co-design in digital health",
        questions=("What does partnership mean to you?",),
        said=(Said("Ann", "A1: sharing decisions", 11, frozenset({1})),),
    )
    (url,) = await seed(store.path, tmp_path / "pages", URL, [chat])
    return url


async def test_a_published_chat_links_its_transcript(tmp_path: Path, store: Store) -> None:
    url = await published_chat(tmp_path, store)
    assert url == f"{URL}/hcsmeu/2026-02-25/"
    found = events(await calendar_feed(scope(config(tmp_path), store)))
    past = found["weekly-2026-02-25@hcsmeu.hashchat"]
    assert str(past["url"]) == url
    assert f"Transcript: {url}" in str(past["description"])
    assert str(found[wednesday(4)]["url"]) == f"{URL}/hcsmeu/"  # not yet: the site


async def test_one_chats_file_holds_that_chat_only(tmp_path: Path, store: Store) -> None:
    s = scope(config(tmp_path), store)
    text = await calendar_event(s, wednesday(11))
    assert text is not None
    assert list(events(text)) == [wednesday(11)]
    assert await calendar_event(s, "weekly-2031-01-01@hcsmeu.hashchat") is None


async def test_the_atom_feed_lists_published_transcripts_newest_first(
    tmp_path: Path, store: Store
) -> None:
    url = await published_chat(tmp_path, store)
    later = PastChat(
        community="hcsmeu",
        hashtag="#hcsmeu",
        timezone="Europe/Paris",
        starts_at=datetime(2026, 3, 4, 13, 0, tzinfo=PARIS),
        title="Tools we trust <b>",
        questions=("Which tool?",),
    )
    (newer,) = await seed(store.path, tmp_path / "pages", URL, [later])
    feed = feedparser.parse(await atom_feed(scope(config(tmp_path), store, NOW + timedelta(7))))
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.title == "Healthcare social media Europe: chat transcripts"
    assert [e.link for e in feed.entries] == [newer, url]
    assert feed.entries[0].title == "March 4, 2026: Tools we trust <b>"
    assert feed.entries[1].summary == "Co-design in digital health"
    assert feed.feed.links[0].href == f"{URL}/hcsmeu/feed.atom"


async def test_the_json_has_the_coming_and_the_published_chats(
    tmp_path: Path, store: Store
) -> None:
    url = await published_chat(tmp_path, store)
    data = json.loads(await chats_json(scope(config(tmp_path, skip="2026-03-11"), store)))
    assert data["version"] == 1
    assert data["community"]["calendar"] == f"{URL}/hcsmeu/calendar.ics"
    coming = data["coming"]
    assert coming[0]["starts_at"] == "2026-03-04T13:00:00+01:00"
    assert coming[0]["calendar"] == f"{URL}/hcsmeu/calendar/{wednesday(4)}.ics"
    assert [c["status"] for c in coming[:2]] == ["planned", "cancelled"]
    assert [p["transcript"] for p in data["published"]] == [url]
    assert date.fromisoformat(coming[-1]["starts_at"][:10]) > date(2026, 4, 1)
