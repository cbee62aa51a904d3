"""Child processes for the end-to-end suite: started with their output in a log file,
waited for with deadlines, stopped by signal; the log's tail explains a failure."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

POLL = 0.05  # seconds between looks at a condition
ROOT = Path(__file__).resolve().parents[2]  # the checkout: ``tests`` is importable from it


async def wait_for(
    check: Callable[[], Awaitable[bool]], *, within: float, what: str, log: Path | None = None
) -> None:
    """Poll ``check`` every 50 ms until it is true; after ``within`` seconds fail with
    ``what`` (and the tail of ``log``)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}" + tail(log))
        await asyncio.sleep(POLL)


def tail(log: Path | None, lines: int = 60) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


class Child:
    """One child process, its stdout and stderr appended to ``log``."""

    def __init__(
        self,
        args: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.log = log
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n=== {' '.join(self.args)}\n".encode())
            out.flush()
            self.proc = await asyncio.create_subprocess_exec(
                *self.args, stdout=out, stderr=asyncio.subprocess.STDOUT, env=self.env, cwd=self.cwd
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def exited(self, within: float) -> int:
        """The exit status of a process that ends by itself within ``within`` seconds."""
        assert self.proc is not None, "start() first"
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            raise AssertionError(f"still running after {within:.0f} s" + tail(self.log)) from None

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def stop(self, within: float = 15) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit within ``within`` seconds."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), within)
            except TimeoutError:
                await self.kill()
        return self.proc.returncode


async def start_standin(
    module: str, workdir: Path, name: str, *args: str, within: float = 30
) -> tuple[Child, dict[str, Any]]:
    """Start a platform's stand-in (``python -m <module> --ready-file F <args>`` in the
    checkout, its output in ``<name>-standin.log``) and wait until it has written the
    ready file F: returns the process and what the file says (its port, tokens, ids)."""
    ready = workdir / f"{name}-ready.json"
    ready.unlink(missing_ok=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    child = Child(
        python_module(module, "--ready-file", str(ready), *args),
        workdir / f"{name}-standin.log",
        env={"PYTHONPATH": path},
        cwd=ROOT,
    )
    await child.start()

    async def written() -> bool:
        if not child.running:
            raise AssertionError(f"the {name} stand-in exited" + tail(child.log))
        return ready.exists()

    await wait_for(written, within=within, what=f"the {name} stand-in up", log=child.log)
    described: dict[str, Any] = json.loads(ready.read_text(encoding="utf-8"))
    return child, described


class StandinDriver:
    """What every driver holds: its stand-in's process and an HTTP session to the
    stand-in's control API, both ended by ``stop``."""

    stop_within = 15.0  # seconds after SIGTERM before SIGKILL
    _child: Child | None = None
    _http: aiohttp.ClientSession | None = None

    async def stop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()
        child, self._child = self._child, None
        if child is not None:
            await child.stop(self.stop_within)


def python_module(*args: str) -> list[str]:
    """``python -m <args>`` with this interpreter, as a user's virtualenv would run it."""
    return [sys.executable, "-m", *args]


async def http_ok(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 200
    except (aiohttp.ClientError, OSError):
        return False
