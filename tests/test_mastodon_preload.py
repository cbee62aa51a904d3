"""The Mastodon stand-in's preload (bench/intake.py reads it): N statuses under a hashtag,
read through Mastodon.py as it pages a timeline and as it streams, each once, in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mastodon.streaming import StreamListener

from tests.fakes.mastodon_control import control_app
from tests.fakes.mastodon_server import TOKENS, MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]
TEXTS = ["involving patients changes what gets built", "A1: trust comes first"]


@pytest.fixture
def controlled(server: MastodonStandIn) -> Iterator[MastodonStandIn]:
    server.controls.control = control_app(server.controls, dict(TOKENS))
    yield server
    server.controls.control = None


def preload(server: MastodonStandIn, count: int) -> None:
    body = {"count": count, "texts": TEXTS, "tag": "benchchat"}
    answer = requests.post(f"{server.base_url}/_control/preload", json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def test_the_hashtag_timeline_pages_through_every_preloaded_status_once(
    controlled: MastodonStandIn,
) -> None:
    reader = controlled.client("bob")
    preload(controlled, 95)
    newest = reader.timeline_hashtag("benchchat", limit=5)
    assert newest[0]["content"] == f"<p>{TEXTS[0]} #benchchat</p>"  # the 95th: texts in turn
    seen: list[int] = []
    cursor = "0"
    while page := reader.timeline_hashtag("benchchat", min_id=cursor, limit=40):
        ids = [int(s["id"]) for s in page]
        assert ids == sorted(ids, reverse=True)  # newest first, as Mastodon answers
        seen += reversed(ids)
        cursor = str(max(ids))
    assert len(seen) == 95
    assert seen == sorted(set(seen))


def test_an_open_hashtag_stream_receives_every_preloaded_status_in_order(
    controlled: MastodonStandIn,
) -> None:
    connected, done = threading.Event(), threading.Event()
    texts: list[str] = []

    class Listener(StreamListener):
        def handle_heartbeat(self) -> None:
            connected.set()

        def on_update(self, status: Any) -> None:
            texts.append(str(status["content"]))
            if len(texts) == 60:
                done.set()

    handle = controlled.client("bob").stream_hashtag("benchchat", Listener(), run_async=True)
    try:
        assert connected.wait(10)
        preload(controlled, 60)
        deadline = time.monotonic() + 20
        while not done.is_set() and time.monotonic() < deadline:
            done.wait(0.05)
        assert len(texts) == 60
        assert texts[:2] == [f"<p>{t} #benchchat</p>" for t in TEXTS]
    finally:
        handle.close()
