"""The community site's numbers and links pages of the real ``hashchat run``: after a
chat, ``/<community>/stats/`` counts it and ``/<community>/links/`` lists the link shared
in it (normalised), served by the bot's own web server."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.driver import Driver
from tests.e2e.harness import TITLE, Chat

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["local"], indirect=True)]


async def page(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, f"GET {url}: {response.status}"
        return await response.text()


async def test_a_chat_is_counted_and_its_link_listed_on_the_site(
    driver: Driver, tmp_path: Path
) -> None:
    async with Chat(driver, tmp_path).running() as chat:
        await chat.wait_posted("q1", within=chat.until("q1"))
        await driver.say("ann", "A1: this guide https://Example.org/guide/?utm_source=chat#top")
        await driver.say("bob", "A1: agreed")
        await chat.wait_posted("q2", within=chat.until("q2"))
        await driver.say("ann", "A2: and a second answer")
        await chat.wait_posted("transcript", within=chat.until("transcript"))

        stats = await page(f"{chat.public_url}/e2e/stats/")
        row = re.search(
            r"<tr><td[^>]*><time[^>]*>[^<]*</time></td><td><a [^>]*>([^<]*)</a>.*?</tr>", stats
        )
        assert row is not None, "no chat in the numbers table"
        assert row.group(1) == TITLE
        cells = re.findall(r'<td class="n"[^>]*>([^<]*)</td>', row.group(0))
        assert cells[:4] == ["3", "2", "2", "0"]  # messages, participants, first-timers, returning
        assert 'id="chart-messages"' in stats

        links = await page(f"{chat.public_url}/e2e/links/")
        assert 'href="https://example.org/guide"' in links
        assert "utm_source" not in links
        assert await chat.stop() == 0
