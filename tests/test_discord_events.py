"""The Events tab of a Discord server: one event per chat, whatever the day or channels."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PARIS, START, Chat
from tests.fakes.discord_harness import Server, server
from tests.fakes.discord_world import Payload

__all__ = ["server"]  # fixtures

EVENING = START + timedelta(hours=5)
SECOND_CHAT = f"""
[[communities.sessions]]
id = "march-evening"
at = {EVENING.astimezone(PARIS).replace(tzinfo=None).isoformat()}
duration = "60m"
agenda = "agenda.toml"
"""
SCHEDULED, CANCELLED = 1, 4


@pytest.fixture
async def day(server: Server, tmp_path: Path) -> AsyncIterator[Chat]:
    """Two chats on March 4th, each run in two channels of the same server."""
    channels = (f"discord:{server.chat}", f"discord:{server.threaded}")
    c = server.adapter(tmp_path, channels, extra=SECOND_CHAT)
    await c.boot()
    yield c
    if c.app is not None:
        await c.stop()


def by_start(standin: Server) -> dict[datetime, Payload]:
    """The events still to come (not cancelled), by their start."""
    return {datetime.fromisoformat(e["scheduled_start_time"]): e
            for e in standin.world.events.values() if e["status"] == SCHEDULED}  # fmt: skip


async def test_two_chats_on_one_day_get_one_event_each_in_the_server(
    server: Server,
    day: Chat,
) -> None:
    listed = by_start(server)
    assert sorted(listed) == [START, EVENING]  # neither overwrote the other
    assert len(server.world.events) == 2  # not one per channel
    assert day.app is not None
    await day.app.plan_upcoming()  # the hourly replan
    assert by_start(server).keys() == listed.keys()
    assert len(server.world.events) == 2


async def test_listings_of_an_older_version_are_kept_once_not_listed_again(
    server: Server,
    day: Chat,
) -> None:
    """Older versions listed a chat once per channel, keyed by the day's slug: after an
    upgrade one of those events stays (people who follow it keep it), the other goes."""
    assert day.app is not None
    store, world, guild = day.app.store, server.world, server.world.guild_id
    world.events.clear()
    await store.set_cursor("discord", f"events:guild:{guild}", "{}")
    request = {"name": "Patients as partners", "scheduled_start_time": START.isoformat(),
               "scheduled_end_time": (START + timedelta(hours=1)).isoformat(),
               "privacy_level": 2, "entity_type": 3}  # fmt: skip
    kept = world.scheduled_event(request, world.bot.id)
    duplicate = world.scheduled_event(request, world.bot.id)
    for channel, event in ((server.chat, kept), (server.threaded, duplicate)):
        old = json.dumps({"hcsmeu/2026-03-04": int(event["id"])})
        await store.set_cursor("discord", f"events:{channel}", old)

    await day.app.plan_upcoming()

    assert kept["status"] == SCHEDULED
    assert duplicate["status"] == CANCELLED
    listed = by_start(server)
    assert sorted(listed) == [START, EVENING]
    assert listed[START] is kept  # not a new one beside it
    assert await store.cursor("discord", f"events:{server.chat}") == "{}"
