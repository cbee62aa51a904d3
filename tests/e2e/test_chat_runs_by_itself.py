"""``hashchat run`` runs a chat by itself, as users start it, on every platform.

Black-box, like Matrix's Complement: the platform's stand-in and the bot are separate
processes, the bot runs with the real clock and the real APScheduler alarm, and no
moderator command is sent. Participants act through the stand-in; the assertions read
the stand-in's record, the published transcript.json and the served page. The lateness
of every step is printed (``pytest -s``) and appended to ``$E2E_REPORT`` when set.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.driver import Driver
from tests.e2e.harness import STEPS, Chat

pytestmark = pytest.mark.e2e

MAX_LATENESS = 1.0  # seconds after its due time a step may be accepted by the platform
REPORT = os.environ.get("E2E_REPORT")


@dataclass
class Expected:
    """What the transcript must show: each answer's text under its question, and the
    texts that must not be there (deleted, or replaced by an edit)."""

    answers: dict[str, int] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)


async def answer_q1(chat: Chat, driver: Driver, expected: Expected) -> None:
    """A tag, and (where edits reach the bot) a typo corrected by an edit."""
    tagged = "A1: I tried the stand-in first"
    await driver.say("ann", tagged)
    expected.answers[tagged] = 1
    if driver.features.edit:
        draft, fixed = "A1: the harnes, I think", "A1: the harness, I think"
        ident = await driver.say("dan", draft)
        await driver.edit("dan", ident, fixed)
        expected.answers[fixed] = 1
        expected.absent.append(draft)


async def answer_q2_and_q3(chat: Chat, driver: Driver, expected: Expected) -> None:
    """A reply to Q2's post, a deletion, and an answer in Q3's thread (each where the
    platform has it; a tag otherwise)."""
    q2 = await chat.wait_posted("q2", within=chat.until("q2"))
    if driver.features.reply:
        replied = "Replying: the record of every request helped most"
        await driver.say("bob", replied, reply_to=q2.id)
    else:
        replied = "A2: the record of every request helped most"
        await driver.say("bob", replied)
    expected.answers[replied] = 2
    if driver.features.delete:
        regretted = "A2: on second thought, forget this"
        ident = await driver.say("eve", regretted)
        await driver.delete("eve", ident)
        expected.absent.append(regretted)
    q3 = await chat.wait_posted("q3", within=chat.until("q3"))
    if driver.features.thread:
        threaded = "In the thread: fewer fixed sleeps in tests"
        await driver.say("cat", threaded, thread=q3.id)
    else:
        threaded = "A3: fewer fixed sleeps in tests"
        await driver.say("cat", threaded)
    expected.answers[threaded] = 3


def check_transcript(data: dict[str, Any], expected: Expected) -> None:
    messages = data["messages"]
    for text, number in expected.answers.items():
        found = [m for m in messages if m["text"] == text]
        assert len(found) == 1, f"{text!r} is in transcript.json {len(found)} times"
        assert found[0]["questions"] == [number], f"{text!r} filed under {found[0]['questions']}"
        question = next(q for q in data["questions"] if q["number"] == number)
        assert found[0]["id"] in question["answer_ids"]
    texts = {m["text"] for m in messages}
    for text in expected.absent:
        assert text not in texts, f"{text!r} should not be in the transcript"


async def check_link(chat: Chat, text: str) -> None:
    match = re.search(re.escape(chat.public_url) + r"\S*", text)
    assert match is not None, f"no transcript link in {text!r}"
    url = match.group(0).rstrip(".,)")
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, f"GET {url}: {response.status}"


async def test_a_chat_runs_by_itself_on_time(driver: Driver, tmp_path: Path) -> None:
    async with Chat(driver, tmp_path).running() as chat:
        expected = Expected()
        await chat.wait_posted("q1", within=chat.until("q1"))
        await answer_q1(chat, driver, expected)
        await answer_q2_and_q3(chat, driver, expected)
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        steps = await chat.steps()
        table = chat.report("runs by itself", steps, REPORT)
        for key in STEPS:
            assert len(steps[key]) == 1, f"{key} posted {len(steps[key])} times\n{table}"
        for key, late in chat.lateness(steps).items():
            assert late is not None
            assert 0 <= late <= MAX_LATENESS, f"{key} posted {late:+.3f} s off\n{table}"
        check_transcript(await chat.wait_transcript_file(), expected)
        await check_link(chat, steps["transcript"][0].text)
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"


async def test_a_chat_survives_a_kill_and_a_restart(driver: Driver, tmp_path: Path) -> None:
    async with Chat(driver, tmp_path).running() as chat:
        q1 = await chat.wait_posted("q1", within=chat.until("q1"))
        await chat.kill()
        expected = Expected()
        while_down = ["A1: said while the bot was down", "A1: and again while it was down"]
        for text in while_down:
            await driver.say("fay", text)
            expected.answers[text] = 1
        if driver.features.reply:
            replied = "Replying while it is down: the tag is optional"
            await driver.say("gus", replied, reply_to=q1.id)
            expected.answers[replied] = 1
        await chat.launch()
        await answer_q2_and_q3(chat, driver, expected)
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        steps = await chat.steps()
        table = chat.report("killed after Q1 and restarted", steps, REPORT)
        notices = [p.text for p in await chat.notices()]
        for key in STEPS:
            assert len(steps[key]) <= 1, f"{key} posted {len(steps[key])} times\n{table}"
            if not steps[key]:
                # Only where a resend could duplicate, and never silently.
                assert not driver.features.idempotent_send, f"{key} is missing\n{table}"
                label = key.upper() if key.startswith("q") else key
                assert any(label in n for n in notices), f"{key} lost, not reported\n{table}"
        check_transcript(await chat.wait_transcript_file(), expected)
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"
