"""A whole hashchat with its web server and console, and a browser-like HTTP client.

Two communities share the local platform: ``hcsmeu`` (moderator ``local:mod``) and
``other`` (moderator ``local:boss``), so every test can show that a moderator of one
sees nothing of the other; ``local:admin`` is a platform admin, moderator of both.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from yarl import URL

from bot.config import Config, parse_config
from bot.console.links import issue_link
from bot.domain import UserRef
from bot.store.console import ConsoleStore, Visitor
from tests.conftest import AGENDA, PARIS, START, Chat

BASE = "http://127.0.0.1"


def console_config(
    tmp: Path, *, agenda: str = AGENDA, port: int = 0, database: str = "chat.db"
) -> Config:
    (tmp / "agenda.toml").write_text(agenda, encoding="utf-8")
    (tmp / "other.toml").write_text(AGENDA, encoding="utf-8")
    at = START.astimezone(PARIS).replace(tzinfo=None).isoformat()
    text = f"""
[bot]
database = "{database}"
transcripts_dir = "pages"
grace = "5m"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
moderators = ["local:mod"]
channels = ["local:main"]
moderator_channels = ["local:mods"]

[[communities.sessions]]
id = "march"
at = {at}
duration = "60m"
agenda = "agenda.toml"
reminders = ["1h"]

[[communities]]
id = "other"
hashtag = "#other"
timezone = "Europe/Paris"
moderators = ["local:boss"]
channels = ["local:elsewhere"]

[[communities.sessions]]
id = "april"
at = {at}
duration = "60m"
agenda = "other.toml"
reminders = []
"""
    return parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)


class Browser:
    """Keeps cookies like a browser (for 127.0.0.1, which aiohttp's default jar refuses)."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    @property
    def port(self) -> int:
        assert self.chat.app is not None
        assert self.chat.app.web is not None
        return self.chat.app.web.port

    def url(self, path: str) -> URL:
        return URL(f"{BASE}:{self.port}{path}", encoded=True)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url(path), allow_redirects=False) as r:
            return r.status, await r.text()

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        """Status, body and the Location header (303 after a change)."""
        async with self.http.post(self.url(path), data=data, allow_redirects=False) as r:
            return r.status, await r.text(), r.headers.get("Location", "")

    async def link(self, user: str, community: str = "hcsmeu") -> str:
        """A login link as ``login`` or ``hashchat console-link`` would issue it."""
        app = self.chat.app
        assert app is not None
        who = Visitor(user, user.split(":")[1].title(), community)
        link = await issue_link(ConsoleStore(app.store.db), f"{BASE}:{self.port}", who,
                                app.clock.now())  # fmt: skip
        return link.removeprefix(f"{BASE}:{self.port}")

    async def log_in(self, user: str, community: str = "hcsmeu") -> str:
        path = await self.link(user, community)
        status, _, location = await self.post(path, {})
        assert status == 303, status
        return location

    async def csrf(self, path: str) -> str:
        _, body = await self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', body)
        assert found, body
        return found[1]

    async def close(self) -> None:
        await self.http.close()


async def console_chat(
    tmp: Path, *, agenda: str = AGENDA, database: str = "chat.db"
) -> AsyncIterator[tuple[Chat, Browser]]:
    """``database``: a file name, or a PostgreSQL URL (the console's rows on each backend)."""
    chat = Chat(tmp, console_config(tmp, agenda=agenda, database=database))
    # On the local platform an admin is one everywhere: "mod" is only hcsmeu's configured
    # moderator here, and "admin" a platform admin, configured nowhere.
    chat.local.admins.discard("mod")
    chat.local.admins.add("admin")
    await chat.boot(serve_web=True)
    browser = Browser(chat)
    try:
        yield chat, browser
    finally:
        await browser.close()
        if chat.app is not None:
            await chat.stop()


MOD, BOSS, ADMIN = UserRef("local", "mod"), UserRef("local", "boss"), UserRef("local", "admin")


def fields(body: str) -> dict[str, str]:
    """The editor form's fields as a browser would submit them."""
    found = dict(
        re.findall(
            r'<input type="(?:text|hidden)" (?:id="[^"]*" )?name="([^"]+)" value="([^"]*)"', body
        )
    )
    for name, value in re.findall(
        r'<textarea id="[^"]*" name="([^"]+)"[^>]*>([^<]*)</textarea>', body
    ):
        found[name] = value
    return {
        k: v.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
        for k, v in found.items()
    }


def problems_at(body: str, name: str) -> list[str]:
    box = re.search(
        rf'<div class="problems" id="problem-{re.escape(name)}">(.*?)</div>', body, re.S
    )
    assert box, name
    return re.findall(r'<p class="problem">(.*?)</p>', box[1])
