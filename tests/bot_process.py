"""``hashchat run`` as its own process, as a user starts it, for the tests of the command
itself: what it prints on stdout and on stderr is read apart, line by line as it comes,
so a test can wait for a line (with a deadline) and then look at either stream.

The end-to-end suite's processes (tests/e2e/process.py) write both streams to one log
instead; the tests here need stderr on its own (logs go there, the "running" line not).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.process import wait_for

DEADLINE = 60.0  # seconds: a safety net, every wait ends on a condition


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lines:
    """Everything a stream printed, read as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.lines.append(line.decode(errors="replace"))

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def text(self) -> str:
        return "".join(self.lines)


async def until(condition: Callable[[], bool], what: str, within: float = DEADLINE) -> None:
    """Poll ``condition`` every 50 ms; fail after ``within`` seconds."""

    async def check() -> bool:
        return condition()

    await wait_for(check, within=within, what=what)


class BotProcess:
    """``python -m bot run --config <config> [extra]``; use as ``async with``: at the end
    a process still running is killed and the streams are read to their end."""

    def __init__(self, config: Path, *extra: str) -> None:
        self.args = [sys.executable, "-m", "bot", "run", "--config", str(config), *extra]
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.out, self.err = Lines(self.proc.stdout), Lines(self.proc.stderr)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(self.out.task, self.err.task, return_exceptions=True)

    @property
    def returncode(self) -> int | None:
        assert self.proc is not None
        return self.proc.returncode

    def signal(self, number: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(number)

    async def started(self) -> None:
        """Wait for its first line on stdout, which must say that it is running."""
        await until(lambda: bool(self.out.lines) or self.out.task.done(), "a line on stdout")
        first = self.out.lines[0] if self.out.lines else "(nothing)"
        assert "hashchat is running" in first, f"{first}\n{self.err.text}"

    async def exited(self, within: float = DEADLINE) -> int:
        """Its exit status, once it has ended by itself and its streams are read."""
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), within)
        await asyncio.gather(self.out.task, self.err.task)
        return code

    async def stop(self, within: float = 30) -> int:
        """SIGTERM, and its exit status once it has ended."""
        self.signal(signal.SIGTERM)
        return await self.exited(within)
