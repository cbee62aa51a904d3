"""The moderators' console with the real ``hashchat run``: a moderator asks the bot for a
link on the local platform's stand-in, logs in over HTTP, edits the coming chat's Q1,
and the bot posts the new Q1 when the chat runs."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from tests.console_site import fields
from tests.e2e.driver import Driver
from tests.e2e.harness import QUESTIONS, Chat
from tests.e2e.process import http_ok, wait_for

pytestmark = pytest.mark.e2e
NEW_Q1 = "What did you change in the console?"


@pytest.mark.parametrize("driver", ["local"], indirect=True)
async def test_a_q1_edited_in_the_console_is_the_one_posted(driver: Driver, tmp_path: Path) -> None:
    chat = Chat(driver, tmp_path, moderators=["local:mod"], duration=timedelta(seconds=9))
    chat.start = datetime.fromtimestamp(math.ceil(time.time() + 12), UTC)  # time to edit
    async with chat.running():
        await wait_for(lambda: http_ok(f"{chat.public_url}/health"), within=30, what="web up")
        await driver.say("mod", "/login")

        async def link() -> str | None:
            for post in await driver.posts():
                found = re.search(r"\S+/console/login/\S+", post.text)
                if post.channel == "local:@mod" and found:
                    return found[0]
            return None

        async def has_link() -> bool:
            return await link() is not None

        await wait_for(has_link, within=10, what="the private login link")
        url = await link()
        assert url is not None
        assert url.startswith(chat.public_url)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.post(url, allow_redirects=False) as r:
                assert r.status == 303
                home = chat.public_url + r.headers["Location"]
            async with http.get(home) as r:
                body = await r.text()
            editor = re.search(r'href="(/console/e2e/chats/\d+/agenda)"', body)
            assert editor, body
            page = URL(chat.public_url + editor[1])
            async with http.get(page) as r:
                form = fields(await r.text())
            assert form["questions[1].text"] == QUESTIONS[0]
            form["questions[1].text"] = NEW_Q1
            async with http.post(page, data=form, allow_redirects=False) as r:
                assert r.status == 303, await r.text()

        async def posted() -> bool:
            posts = await driver.posts()
            return any(NEW_Q1 in p.text for p in posts if p.channel == driver.channel)

        await wait_for(posted, within=chat.until("q1"), what="the new Q1 posted")
        assert not any(QUESTIONS[0] in p.text for p in await driver.posts())
        assert await chat.stop() == 0
