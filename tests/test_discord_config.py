"""The [platforms.discord] section: every mistake named at its field, before connecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PlatformSettings
from bot.errors import ConfigError
from tests.conftest import chat_config
from tests.fakes.discord_harness import from_config

SECTION = """
[platforms.discord]
token_env = "HASHCHAT_TEST_DISCORD_TOKEN"
thread_per_question = ["111", "222"]
moderator_roles = ["chat hosts"]
"""


def problems(tmp_path: Path, channels: tuple[str, ...], env: dict[str, str]) -> list[str]:
    config = chat_config(tmp_path, channels=channels, extra=SECTION)
    with pytest.raises(ConfigError) as refused:
        from_config(config, config.platforms.get("discord", PlatformSettings()), None, env)  # type: ignore[arg-type]
    return [f"{p.field}: {p.message}" for p in refused.value.problems]


def test_each_mistake_is_named_at_its_field(tmp_path: Path) -> None:
    found = problems(tmp_path, ("discord:111", "discord:general"), {})
    assert found == [
        "platforms.discord.moderator_roles[0]: expected a Discord id (digits only,"
        " from Copy ID), got 'chat hosts'",
    ]


def test_channels_and_token_are_checked_together(tmp_path: Path) -> None:
    section_ok = SECTION.replace('["chat hosts"]', '["333"]')
    config = chat_config(tmp_path, channels=("discord:111", "discord:general"), extra=section_ok)
    with pytest.raises(ConfigError) as refused:
        from_config(config, config.platforms["discord"], None, {})  # type: ignore[arg-type]
    found = [f"{p.field}: {p.message}" for p in refused.value.problems]
    assert found == [
        "platforms.discord.token_env: the environment variable HASHCHAT_TEST_DISCORD_TOKEN"
        " is not set",
        "communities[0].channels[1]: a Discord channel is 'discord:' and its id (digits,"
        " from Copy ID)",
        "platforms.discord.thread_per_question[1]: channel 222 is not one of the"
        " communities' Discord channels",
    ]


@pytest.mark.parametrize(
    ("value", "wrong"),
    [
        ("ftp://127.0.0.1:8080/api/v10", "must be an http(s) address"),
        ("127.0.0.1:8080/api/v10", "must be an http(s) address"),
        ("http://127.0.0.1:8080/api", "must end with the API version, /v10"),
    ],
)
def test_another_api_address_must_be_an_http_url_of_version_10(
    tmp_path: Path, value: str, wrong: str
) -> None:
    section = SECTION.replace('["chat hosts"]', '["333"]') + f'api_url = "{value}"\n'
    config = chat_config(tmp_path, channels=("discord:111", "discord:222"), extra=section)
    with pytest.raises(ConfigError) as refused:
        from_config(config, config.platforms["discord"], None, {})  # type: ignore[arg-type]
    (problem,) = [p for p in refused.value.problems if p.field == "platforms.discord.api_url"]
    assert wrong in problem.message
    assert "https://discord.com/api/v10" in problem.message
