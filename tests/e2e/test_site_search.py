"""After a chat the real ``hashchat run`` process ran, its site's search finds the answers
and links to them; a message someone deleted is not found."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from tests.e2e.driver import Driver
from tests.e2e.harness import Chat

pytestmark = pytest.mark.e2e


async def fetch(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, f"GET {url}: {response.status}"
        return await response.text()


@pytest.mark.parametrize("driver", ["local"], indirect=True)
async def test_search_finds_an_answer_of_a_chat_that_ran(driver: Driver, tmp_path: Path) -> None:
    async with Chat(driver, tmp_path).running() as chat:
        await chat.wait_posted("q1", within=chat.until("q1"))
        await driver.say("ann", "A1: <b>bold</b> éducation thérapeutique first")
        regretted = await driver.say("eve", "A1: regrettable education remark")
        await driver.delete("eve", regretted)
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        await chat.wait_transcript_file()
        search = f"{chat.public_url}/e2e/search/"
        page = await fetch(search + "?q=" + quote("education"))
        links = re.findall(r'<p class="where"><a href="([^"]+)"', page)
        assert len(links) == 1, page
        assert "&lt;b&gt;bold&lt;/b&gt;" in page
        assert "<mark>éducation</mark>" in page
        assert "regrettable" not in page
        link = links[0]
        assert re.fullmatch(r"\.\./\d{4}-\d{2}-\d{2}/#m\d+", link), link
        transcript = await fetch(search + link.split("#")[0])
        assert f'id="{link.split("#")[1]}"' in transcript
        assert await chat.stop() == 0
