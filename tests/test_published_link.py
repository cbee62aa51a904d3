"""With a public URL, the posted link is that URL, and hashchat's own server answers it."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.domain import UserRef
from tests.bot_process import free_port
from tests.conftest import Chat, chat_config


async def test_the_posted_link_is_served_by_the_built_in_web_server(tmp_path: Path) -> None:
    port = free_port()
    config = chat_config(tmp_path)
    bot = config.bot.model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "listen_port": port}
    )
    chat = Chat(tmp_path, config.model_copy(update={"bot": bot}))
    await chat.boot(serve_web=True)
    try:
        await chat.at(10)
        chat.local.say(UserRef("local", "ann", "Ann"), "local:main", "A1: <b>bold</b> claim")
        await chat.at(61)
        link = chat.posts()[-1].rsplit(" ", 1)[-1]
        assert link == f"http://127.0.0.1:{port}/hcsmeu/2026-03-04/"
        async with aiohttp.ClientSession() as http, http.get(link) as response:
            assert response.status == 200
            page = await response.text()
        assert "A1: &lt;b&gt;bold&lt;/b&gt; claim" in page
    finally:
        await chat.stop()
