"""``hashchat run`` as its own process against the Telegram stand-in process, with the
real clock and the real alarm: the welcome and the first question go out on time by
themselves, and a participant's answer is stored under it; a failure at start says
which Bot API method failed, never showing the token."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import Chat
from tests.e2e.platforms.telegram import TOKEN_ENV, TelegramDriver
from tests.e2e.process import wait_for
from tests.fakes.telegram_api import TOKEN

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["telegram"], indirect=True)]

LONG = timedelta(minutes=1)  # the chat stays open while the test acts after Q1


async def test_run_posts_the_welcome_and_question_and_stores_the_answer(
    tmp_path: Path, driver: TelegramDriver
) -> None:
    async with Chat(driver, tmp_path, duration=LONG).running() as chat:
        await chat.wait_posted("welcome", within=chat.until("welcome"))
        await chat.wait_posted("q1", within=chat.until("q1"))
        steps = await chat.steps()
        [welcome], [question] = steps["welcome"], steps["q1"]
        assert welcome.at >= chat.start - timedelta(seconds=0.5)  # on schedule, not at start-up
        assert question.at >= chat.due["q1"] - timedelta(seconds=0.5)

        answer = await driver.say("ann", "A1: I tried asking patients first")
        await wait_for(lambda: driver.taken(answer), within=10, what="the answer taken")
        assert await chat.stop() == 0, "hashchat did not stop cleanly on SIGTERM"
        rows = [(m["author_name"], m["text"], m["questions"]) for m in chat.messages()]
        assert rows == [("Ann", "A1: I tried asking patients first", "1")]


async def start_failure(chat: Chat, token: str) -> str:
    """What ``hashchat run`` says when it cannot start; it must exit with status 1."""
    chat.write()
    await chat.launch(verbose=False, env={TOKEN_ENV: token})
    try:
        assert chat.bot is not None
        assert await chat.bot.exited(within=30) == 1, chat.log_text()
    finally:
        await chat.stop()
    return chat.log_text()


async def test_a_server_error_at_start_names_the_method_that_failed(
    tmp_path: Path, driver: TelegramDriver
) -> None:
    await driver.fail_next("getMe", 500, "Internal Server Error")
    output = await start_failure(Chat(driver, tmp_path), TOKEN)
    assert (
        "hashchat could not start: Telegram answered getMe with an error:"
        " Internal Server Error (500)" in output
    )
    assert TOKEN not in output


async def test_a_refused_token_is_named_without_showing_it(
    tmp_path: Path, driver: TelegramDriver
) -> None:
    wrong = "7099999999:AAWrongTokenWrongTokenWrongToken_42"
    output = await start_failure(Chat(driver, tmp_path), wrong)
    assert "hashchat could not start: Telegram refused getMe: The token" in output
    assert "(401)" in output
    assert wrong.partition(":")[2] not in output
