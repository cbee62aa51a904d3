"""``hashchat run`` as a process against the Bluesky stand-in as a process (and, for one
chat on two networks, the Mastodon stand-in too): moderators' commands by mention, as
replies, refused to others; ``hide`` and ``delete`` keep a post out of the transcript
(a bot cannot delete others' posts, and says so); a chat whose community is on Bluesky
and Mastodon at once publishes one transcript with the answers from both.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.driver import Post
from tests.e2e.harness import QUESTIONS, Chat, agenda, bot_section, community
from tests.e2e.platforms.bluesky import BlueskyDriver
from tests.e2e.platforms.mastodon import MastodonDriver
from tests.e2e.process import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["bluesky"], indirect=True)]

LONG = timedelta(seconds=20)  # the chat stays open while the test acts after Q1
WITHIN = 20.0  # a safety net: every wait ends on a condition, polled every 50 ms


async def _answer_to(driver: BlueskyDriver, post: str) -> Post:
    async def answered() -> bool:
        return any(p.reply_to == post for p in await driver.posts())

    await wait_for(answered, within=WITHIN, what=f"an answer to {post}")
    return next(p for p in await driver.posts() if p.reply_to == post)


async def test_moderators_hide_and_delete_by_mention_and_others_are_refused(
    tmp_path: Path, driver: BlueskyDriver
) -> None:
    chat = Chat(driver, tmp_path, duration=LONG, moderators=["bluesky:alice.test"])
    async with chat.running():
        await chat.wait_posted("q1", within=chat.until("q1"))
        spam = await driver.say("ann", "A1: buy my course")
        refused = await driver.say("mallory", "@hashchat.test hide", reply_to=spam)
        assert "only the moderators" in (await _answer_to(driver, refused)).text
        hidden = await driver.say("alice", "@hashchat.test hide", reply_to=spam)
        assert "Hidden from the transcript" in (await _answer_to(driver, hidden)).text
        more = await driver.say("dan", "A1: more of my course")
        deleted = await driver.say("alice", "@hashchat.test delete", reply_to=more)
        assert "cannot delete" in (await _answer_to(driver, deleted)).text
        await driver.say("bob", "A1: the nurses' notes")
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        data = await chat.wait_transcript_file()
        assert await chat.stop() == 0
    texts = {m["text"] for m in data["messages"]}
    assert "A1: the nurses' notes" in texts
    assert not {"A1: buy my course", "A1: more of my course"} & texts


async def test_one_chat_on_bluesky_and_mastodon_has_one_transcript(
    tmp_path: Path, driver: BlueskyDriver
) -> None:
    mastodon = MastodonDriver(direct_moderators=False)
    await mastodon.start(tmp_path)
    try:
        chat = Chat(driver, tmp_path)
        chat.write = lambda: _write_both(chat, mastodon)  # type: ignore[method-assign]
        both = {**driver.env(), **mastodon.env()}
        driver.env = lambda: both  # type: ignore[method-assign]
        async with chat.running():
            q1 = await chat.wait_posted("q1", within=chat.until("q1"))
            await driver.say("ann", "A1: from Bluesky")
            await mastodon.say("bob", "A1: from Mastodon")
            await driver.say("cat", "replying on Bluesky", reply_to=q1.id)
            await chat.wait_posted("transcript", within=chat.until("transcript"))
            data = await chat.wait_transcript_file()
            assert await chat.stop() == 0
        on_mastodon = [p.text for p in await mastodon.posts()]
    finally:
        await mastodon.stop()
    assert any(QUESTIONS[0] in text for text in on_mastodon), "the chat ran on Mastodon too"
    question = next(q for q in data["questions"] if q["number"] == 1)
    answers = {m["text"] for m in data["messages"] if m["id"] in question["answer_ids"]}
    assert answers == {"A1: from Bluesky", "A1: from Mastodon", "replying on Bluesky"}
    assert len(list((tmp_path / "transcripts").glob("*/*/transcript.json"))) == 1


def _write_both(chat: Chat, mastodon: MastodonDriver) -> None:
    """The harness's files, with the community's chat on both networks."""
    (chat.workdir / "agenda.toml").write_text(agenda(), encoding="utf-8")
    trial = community("e2e", chat.driver.channel, [], chat.start, chat.duration)
    trial = trial.replace(
        f'channels = ["{chat.driver.channel}"]',
        f'channels = ["{chat.driver.channel}", "{mastodon.channel}"]',
    )
    parts = (bot_section(chat.port), chat.driver.config(), mastodon.config(), trial)
    chat.config.write_text("\n".join(parts), encoding="utf-8")
