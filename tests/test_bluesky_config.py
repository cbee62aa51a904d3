"""The ``[platforms.bluesky]`` section and Bluesky channels and moderators: each mistake
named with its field, the app password only from the variable the config names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import parse_config
from bot.errors import ConfigError
from bot.platforms.base import Platform
from bot.platforms.bluesky.platform import BlueskyPlatform
from bot.platforms.registry import build_platforms
from tests.conftest import AGENDA, START

SECTION = """
[platforms.bluesky]
token_env = "BLUESKY_APP_PASSWORD"
handle = "hashchatbot.bsky.social"
"""


def _build(
    tmp: Path,
    *,
    section: str = SECTION,
    channel: str = "bluesky:hcsmeu",
    moderator: str = "bluesky:ann.bsky.social",
    env: dict[str, str] | None = None,
) -> dict[str, Platform]:
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    text = f"""
[bot]
database = "chat.db"
transcripts_dir = "pages"
{section}
[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
locale = "en"
timezone = "Europe/Paris"
moderators = ["{moderator}"]
channels = ["{channel}"]

[[communities.sessions]]
id = "march"
at = {START.replace(tzinfo=None).isoformat()}
duration = "60m"
agenda = "agenda.toml"
"""
    config = parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)
    env = {"BLUESKY_APP_PASSWORD": "xxxx-xxxx-xxxx-xxxx"} if env is None else env
    return build_platforms(config, ManualClock(START), env=env)


def _problems(tmp: Path, **change: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        _build(tmp, **change)  # type: ignore[arg-type]
    return [str(p) for p in err.value.problems]


def test_a_good_section_builds_the_adapter_with_a_did_moderator(tmp_path: Path) -> None:
    built = _build(tmp_path, moderator="bluesky:did:plc:abcd1234")
    assert isinstance(built["bluesky"], BlueskyPlatform)
    assert built["bluesky"].bot_names == frozenset({"hashchatbot.bsky.social"})


def test_each_mistake_is_named_with_its_field(tmp_path: Path) -> None:
    (channel,) = _problems(tmp_path, channel="bluesky:#hcsmeu")
    assert "communities[0].channels[0]" in channel
    assert "name a hashtag without '#'" in channel
    (moderator,) = _problems(tmp_path, moderator="bluesky:ann")
    assert "communities[0].moderators[0]" in moderator
    assert "a handle, such as 'bluesky:ann.bsky.social', or a DID" in moderator
    (handle,) = _problems(tmp_path, section=SECTION.replace("hashchatbot.bsky.social", "@@"))
    assert "platforms.bluesky.handle" in handle


def test_the_app_password_comes_only_from_the_named_variable(tmp_path: Path) -> None:
    (unset,) = _problems(tmp_path, env={})
    assert "the environment variable BLUESKY_APP_PASSWORD is not set" in unset
    (unnamed,) = _problems(
        tmp_path, section=SECTION.replace('token_env = "BLUESKY_APP_PASSWORD"\n', "")
    )
    assert "platforms.bluesky.token_env" in unnamed
