"""Failover time: two ``hashchat run`` processes on one database, the leader killed N times.

Each round finds the leader (its ``/ready`` says ``"role": "leader"``), kills it, and
times how long until the other instance's ``/ready`` says leader: the lease taken over
AND the leader's part started (platforms read, alarms set). The killed one is started
again, as the new standby, before the next round.

``kill`` (SIGKILL) is a crash on this host: the standby sees the holder's process gone
and takes over at its next attempt (at most 2 s). ``stop`` (SIGSTOP, then SIGKILL once
the other leads) is a machine gone or cut off: only the lease running out (6 s after the
last renewal) tells, the slow path, the one the 10-second promise is about.
Used by bench/scale.py (``--failover-kills``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

POLL = 0.02  # seconds between looks at /ready


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(database: str, folder: Path, server: str, public: int, port: int) -> str:
    """A community whose one chat is a week away: the leader reads and waits."""
    start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0, tzinfo=None)
    (folder / "agenda.toml").write_text(
        'title = "Failover"\nwelcome = "Welcome."\nclosing = "Thanks."\n'
        '[[questions]]\ntext = "Still there?"\nat = "5m"\n',
        encoding="utf-8",
    )
    return (
        f'[bot]\ndatabase = "{database}"\ntranscripts_dir = "{folder / "transcripts"}"\n'
        f'public_url = "http://127.0.0.1:{public}"\nlisten_port = {port}\n\n'
        f'[platforms.local]\nserver = "{server}"\n\n'
        '[[communities]]\nid = "failover"\nhashtag = "#failover"\ntimezone = "UTC"\n'
        'channels = ["local:main"]\n\n[[communities.sessions]]\nid = "weekly"\n'
        f'at = {start.isoformat()}\nduration = "30m"\nagenda = "{folder / "agenda.toml"}"\n'
    )


class Instance:
    def __init__(self, name: str, folder: Path, text: str, port: int) -> None:
        self.port = port
        self.config = folder / f"{name}.toml"
        self.config.write_text(text, encoding="utf-8")
        self.log = folder / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config),
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    async def role(self, http: aiohttp.ClientSession) -> str | None:
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/ready") as response:
                if response.status != 200:
                    return None
                return str((await response.json())["role"])
        except (aiohttp.ClientError, OSError):
            return None

    async def wait_role(self, http: aiohttp.ClientSession, role: str, within: float) -> float:
        """Seconds until /ready says ``role``; raises after ``within``."""
        begun = time.monotonic()
        while await self.role(http) != role:
            if self.proc is not None and self.proc.returncode is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.config.stem} exited:\n{tail}")
            if time.monotonic() - begun > within:
                raise RuntimeError(f"{self.config.stem} not {role} within {within} s")
            await asyncio.sleep(POLL)
        return time.monotonic() - begun

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.returncode is None:
            os.kill(self.proc.pid, sig)

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            await self.proc.wait()


async def up(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as response:
            return response.status == 200
    except (aiohttp.ClientError, OSError):
        return False


async def measure(database: str, kills: int, mode: str, folder: Path) -> dict[str, object]:
    """Takeover seconds of each of ``kills`` rounds, with their max and mean."""
    server_port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "local-server", "--port", str(server_port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    ports = [free_port(), free_port()]
    url = f"http://127.0.0.1:{server_port}"
    pair = [
        Instance(name, folder, config(database, folder, url, ports[0], port), port)
        for name, port in zip(("first", "second"), ports, strict=True)
    ]
    takeovers: list[float] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            begun = time.monotonic()
            while not await up(http, f"{url}/health"):
                if time.monotonic() - begun > 30:
                    raise RuntimeError("the local server did not start")
                await asyncio.sleep(POLL)
            await pair[0].start()
            await pair[0].wait_role(http, "leader", 60)
            await pair[1].start()
            await pair[1].wait_role(http, "standby", 60)
            for _ in range(kills):
                roles = [await i.role(http) for i in pair]
                leader, standby = (pair[0], pair[1]) if roles[0] == "leader" else pair[::-1]
                begun = time.monotonic()
                leader.signal(signal.SIGKILL if mode == "kill" else signal.SIGSTOP)
                await standby.wait_role(http, "leader", 60)
                takeovers.append(round(time.monotonic() - begun, 3))
                await leader.kill()
                await leader.start()  # the next round's standby
                await leader.wait_role(http, "standby", 60)
    finally:
        for instance in pair:
            await instance.kill()
        server.kill()
        await server.wait()
    return {
        "failover_mode": mode,
        "failover_kills": len(takeovers),
        "failover_takeover_s": takeovers,
        "failover_max_s": max(takeovers, default=float("nan")),
        "failover_mean_s": round(sum(takeovers) / len(takeovers), 3) if takeovers else None,
    }
