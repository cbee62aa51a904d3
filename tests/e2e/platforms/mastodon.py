"""The Mastodon stand-in as its own process (tests/fakes/mastodon_process.py), driven
through its loopback control API: participants post, reply, edit and delete with their
own accounts; what the bot posted is read back with the time the server took it.

The server's name includes its port (``127.0.0.1:<port>``), as a self-hosted server's
may, so every run also proves that such accounts work as moderators."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiohttp

from tests.bot_process import free_port
from tests.e2e.driver import Features, Post
from tests.e2e.process import StandinDriver, start_standin

BOT = "hashchat"  # the bot's account on the stand-in
HASHTAG = "e2echat"  # as the suite's community (tests/e2e/harness.py) names it
MODERATOR = "alice"
TOKEN_ENV = "HASHCHAT_E2E_MASTODON_TOKEN"


class MastodonDriver(StandinDriver):
    name = "mastodon"
    # Edits and deletions arrive by stream or by re-reading; a resend after a crash first
    # looks for the post among the bot's own statuses, so it is not posted twice.
    features = Features(reply=True, thread=False, edit=True, delete=True, idempotent_send=True)
    channel = f"mastodon:{HASHTAG}"

    def __init__(
        self, *, direct_moderators: bool = True, address: Literal["mention", "hashtag"] = "hashtag"
    ) -> None:
        self.address = address
        self.port = free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.moderator = f"{MODERATOR}@{self.domain}"
        # Direct messages to the moderator: where notices go, kept out of the hashtag.
        self.moderator_channel: str | None = (
            f"mastodon:@{self.moderator}" if direct_moderators else None
        )
        self.token = ""
        self.log: Path | None = None
        self._addressed_ids: set[str] = set()  # posts say() addressed to the chat

    async def start(self, workdir: Path) -> None:
        self._child, described = await start_standin(
            "tests.fakes.mastodon_process", workdir, "mastodon",
            "--port", str(self.port), "--domain", self.domain,
        )  # fmt: skip
        self.log = self._child.log
        self.token = described["bot_token"]
        self._http = aiohttp.ClientSession(base_url=self.url)

    def config(self) -> str:
        return (
            "[platforms.mastodon]\n"
            f'token_env = "{TOKEN_ENV}"\n'
            f'api_base_url = "{self.url}"\n'
            "request_timeout = 5\n"
        )

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.token}

    async def posts(self) -> list[Post]:
        found = (await self._request("GET", "/_control/posts"))["posts"]
        return [self._post(p) for p in found]

    def _post(self, raw: dict[str, Any]) -> Post:
        channel = self.channel
        if raw["visibility"] == "direct" and raw["mentions"]:
            acct = raw["mentions"][0]
            channel = f"mastodon:@{acct if '@' in acct else f'{acct}@{self.domain}'}"
        return Post(
            id=raw["id"],
            channel=channel,
            text=raw["text"],
            at=datetime.fromisoformat(raw["at"]),
            reply_to=raw["in_reply_to_id"],
            deleted=raw["deleted"],
        )

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        """A post "in the channel" reaches the bot as ``self.address`` says: with the
        hashtag (added at the end; the bot leaves a trailing chat hashtag out of what it
        records) or addressed to it (``@hashchat …``; the bot reads the words after the
        name, but edits then reach it only by its periodic re-read).
        A reply goes to the post as a Mastodon reply (apps start it with the author's
        name). There are no threads, so ``thread`` is a reply to that post too."""
        body: dict[str, Any] = {"who": who, "status": text}
        if reply_to or thread:
            body["in_reply_to_id"] = reply_to or thread
        else:
            body["status"] = self._addressed(text)
        ident = str((await self._request("POST", "/_control/statuses", body))["id"])
        if body["status"] != text:
            self._addressed_ids.add(ident)
        return ident

    def _addressed(self, text: str) -> str:
        if self.address == "mention":
            return text if text.startswith(f"@{BOT}") else f"@{BOT} {text}"
        has_tag = f"#{HASHTAG}".casefold() in text.casefold()
        return text if has_tag else f"{text} #{HASHTAG}"

    async def edit(self, who: str, message_id: str, text: str) -> None:
        if message_id in self._addressed_ids:  # the edit keeps the post in the chat
            text = self._addressed(text)
        await self._request("PUT", f"/_control/statuses/{message_id}", {"who": who, "status": text})

    async def delete(self, who: str, message_id: str) -> None:
        await self._request("DELETE", f"/_control/statuses/{message_id}", {"who": who})

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        await self.settings(fail_ratio=ratio, fail_statuses=list(statuses))

    async def settings(self, **switches: Any) -> None:
        """Any switch of the stand-in (see tests/fakes/mastodon_control.py)."""
        await self._request("POST", "/_control/settings", switches)

    async def requests(self) -> list[dict[str, Any]]:
        """Every request the stand-in answered, the bot's and the participants'."""
        answer = await self._request("GET", "/_control/requests")
        found: list[dict[str, Any]] = answer["requests"]
        return found

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        assert self._http is not None, "start() first"
        async with self._http.request(method, path, json=body) as answer:
            data = await answer.json()
            if answer.status >= 400:
                raise AssertionError(f"{method} {path}: {answer.status} {data}")
            return data


def make_driver() -> MastodonDriver:
    return MastodonDriver()
