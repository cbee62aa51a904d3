"""`hashchat run` against the stand-in Discord run as its own process, as a user starts it:
the reminder, the welcome and Q1 go out on time by themselves, and answers (a tag in the
channel, a reply, a message in Q1's thread, an edit, a deletion) reach the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.harness import QUESTIONS, Chat
from tests.e2e.platforms.discord import DiscordDriver
from tests.e2e.process import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["discord"], indirect=True)]

LONG = timedelta(seconds=30)  # the chat stays open while the test acts after Q1
ON_TIME = ("reminder", "welcome", "q1")


def stored(chat: Chat, message_id: str) -> tuple[str, str, bool] | None:
    """(questions it is filed under, text, deleted) of a participant's message, once the
    bot has stored it."""
    for m in chat.messages():
        if m["platform_id"] == message_id:
            return str(m["questions"]), str(m["text"]), m["deleted_at"] is not None
    return None


async def test_run_posts_on_time_and_stores_answers_from_the_standin_process(
    tmp_path: Path, driver: DiscordDriver
) -> None:
    async with Chat(driver, tmp_path, duration=LONG).running() as chat:

        async def welcome_and_q1() -> bool:
            steps = await chat.steps()
            for key in ON_TIME:
                assert len(steps[key]) <= 1, f"{key} twice"
            return bool(steps["welcome"] and steps["q1"])

        await wait_for(welcome_and_q1, within=chat.until("q1"), what="the welcome and Q1")
        q1 = (await chat.steps())["q1"][0]
        tagged = await driver.say("ann", "A1: asking patients before building")
        threaded = await driver.say("bob", "a shared roadmap", thread=q1.id)
        replied = await driver.say("dan", "involving carers too", reply_to=q1.id)
        regretted = await driver.say("eve", "A1: oops, wrong chat")

        async def stored_under_q1() -> bool:
            found = [stored(chat, i) for i in (tagged, threaded, replied, regretted)]
            return all(f is not None and f[0] == "1" for f in found)

        await wait_for(stored_under_q1, within=10, what="the answers stored under Q1")
        await driver.edit("ann", tagged, "A1: asking patients first")
        await driver.delete("eve", regretted)

        async def edited_and_deleted() -> bool:
            edited, gone = stored(chat, tagged), stored(chat, regretted)
            fixed = edited is not None and edited[1] == "A1: asking patients first"
            return fixed and gone is not None and gone[2]

        await wait_for(edited_and_deleted, within=10, what="the edit and the deletion stored")
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"

        steps = await chat.steps()
        for key in ON_TIME:
            assert len(steps[key]) == 1, f"{key} posted {len(steps[key])} times"
            late = steps[key][0].at - chat.due[key]
            assert timedelta(0) <= late < timedelta(seconds=1), f"{key}: {late} late"
        # Each step went out once: the stand-in recorded one post per step.
        texts = [p.text for p in await driver.posts() if p.channel == driver.channel]
        assert sum(QUESTIONS[0] in t for t in texts) == 1
        requests = await driver.requests()
        assert any(r["path"] == "/gateway" for r in requests)  # it came in by the gateway


async def test_the_standin_refuses_a_share_of_the_bots_posts_and_logs_each_request(
    driver: DiscordDriver,
) -> None:
    api, chat = driver.info["api_url"], driver.info["channels"]["chat"]
    headers = {"Authorization": f"Bot {driver.info['token']}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def post(text: str) -> int:
            async with http.post(f"{api}/channels/{chat}/messages", json={"content": text}) as r:
                return r.status

        await driver.fail_posts(1.0, (503,))
        assert [await post("refused") for _ in range(3)] == [503, 503, 503]
        await driver.fail_posts(1.0, (429,))
        async with http.post(f"{api}/channels/{chat}/messages", json={"content": "x"}) as r:
            assert r.status == 429
            assert (await r.json())["retry_after"] < 1  # short: discord.py waits and retries
        await driver.fail_posts(0)
        assert await post("accepted") == 200
    assert [p.text for p in await driver.posts()] == ["accepted"]
    logged = [(r["method"], r["status"]) for r in await driver.requests()]
    assert logged == [("POST", 503)] * 3 + [("POST", 429), ("POST", 200)]
