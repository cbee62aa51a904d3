"""The local platform's stand-in: ``hashchat local-server`` as its own process."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.bot_process import free_port
from tests.e2e.driver import Features, Post
from tests.e2e.process import Child, StandinDriver, http_ok, python_module, wait_for

CHANNEL = "main"


class LocalDriver(StandinDriver):
    name = "local"
    features = Features(reply=True, thread=True, edit=True, delete=True, idempotent_send=True)
    channel = f"local:{CHANNEL}"
    moderator_channel: str | None = "local:mods"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def start(self, workdir: Path) -> None:
        args = python_module("bot", "local-server", "--port", str(self.port))
        self._child = Child(args, workdir / "local-server.log")
        await self._child.start()
        up = f"{self.url}/health"
        await wait_for(lambda: http_ok(up), within=30, what="local-server up", log=self._child.log)
        self._http = aiohttp.ClientSession()

    def config(self) -> str:
        return f'[platforms.local]\nserver = "{self.url}"\n'

    def env(self) -> dict[str, str]:
        return {}

    async def posts(self) -> list[Post]:
        data = await self.request("GET", "/api/messages")
        return [
            Post(
                id=m["id"],
                channel=f"local:{m['channel']}" + (f"/{m['thread']}" if m["thread"] else ""),
                text=m["text"],
                at=datetime.fromisoformat(m["at"]),
                reply_to=m["reply_to"],
                deleted=m["deleted_at"] is not None,
            )
            for m in data["messages"]
            if m["by_bot"]
        ]

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        body = {
            "channel": CHANNEL,
            "thread": thread,
            "user": who,
            "name": who.title(),
            "text": text,
            "reply_to": reply_to,
        }
        return str((await self.request("POST", "/api/messages", body))["id"])

    async def edit(self, who: str, message_id: str, text: str) -> None:
        await self.request("POST", f"/api/messages/{message_id}/edit", {"user": who, "text": text})

    async def delete(self, who: str, message_id: str) -> None:
        await self.request("POST", f"/api/messages/{message_id}/delete", {"user": who})

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        await self.request("POST", "/control/faults", {"ratio": ratio, "statuses": list(statuses)})

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        assert self._http is not None, "start() first"
        async with self._http.request(method, self.url + path, json=body) as response:
            data = await response.json()
            assert response.status == 200, f"{method} {path}: {response.status} {data}"
            return data


def make_driver() -> LocalDriver:
    return LocalDriver()
