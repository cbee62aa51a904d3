"""`hashchat run` as a user starts it: it plans the next chat, serves pages, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from bot.clock import SystemClock
from bot.errors import ConfigError
from bot.platforms.local import LocalPlatform
from bot.platforms.registry import build_platforms
from tests.conftest import AGENDA, chat_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(tmp_path / "hashchat.toml"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        assert b"hashchat is running" in line
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as response,
        ):
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
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


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ("telegram:-1001234", "the telegram adapter is not part of this hashchat version yet"),
        ("irc:#hcsmeu", "unknown platform 'irc'; use one of local, telegram, discord, mastodon"),
    ],
)
def test_a_platform_that_cannot_run_is_refused_by_name(
    tmp_path: Path, channel: str, message: str
) -> None:
    config = chat_config(tmp_path, channels=("local:main", channel))
    with pytest.raises(ConfigError) as caught:
        build_platforms(config, SystemClock())
    (problem,) = caught.value.problems
    assert problem.message == message
    assert problem.field == "communities[0].channels[1]"
