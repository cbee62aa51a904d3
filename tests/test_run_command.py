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

from tests.conftest import AGENDA


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
