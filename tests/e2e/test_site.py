"""The community site of the real ``hashchat run`` process: its home lists the coming
chat before it starts and the published chat once it is over, with the site's CSP."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.site.mount import CSP
from tests.e2e.driver import Driver
from tests.e2e.harness import TITLE, Chat
from tests.e2e.process import wait_for

CSP_NAME = "Content-Security-Policy"
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["local"], indirect=True)]


async def test_the_home_page_shows_the_next_chat_then_the_past_one(
    driver: Driver, tmp_path: Path
) -> None:
    chat = Chat(driver, tmp_path)
    home = f"{chat.public_url}/e2e/"
    pages: list[tuple[int, str, str]] = []

    async def fetched() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(home) as response:
                page = (response.status, await response.text(), response.headers.get(CSP_NAME, ""))
        except aiohttp.ClientError:
            return False
        pages.append(page)
        return page[0] == 200

    async with chat.running():
        await wait_for(fetched, within=chat.until("welcome"), what="the site's home served")
        _, before, csp = pages[-1]
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        pages.clear()
        await wait_for(fetched, within=10, what="the home served after the chat")
        _, after, _ = pages[-1]
        day = chat.start.date().isoformat()
        async with aiohttp.ClientSession() as http, http.get(f"{home}{day}/") as response:
            transcript = await response.text()
    assert csp == CSP
    assert TITLE in before.split('id="next"')[1].split('id="past"')[0]  # coming
    assert "No chat has been published yet." in before
    past = after.split('id="past"')[1]
    assert TITLE in past
    assert f'href="{day}/"' in past
    assert 'href="../"' in transcript  # the breadcrumb back to the community
