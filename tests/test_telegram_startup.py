"""What the Telegram adapter checks and sets up when it starts, its config section, and
the secrets it keeps out of the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.clock import SystemClock
from bot.config import parse_config
from bot.errors import ConfigError
from bot.platforms.registry import build_platforms
from bot.platforms.telegram.platform import TelegramPlatform
from tests.conftest import AGENDA
from tests.fakes.telegram_api import (
    GROUP,
    TELEGRAM_ENV,
    TOKEN,
    FakeTelegram,
    Person,
    telegram_rig,
)

ANN = Person(5001, "Ann", "ann_k")
OTHER = -1009876543210


def member_without_rights(api: FakeTelegram) -> None:
    api.bot_status[GROUP] = "member"
    api.add_group(OTHER, "Where the bot is an admin")


async def test_privacy_mode_without_admin_rights_is_reported_to_the_moderators(
    tmp_path: Path,
) -> None:
    channels = (f"telegram:{GROUP}", f"telegram:{OTHER}")
    async with telegram_rig(
        tmp_path, channels=channels, privacy=True, prepare=member_without_rights
    ) as rig:
        [alert] = rig.chat.posts("local:mods")
    assert alert.startswith(
        "To the moderators of #hcsmeu: hashchat cannot read the participants' messages"
        f" in telegram:{GROUP}, so a chat there would record no answers."
    )
    assert "@BotFather" in alert


async def test_privacy_mode_is_no_problem_where_the_bot_reads_everything(tmp_path: Path) -> None:
    def member(api: FakeTelegram) -> None:
        api.bot_status[GROUP] = "member"

    async with telegram_rig(tmp_path, prepare=member) as rig:  # privacy mode is off
        assert rig.chat.posts("local:mods") == []


async def test_a_group_the_bot_was_removed_from_is_reported(tmp_path: Path) -> None:
    def removed(api: FakeTelegram) -> None:
        api.bot_status[GROUP] = "left"

    async with telegram_rig(tmp_path, prepare=removed) as rig:
        [alert] = rig.chat.posts("local:mods")
    assert f"lacks a permission it needs in telegram:{GROUP}: membership" in alert


async def test_the_command_menu_is_set_in_each_language_of_the_community(tmp_path: Path) -> None:
    async with telegram_rig(tmp_path, settings='second_locale = "fr"') as rig:
        menus = rig.api.commands
    english = {c["command"]: c["description"] for c in menus[""]}
    french = {c["command"]: c["description"] for c in menus["fr"]}
    assert english["end"] == "close the chat now and publish the transcript"
    assert english.keys() == french.keys() >= {"help", "status", "pause", "hide", "delete"}
    assert french["end"] != english["end"]


async def test_a_webhook_left_behind_is_removed_so_polling_works(tmp_path: Path) -> None:
    def webhook(api: FakeTelegram) -> None:
        api.webhook = {"url": "https://old.example.org/hook", "secret_token": None}

    async with telegram_rig(tmp_path, prepare=webhook) as rig:
        await rig.chat.at(10)
        await rig.delivered(rig.api.post(ANN, GROUP, "A1: heard"))
        assert rig.api.webhook is None


async def test_the_token_never_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with telegram_rig(tmp_path) as rig:
        await rig.chat.at(9)
        rig.api.fail_next_sends(1, retry_after=2)
        await rig.chat.at(10)
        await rig.delivered(rig.api.post(ANN, GROUP, "A1: hello"))
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/sendMessage" in r for r in requests)  # the URLs were logged...
    assert all("<telegram-token>" in r for r in requests)  # ...with the token masked
    secret = TOKEN.partition(":")[2]
    assert secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)


CONFIG = """
[platforms.telegram]
token_env = "TELEGRAM_BOT_TOKEN"
{options}

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
moderators = ["telegram:123456", {moderator}]
channels = ["telegram:-1001234567890/42", {channel}]
"""


def problems(
    options: str = "", moderator: str = '"telegram:654321"', channel: str = '"local:main"'
) -> dict[str, str]:
    config = parse_config(CONFIG.format(options=options, moderator=moderator, channel=channel))
    with pytest.raises(ConfigError) as caught:
        build_platforms(config, SystemClock(), env=TELEGRAM_ENV)
    return {p.field or "": p.message for p in caught.value.problems}


def test_a_valid_section_builds_the_adapter() -> None:
    config = parse_config(
        CONFIG.format(options="", moderator='"telegram:654321"', channel='"local:main"')
    )
    platform = build_platforms(config, SystemClock(), env=TELEGRAM_ENV)["telegram"]
    assert isinstance(platform, TelegramPlatform)
    assert platform.webhook_path is None
    assert platform.setup.options.api_url == "https://api.telegram.org"


def test_chats_and_people_must_be_named_by_number() -> None:
    found = problems(moderator='"telegram:@ann"', channel='"telegram:@hcsmeu_group"')
    assert "named by its number" in found["communities[0].channels[1]"]
    assert "numeric id" in found["communities[0].moderators[1]"]


def test_webhook_mode_needs_an_https_address_and_a_secret() -> None:
    found = problems('mode = "webhook"')
    assert "https://" in found["platforms.telegram.webhook_url"]
    assert "secret" in found["platforms.telegram.secret_token_env"]
    found = problems('mode = "webhook"\nwebhook_url = "http://insecure.example.org/hook"')
    assert "https://" in found["platforms.telegram.webhook_url"]


def test_a_missing_token_and_an_unknown_key_are_reported_with_their_fields() -> None:
    found = problems('poll_every = "5s"')
    assert "platforms.telegram.poll_every" in found
    config = parse_config(CONFIG.format(options="", moderator='"telegram:1"', channel='"local:x"'))
    with pytest.raises(ConfigError) as caught:
        build_platforms(config, SystemClock(), env={})
    assert [p.field for p in caught.value.problems] == ["platforms.telegram.token_env"]


@pytest.mark.parametrize(
    "api_url",
    [
        "https://api.telegram.org/bot",
        "https://api.telegram.org/bot/",
        f"http://127.0.0.1:8081/bot{TOKEN}",
        f"https://api.telegram.org/bot{TOKEN}/getMe",
    ],
    ids=["bot", "bot-slash", "bot-token", "bot-token-method"],
)
def test_check_refuses_an_api_url_with_the_bot_path_and_shows_the_root_to_give(
    tmp_path: Path, api_url: str
) -> None:
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    config = tmp_path / "hashchat.toml"
    config.write_text(
        CONFIG.format(
            options=f'api_url = "{api_url}"', moderator='"telegram:1"', channel='"local:x"'
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--config", str(config)], env=TELEGRAM_ENV)
    assert result.exit_code == 2
    [problem] = [line for line in result.output.splitlines() if "api_url" in line]
    assert "platforms.telegram.api_url" in problem
    assert "such as https://api.telegram.org or http://127.0.0.1:8081" in problem
    assert "adds /bot<token> itself" in problem
    assert TOKEN.partition(":")[2] not in result.output


def test_a_self_hosted_server_root_is_taken_as_it_is() -> None:
    options = 'api_url = "http://127.0.0.1:8081/"'
    config = parse_config(
        CONFIG.format(options=options, moderator='"telegram:1"', channel='"local:main"')
    )
    platform = build_platforms(config, SystemClock(), env=TELEGRAM_ENV)["telegram"]
    assert isinstance(platform, TelegramPlatform)
    assert platform.setup.options.api_url == "http://127.0.0.1:8081"


async def test_a_failed_membership_lookup_is_not_reported_as_the_bot_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def outage(api: FakeTelegram) -> None:
        api.fail_next("getChatMember", 500, "Internal Server Error")

    async with telegram_rig(tmp_path, prepare=outage) as rig:
        await rig.chat.at(10)
        assert rig.chat.posts("local:mods") == []  # no "lacks ... membership" alert
        assert any(t.startswith("Q1:") for t in rig.api.bot_texts(GROUP))  # it runs
    assert (
        f"could not check hashchat's access to Telegram chat {GROUP}:"
        " Telegram answered getChatMember with an error: Internal Server Error (500)" in caplog.text
    )


async def test_a_chat_telegram_says_it_cannot_find_is_reported(tmp_path: Path) -> None:
    def unknown(api: FakeTelegram) -> None:
        api.fail_next("getChatMember", 400, "Bad Request: chat not found")

    async with telegram_rig(tmp_path, prepare=unknown) as rig:
        [alert] = rig.chat.posts("local:mods")
    assert f"lacks a permission it needs in telegram:{GROUP}: membership" in alert
