"""The Bluesky stand-in as its own process (tests/fakes/bluesky_process.py), driven
through its loopback control API: participants post (with the chat's hashtag, or as a
reply), and delete; what the bot posted is read back with the time the stand-in took
it. The bot reads through Jetstream (``/subscribe``) and the XRPC API, via ``atproto``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.driver import Features, Post
from tests.e2e.process import StandinDriver, start_standin

HASHTAG = "e2echat"  # as the suite's community (tests/e2e/harness.py) names it
PASSWORD_ENV = "HASHCHAT_E2E_BLUESKY_APP_PASSWORD"


class BlueskyDriver(StandinDriver):
    name = "bluesky"
    # Bluesky has no edits; deletions come through Jetstream; a resend after a crash
    # first looks for the post in the bot's own feed, so it is not posted twice.
    features = Features(reply=True, thread=False, edit=False, delete=True, idempotent_send=True)
    channel = f"bluesky:{HASHTAG}"
    moderator_channel: str | None = None  # Bluesky has no private channel for notices
    # Seconds of start-up beyond the other platforms' (tests/e2e/harness.py's LEAD):
    # importing the atproto SDK builds its ~700 models, 1-3 s on a busy 2-core machine.
    start_up_extra = 3.0

    def __init__(self) -> None:
        self.url = ""
        self.handle = ""
        self.password = ""
        self.log: Path | None = None

    async def start(self, workdir: Path) -> None:
        self._child, described = await start_standin(
            "tests.fakes.bluesky_process", workdir, "bluesky", "--port", "0"
        )
        self.log = self._child.log
        self.url = described["base_url"]
        self.handle = described["handle"]
        self.password = described["app_password"]
        self._http = aiohttp.ClientSession(base_url=self.url)

    def config(self) -> str:
        jetstream = self.url.replace("http://", "ws://")
        return (
            "[platforms.bluesky]\n"
            f'token_env = "{PASSWORD_ENV}"\n'
            f'handle = "{self.handle}"\n'
            f'service = "{self.url}"\n'
            f'jetstream = "{jetstream}"\n'
            "request_timeout = 5\n"
        )

    def env(self) -> dict[str, str]:
        return {PASSWORD_ENV: self.password}

    async def posts(self) -> list[Post]:
        found = (await self._request("GET", "/_control/posts"))["posts"]
        return [self._post(p) for p in found]

    def _post(self, raw: dict[str, Any]) -> Post:
        return Post(
            id=raw["uri"],
            channel=self.channel,
            text=raw["text"],
            at=datetime.fromtimestamp(raw["time_us"] / 1e6, tz=UTC),
            reply_to=raw["reply_parent"],
            deleted=raw["deleted"],
        )

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        """A post with the hashtag (added at the end: the bot leaves a trailing chat
        hashtag out of what it records), or a reply to a post without it. Bluesky has no
        threads apart from replies, so ``thread`` is a reply to that post too."""
        body: dict[str, Any] = {"who": who, "text": text}
        if reply_to or thread:
            body["reply_to"] = reply_to or thread
        elif f"#{HASHTAG}" not in text.casefold():
            body["text"] = f"{text} #{HASHTAG}"
        return str((await self._request("POST", "/_control/posts", body))["uri"])

    async def edit(self, who: str, message_id: str, text: str) -> None:
        raise NotImplementedError("Bluesky has no edits")

    async def delete(self, who: str, message_id: str) -> None:
        await self._request("DELETE", "/_control/posts", {"uri": message_id})

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        await self.settings(fail_ratio=ratio, fail_statuses=list(statuses))

    async def settings(self, **switches: Any) -> None:
        """Any switch of the stand-in (see tests/fakes/bluesky_control.py)."""
        await self._request("POST", "/_control/settings", switches)

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        assert self._http is not None, "start() first"
        async with self._http.request(method, path, json=body) as answer:
            data = await answer.json()
            if answer.status >= 400:
                raise AssertionError(f"{method} {path}: {answer.status} {data}")
            return data


def make_driver() -> BlueskyDriver:
    return BlueskyDriver()
