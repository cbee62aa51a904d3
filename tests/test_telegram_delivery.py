"""Telegram's limits and outages, met by waiting on the adapter's injected clock, and
what each failure means: an answered error posted nothing (retried), no answer may have."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.domain import ChannelRef
from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.telegram.intake import EMPTY_POLL_SECONDS
from tests.fakes.telegram_api import GROUP, FakeTelegram, Person, telegram_rig

ANN = Person(5001, "Ann", "ann_k")


async def test_an_outage_while_reading_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(10)
        rig.api.fail_next("getUpdates", 502, "Bad Gateway")
        rig.api.fail_next("getUpdates", 502, "Bad Gateway")
        rig.api.member_changed(GROUP, ANN, "member")  # ends the poll under way
        await rig.api.wait_for(lambda: rig.time.sleeps == [1.0, 2.0])  # longer each time
        answer = rig.api.post(ANN, GROUP, "A1: still here")
        await rig.delivered(answer)
        assert rig.chat.app is not None
        async with rig.chat.app.store.db.execute("SELECT text FROM messages") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["A1: still here"]


async def test_at_most_twenty_messages_a_minute_go_to_one_group(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        group = ChannelRef("telegram", str(GROUP))
        for n in range(21):
            await rig.platform.send(group, f"note {n}")
        assert rig.time.sleeps == [60.0]  # the 21st waited for the first to be a minute old
        assert rig.api.bot_texts(GROUP)[-1] == "note 20"


@pytest.mark.parametrize(
    ("status", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_a_question_refused_once_with_a_server_error_is_posted_a_second_later(
    tmp_path: Path, status: int, description: str
) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(9)
        rig.api.fail_next("sendMessage", status, description)  # answered: nothing posted
        await rig.chat.at(10)
        q1 = [t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")]
        assert q1 == ["Q1: What does partnership mean to you? #hcsmeu"]
        assert rig.time.sleeps == [1.0]
        assert rig.chat.posts("local:mods") == []  # not "delivery not confirmed"


async def test_a_question_the_server_keeps_failing_is_posted_at_the_next_try(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(9)
        for _ in range(3):  # the first try and both quick ones
            rig.api.fail_next("sendMessage", 500, "Internal Server Error")
        await rig.chat.at(10)
        assert [t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")] == []
        await rig.chat.at(11)  # the runner's next try, 30 s later
        q1 = [t for t in rig.api.bot_texts(GROUP) if t.startswith("Q1:")]
        assert q1 == ["Q1: What does partnership mean to you? #hcsmeu"]
        assert rig.chat.posts("local:mods") == []


async def test_a_refused_post_says_which_method_failed_and_that_it_may_be_retried(
    tmp_path: Path,
) -> None:
    async with telegram_rig(tmp_path) as rig:
        for _ in range(3):
            rig.api.fail_next("sendMessage", 500, "Internal Server Error")
        with pytest.raises(PlatformError) as caught:
            await rig.platform.send(ChannelRef("telegram", str(GROUP)), "hello")
        assert rig.time.sleeps == [1.0, 2.0]
    assert not isinstance(caught.value, DeliveryUncertain)
    assert caught.value.retryable
    assert (
        str(caught.value)
        == "Telegram answered sendMessage with an error: Internal Server Error (500)"
    )


async def test_a_refusal_is_not_tried_again_at_once(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        rig.api.fail_next("sendMessage", 400, "Bad Request: message thread not found")
        with pytest.raises(PlatformError) as caught:
            await rig.platform.send(ChannelRef("telegram", str(GROUP)), "hello")
        assert rig.time.sleeps == []
        assert len(rig.api.method_calls("sendMessage")) == 1
    assert not caught.value.retryable
    assert str(caught.value) == ("Telegram refused sendMessage: Message thread not found (400)")


async def test_a_post_cut_off_after_it_left_is_uncertain(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        rig.api.drop_next_send()
        with pytest.raises(DeliveryUncertain) as caught:
            await rig.platform.send(ChannelRef("telegram", str(GROUP)), "hello")
    assert "sendMessage" in str(caught.value)
    assert rig.api.bot_texts(GROUP) == ["hello"]


async def test_an_http_error_at_start_names_the_method_that_failed(tmp_path: Path) -> None:
    def outage(api: FakeTelegram) -> None:
        api.fail_next("deleteWebhook", 500, "Internal Server Error")

    with pytest.raises(PlatformError) as caught:
        async with telegram_rig(tmp_path, prepare=outage):
            pass
    assert (
        str(caught.value)
        == "Telegram answered deleteWebhook with an error: Internal Server Error (500)"
    )


async def test_a_server_that_answers_polls_at_once_is_asked_once_a_second_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what ``hashchat -v`` shows

    def impatient(api: FakeTelegram) -> None:
        api.long_polls = False  # answers getUpdates with nothing, without waiting

    async with telegram_rig(tmp_path, prepare=impatient) as rig:
        await rig.api.wait_for(lambda: len(rig.api.method_calls("getUpdates")) >= 6)
        polls = len(rig.api.method_calls("getUpdates"))
        waited = rig.time.now  # the adapter's clock moves only when it waits
        answer = rig.api.post(ANN, GROUP, "A1: still read")
        await rig.delivered(answer)
    # The first poll, a short one for the backlog, is followed by a long one at once.
    assert waited >= (polls - 2) * EMPTY_POLL_SECONDS
    assert not [r for r in caplog.records if "getUpdates" in r.getMessage()]


async def test_with_half_the_posts_refused_every_step_is_still_posted_once(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path) as rig:
        rig.api.refuse_sends(0.5, (429, 500, 502, 503), retry_after=2)
        await rig.chat.at(70)  # the chat is over
        statuses = [r["status"] for r in rig.api.requests if r["method"] == "sendMessage"]
        texts = rig.api.bot_texts(GROUP)
    assert {500, 502, 503} & set(statuses)  # some were refused with a server error
    firsts = [t.partition("\n")[0].partition(" #")[0] for t in texts]
    assert firsts == [
        "Reminder: the",
        "Reminder: the",
        "Welcome to the",
        "Q1: What does partnership mean to you?",
        "Q2: Which tool helped most?",
        "Q3: What should change first?",
        "Thanks all.",
        "The transcript of today's",
    ]
    notices = [n for n in rig.chat.posts("local:mods") if "transcript is written in" not in n]
    assert notices == []  # nothing uncertain, nothing missed (only where the files are)
