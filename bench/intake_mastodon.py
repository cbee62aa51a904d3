"""Mastodon's two ways in for bench/intake.py: streaming (the hashtag's stream) and polling
(the hashtag's timeline paged with ``min_id``), on the stand-in's preloaded statuses
(tests/fakes/mastodon_preload.py). The bare sides are Mastodon.py alone, with a handler
that only counts: ``stream_hashtag`` with a StreamListener on its own thread, and
``timeline_hashtag`` pages in a loop, as fast as each page comes back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

TAG = "benchchat"
STREAM_KEY = f"tag:{TAG}"


def preload(texts: list[str]) -> Callable[[dict[str, Any], int], dict[str, Any]]:
    return lambda info, n: {"count": n, "texts": texts, "tag": TAG}


def _client(info: dict[str, Any]) -> Any:
    from mastodon import Mastodon

    return Mastodon(
        access_token=str(info["bot_token"]),
        api_base_url=str(info["base_url"]),
        ratelimit_method="throw",
        version_check_mode="none",
    )


async def bare_polling(
    info: dict[str, Any], n: int, preload: Callable[[], Awaitable[None]]
) -> float:
    mastodon = _client(info)
    newest = mastodon.timeline_hashtag(TAG, limit=1)
    cursor = str(newest[0]["id"]) if newest else "0"
    await preload()
    seen = 0
    while seen < n:
        page = mastodon.timeline_hashtag(TAG, min_id=cursor, limit=40)
        for _status in page:
            seen += 1
        if page:
            cursor = str(max(int(s["id"]) for s in page))
    return time.perf_counter()


async def bare_streaming(
    info: dict[str, Any], n: int, preload: Callable[[], Awaitable[None]]
) -> float:
    from mastodon.streaming import StreamListener

    connected, done = threading.Event(), threading.Event()
    seen, marks = [0], []

    class Counting(StreamListener):
        def handle_heartbeat(self) -> None:
            connected.set()

        def on_update(self, status: Any) -> None:
            seen[0] += 1
            if seen[0] == n:
                marks.append(time.perf_counter())
                done.set()

    handle = _client(info).stream_hashtag(TAG, Counting(), run_async=True)
    try:
        if not await asyncio.to_thread(connected.wait, 30):
            raise RuntimeError("the hashtag's stream did not open")
        await preload()
        if not await asyncio.to_thread(done.wait, 600):
            raise RuntimeError(f"{seen[0]} of {n} statuses streamed")
    finally:
        handle.close()
    return marks[0]


def config(streaming: bool) -> Callable[[dict[str, Any]], tuple[str, str, dict[str, str]]]:
    def make(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
        toml = (
            f'[platforms.mastodon]\ntoken_env = "BENCH_MD"\napi_base_url = "{info["base_url"]}"\n'
            f"streaming = {'true' if streaming else 'false'}\n"
        )
        return toml, f"mastodon:{TAG}", {"BENCH_MD": str(info["bot_token"])}

    return make


def stream_live(platform: Any) -> bool:
    """The hashtag's stream is connected and has taken over from the catching-up poll."""
    source = platform.reading.sources.get(STREAM_KEY)
    return STREAM_KEY in platform.reading._live and source is not None and source.synced


def poll_now(platform: Any) -> None:
    """Start the next poll at once (as after a dropped stream), not after the interval:
    the statuses are there, the bench times how fast they are read, not the interval."""
    platform.reading._wake.set()
