"""``hashchat run`` as a process against the Mastodon stand-in as a process: the real
clock, the real alarm, the real Mastodon.py; a chat a few seconds ahead posts its welcome
and its question on time, participants' tagged answer and reply are stored under it, and
a moderator whose server has a port (``alice@127.0.0.1:<port>``) is obeyed and answered
in public when she commands in public, though she has a private channel.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import Chat
from tests.e2e.platforms.mastodon import MastodonDriver
from tests.e2e.process import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["mastodon"], indirect=True)]

LONG = timedelta(seconds=30)  # the chat stays open while the test acts after Q1
WITHIN = 20.0  # a safety net: every wait ends on a condition, polled every 50 ms


async def test_the_bot_process_posts_on_time_and_stores_the_answers(
    tmp_path: Path, driver: MastodonDriver
) -> None:
    async with Chat(
        driver, tmp_path, duration=LONG, moderators=[f"mastodon:{driver.moderator}"]
    ).running() as chat:
        welcome = await chat.wait_posted("welcome", within=chat.until("welcome"))
        question = await chat.wait_posted("q1", within=chat.until("q1"))
        assert question.text.startswith("Q1:")
        await driver.say("ann", "A1 the patient portal")  # the driver adds the hashtag
        await driver.say("bob", "a reply to the question", reply_to=question.id)

        async def stored() -> bool:
            return len(chat.messages()) == 2

        await wait_for(stored, within=WITHIN, what="both answers stored")
        # A moderator on a server with a port, with a private channel, commands in public:
        command = await driver.say("alice", "@hashchat pause")

        async def answered() -> bool:
            return any(p.reply_to == command for p in await driver.posts())

        await wait_for(answered, within=WITHIN, what="the command answered")
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"

        answer = next(p for p in await driver.posts() if p.reply_to == command)
        assert answer.channel == driver.channel  # public, as the command was
        assert answer.text.startswith("@alice ")
        assert "Sorry" not in answer.text  # alice@127.0.0.1:<port> is known as a moderator
        assert question.reply_to == welcome.id  # the chat reads as one thread
        assert 0 <= (welcome.at - chat.due["welcome"]).total_seconds() < 1
        assert 0 <= (question.at - chat.due["q1"]).total_seconds() < 1
        rows = [(m["author_key"], m["text"], m["questions"]) for m in chat.messages()]
        assert rows == [
            (f"mastodon:ann@{driver.domain}", "A1 the patient portal", "1"),
            (f"mastodon:bob@{driver.domain}", "a reply to the question", "1"),
        ]
        text = chat.log_text()
        assert driver.token not in text
        assert f"mastodon: #{driver.channel.removeprefix('mastodon:')} is streamed" in text
