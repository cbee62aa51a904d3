"""Fixtures of the Mastodon tests, imported by their modules: one stand-in server for
the whole run (its first requests are slow), reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from tests.conftest import START
from tests.fakes.mastodon_server import MastodonStandIn, stand_in


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START - timedelta(hours=2))


@pytest.fixture(scope="session")
def streaming_server() -> Iterator[MastodonStandIn]:
    with stand_in() as s:
        yield s


@pytest.fixture
def server(streaming_server: MastodonStandIn, clock: ManualClock) -> MastodonStandIn:
    streaming_server.reset(clock.now)
    return streaming_server
