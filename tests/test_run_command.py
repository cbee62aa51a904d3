"""`hashchat run` as a user starts it: it plans the next chat, serves pages, stops on SIGTERM."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from bot.clock import SystemClock
from bot.errors import ConfigError
from bot.platforms.local.platform import LocalPlatform
from bot.platforms.registry import build_platforms, secret
from tests.bot_process import BotProcess, free_port
from tests.conftest import AGENDA, chat_config


async def test_run_plans_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    (tmp_path / "hashchat.toml").write_text(
        f"""
[bot]
database = "run.db"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}

[[communities]]
id = "hcsmca"
hashtag = "#hcsmca"
timezone = "America/Toronto"
channels = ["local:hcsmca"]

[[communities.series]]
id = "weekly"
schedule = "every friday at 12:00"
agenda = "agenda.toml"
""",
        encoding="utf-8",
    )
    async with BotProcess(tmp_path / "hashchat.toml") as bot:
        await bot.started()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as response,
        ):
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        assert await bot.stop() == 0
    with closing(sqlite3.connect(tmp_path / "run.db")) as db:
        rows = db.execute("SELECT slug, state FROM sessions").fetchall()
    assert len(rows) == 1
    slug, state = rows[0]
    assert slug.startswith("hcsmca/")
    assert state in {"planned", "live"}  # live only if run during Friday's chat hour


def test_configured_local_moderators_become_the_local_platforms_admins(tmp_path: Path) -> None:
    platforms = build_platforms(chat_config(tmp_path), SystemClock())
    local = platforms["local"]
    assert isinstance(local, LocalPlatform)
    assert local.admins == {"mod"}


def test_an_unknown_platform_is_refused_by_name(tmp_path: Path) -> None:
    config = chat_config(tmp_path, channels=("local:main", "irc:#hcsmeu"))
    with pytest.raises(ConfigError) as caught:
        build_platforms(config, SystemClock())
    (problem,) = caught.value.problems
    assert (
        problem.message
        == "unknown platform 'irc'; use one of local, telegram, discord, mastodon, bluesky"
    )
    assert problem.field == "communities[0].channels[1]"


def test_a_token_comes_only_from_the_environment_variable_the_config_names(
    tmp_path: Path,
) -> None:
    unnamed = chat_config(tmp_path)
    with pytest.raises(ConfigError) as caught:
        secret(unnamed, "telegram", {"TELEGRAM_BOT_TOKEN": "123:abc"})
    (problem,) = caught.value.problems
    assert problem.field == "platforms.telegram.token_env"
    assert problem.message == "name the environment variable that holds the token"

    named = chat_config(tmp_path, extra='[platforms.telegram]\ntoken_env = "HCSMEU_TG"')
    with pytest.raises(ConfigError) as caught:
        secret(named, "telegram", {"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert caught.value.problems[0].message == "the environment variable HCSMEU_TG is not set"
    assert secret(named, "telegram", {"HCSMEU_TG": " 123:abc\n"}) == "123:abc"
