"""The end-to-end driver for Discord: the stand-in (tests/fakes/discord_process.py) as
its own process, reached by the bot through ``[platforms.discord] api_url``.

The chat runs in the stand-in's channel with a thread per question, so participants can
answer by tag, by reply and inside a question's thread; moderators' notices go to its
"mods" channel. People act through the stand-in's control API, as they would in Discord.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.driver import Features, Post
from tests.e2e.process import StandinDriver, start_standin

TOKEN_ENV = "HASHCHAT_E2E_DISCORD_TOKEN"
_ESCAPED = re.compile(r"\\([^\w\s])")  # discord.py's escape_markdown, undone


class DiscordDriver(StandinDriver):
    name = "discord"
    stop_within = 10.0
    # A resend after a crash carries the same nonce: Discord shows the post once.
    features = Features(reply=True, thread=True, edit=True, delete=True, idempotent_send=True)

    def __init__(self, *, start_timeout: float = 20.0) -> None:
        self.start_timeout = start_timeout
        self.channel = ""
        self.moderator_channel: str | None = None
        self.info: dict[str, Any] = {}

    # the stand-in process ----------------------------------------------------------------

    async def start(self, workdir: Path) -> None:
        self._child, self.info = await start_standin(
            "tests.fakes.discord_process", workdir, "discord", "--port", "0",
            within=self.start_timeout,
        )  # fmt: skip
        channels = self.info["channels"]
        self.channel = f"discord:{channels['threads']}"
        self.moderator_channel = f"discord:{channels['mods']}"
        self._http = aiohttp.ClientSession(f"http://127.0.0.1:{self.info['port']}")

    # the bot's side --------------------------------------------------------------------

    def config(self) -> str:
        threads = self.info["channels"]["threads"]
        return "\n".join(
            [
                "[platforms.discord]",
                f'token_env = "{TOKEN_ENV}"',
                f'api_url = "{self.info["api_url"]}"',
                f'thread_per_question = ["{threads}"]',
                f'moderator_roles = ["{self.info["moderator_role"]}"]',
                "",
            ]
        )

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: str(self.info["token"])}

    async def posts(self) -> list[Post]:
        return [
            Post(
                id=p["id"],
                channel=f"discord:{p['channel']}" + (f"/{p['thread']}" if p["thread"] else ""),
                text=_ESCAPED.sub(r"\1", p["text"]),
                at=datetime.fromisoformat(p["at"]),
                reply_to=p["reply_to"],
                deleted=p["deleted"],
            )
            for p in await self._call("GET", "/_control/posts")
        ]

    # what people do ------------------------------------------------------------------

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        channel = self.channel.removeprefix("discord:")
        body = {"who": who, "text": text, "channel": channel, "reply_to": reply_to,
                "thread": thread}  # fmt: skip
        answer = await self._call("POST", "/_control/say", body)
        return str(answer["id"])

    async def edit(self, who: str, message_id: str, text: str) -> None:
        await self._call("POST", "/_control/edit", {"id": message_id, "text": text})

    async def delete(self, who: str, message_id: str) -> None:
        await self._call("POST", "/_control/delete", {"id": message_id})

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        await self._call("POST", "/_control/fail", {"ratio": ratio, "statuses": list(statuses)})

    async def requests(self) -> list[dict[str, Any]]:
        """Every request the stand-in took, gateway connections included."""
        result: list[dict[str, Any]] = await self._call("GET", "/_control/requests")
        return result

    async def _call(self, method: str, path: str, body: object = None) -> Any:
        assert self._http is not None, "start the driver first"
        async with self._http.request(method, path, json=body) as response:
            response.raise_for_status()
            return await response.json()


def make_driver() -> DiscordDriver:
    return DiscordDriver()
