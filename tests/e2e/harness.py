"""One short chat of the real ``hashchat run`` process against a platform's stand-in.

The harness writes a config for a one-off chat that starts a few seconds after launch
(a reminder before it, three questions two seconds apart, a short closing, the
transcript link served by hashchat's own web server), starts the bot as a subprocess
with the real clock and the real APScheduler alarm, and reads what it posted through
the driver. Due times come from the config written here, so lateness is the stand-in's
accept time minus the due time.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bot_process import free_port
from tests.e2e.driver import Driver, Post
from tests.e2e.process import Child, python_module, tail, wait_for

HASHTAG = "#e2echat"
TITLE = "End-to-end trial"
WELCOME = "Welcome to the end-to-end trial."
CLOSING = "Thanks, that was the end-to-end trial."
QUESTIONS = (
    "What did you try first?",
    "Which tool helped you most?",
    "What should change next?",
)
REMINDER_BEFORE = timedelta(seconds=4)
QUESTION_AT = (timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=6))
DURATION = timedelta(seconds=9)
LEAD = 7.0  # seconds from launch to the chat's start: the bot's start-up fits before
STEPS = ("reminder", "welcome", "q1", "q2", "q3", "closing", "transcript")


def step_of(text: str, public_url: str) -> str | None:
    """Which step a post of the bot is, by the words only that step carries."""
    if public_url in text:
        return "transcript"
    if CLOSING in text:
        return "closing"
    if WELCOME in text:
        return "welcome"
    for n, question in enumerate(QUESTIONS, 1):
        if question in text:
            return f"q{n}"
    if TITLE in text:
        return "reminder"
    return None


def agenda() -> str:
    questions = "".join(
        f'\n[[questions]]\ntext = "{text}"\nat = "{int(at.total_seconds())}s"\n'
        for text, at in zip(QUESTIONS, QUESTION_AT, strict=True)
    )
    return f'title = "{TITLE}"\nwelcome = "{WELCOME}"\nclosing = "{CLOSING}"\n{questions}'


def bot_section(port: int) -> str:
    """The ``[bot]`` section: files in the work directory, pages served on ``port``."""
    return f"""
[bot]
database = "hashchat.db"
transcripts_dir = "transcripts"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}
grace = "5m"
"""


def community(
    ident: str,
    channel: str,
    moderator_channels: Sequence[str],
    start: datetime,
    duration: timedelta,
    *,
    moderators: Sequence[str] = (),
) -> str:
    """A community whose one chat, on ``agenda()``, starts at ``start`` in ``channel``."""
    return f"""
[[communities]]
id = "{ident}"
hashtag = "{HASHTAG}"
locale = "en"
timezone = "UTC"
channels = ["{channel}"]
moderators = {json.dumps(list(moderators))}
moderator_channels = {json.dumps(list(moderator_channels))}

[[communities.sessions]]
id = "trial"
title = "{TITLE}"
at = {start.replace(tzinfo=None).isoformat()}
duration = "{int(duration.total_seconds())}s"
agenda = "agenda.toml"
reminders = ["{int(REMINDER_BEFORE.total_seconds())}s"]
"""


@dataclass
class Chat:
    """The chat of one test: its files in ``workdir``, its bot process, its due times.
    A test that acts long after Q1 gives the chat a longer ``duration``, so that it is
    not closed meanwhile; ``moderators`` are the community's moderators' accounts."""

    driver: Driver
    workdir: Path
    duration: timedelta = DURATION
    moderators: Sequence[str] = ()
    start: datetime = field(init=False)
    port: int = field(default_factory=free_port)
    bot: Child | None = None

    def __post_init__(self) -> None:
        self.start = datetime.fromtimestamp(math.ceil(time.time() + LEAD), UTC)
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.log = self.workdir / "hashchat.log"
        self.config = self.workdir / "hashchat.toml"

    @property
    def due(self) -> dict[str, datetime]:
        times = {"reminder": self.start - REMINDER_BEFORE, "welcome": self.start}
        for n, at in enumerate(QUESTION_AT, 1):
            times[f"q{n}"] = self.start + at
        times["closing"] = times["transcript"] = self.start + self.duration
        return times

    def until(self, key: str, spare: float = 8.0) -> float:
        """Seconds to wait for step ``key``: until its due time, plus ``spare``."""
        return max(0.0, self.due[key].timestamp() - time.time()) + spare

    def write(self) -> None:
        (self.workdir / "agenda.toml").write_text(agenda(), encoding="utf-8")
        mods = self.driver.moderator_channel
        trial = community(
            "e2e",
            self.driver.channel,
            [mods] if mods else [],
            self.start,
            self.duration,
            moderators=self.moderators,
        )
        parts = (bot_section(self.port), self.driver.config(), trial)
        self.config.write_text("\n".join(parts), encoding="utf-8")

    async def launch(
        self,
        *,
        verbose: bool = True,
        env: dict[str, str] | None = None,
        options: Sequence[str] = (),
    ) -> None:
        """Start ``hashchat -v run [options]`` (again, after a kill) against the same
        files, with the driver's environment (``env`` added over it)."""
        args = python_module(
            "bot", *(["-v"] if verbose else []), "run", "--config", str(self.config), *options
        )
        self.bot = Child(args, self.log, env={**self.driver.env(), **(env or {})})
        await self.bot.start()

    async def kill(self) -> None:
        assert self.bot is not None
        await self.bot.kill()

    async def stop(self) -> int | None:
        return None if self.bot is None else await self.bot.stop()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def messages(self) -> list[dict[str, Any]]:
        """The participants' messages the bot has stored so far (rows of its database)."""
        database = self.workdir / "hashchat.db"
        if not database.exists():
            return []
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM messages ORDER BY sent_at").fetchall()
        return [dict(row) for row in rows]

    # what was posted ------------------------------------------------------------------

    def step_of(self, post: Post) -> str | None:
        return step_of(post.text, self.public_url)

    async def steps(self) -> dict[str, list[Post]]:
        """The bot's posts in the chat's channel, by step (a thread's posts excluded)."""
        found: dict[str, list[Post]] = {key: [] for key in STEPS}
        for post in await self.driver.posts():
            key = self.step_of(post)
            if post.channel == self.driver.channel and key is not None:
                found[key].append(post)
        return found

    async def notices(self) -> list[Post]:
        """What the bot told the moderators (or, without their channel, posted elsewhere)."""
        return [
            p
            for p in await self.driver.posts()
            if self.step_of(p) is None or p.channel != self.driver.channel
        ]

    async def wait_posted(self, key: str, within: float) -> Post:
        async def posted() -> bool:
            return bool((await self.steps())[key])

        await wait_for(posted, within=within, what=f"{key} posted")
        return (await self.steps())[key][0]

    async def wait_transcript_file(self, within: float = 10) -> dict[str, Any]:
        async def written() -> bool:
            return bool(list((self.workdir / "transcripts").glob("*/*/transcript.json")))

        await wait_for(written, within=within, what="transcript.json written")
        (path,) = (self.workdir / "transcripts").glob("*/*/transcript.json")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    # reporting --------------------------------------------------------------------------

    def lateness(self, steps: dict[str, list[Post]]) -> dict[str, float | None]:
        return {
            key: (posts[0].at - self.due[key]).total_seconds() if posts else None
            for key, posts in steps.items()
        }

    def report(self, test: str, steps: dict[str, list[Post]], report_file: str | None) -> str:
        """The lateness table (printed; visible with ``pytest -s``), also appended as a
        JSON line to ``report_file`` when given."""
        late = self.lateness(steps)
        lines = [
            f"{self.driver.name} · {test}",
            f"  {'step':<11}{'due (UTC)':<15}{'posted (UTC)':<15}{'times':>5}  lateness",
        ]
        for key in STEPS:
            posts, due = steps[key], self.due[key]
            at = f"{posts[0].at.astimezone(UTC):%H:%M:%S.%f}"[:12] if posts else "-"
            shown = "missing" if late[key] is None else f"{late[key]:+.3f} s"
            due_at = f"{due:%H:%M:%S.%f}"[:12]
            lines.append(f"  {key:<11}{due_at:<15}{at:<15}{len(posts):>5}  {shown}")
        table = "\n".join(lines)
        print("\n" + table)
        if report_file:
            entry = {
                "platform": self.driver.name,
                "test": test,
                "start": self.start.isoformat(),
                "steps": {
                    key: {
                        "due": self.due[key].isoformat(),
                        "posted": [p.at.isoformat() for p in steps[key]],
                        "lateness_seconds": late[key],
                    }
                    for key in STEPS
                },
            }
            with open(report_file, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")
        return table

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Chat]:
        """Write the files and launch the bot; stop it at the end. A failure inside
        carries the tails of the logs."""
        self.write()
        await self.launch()
        try:
            with self.explained():
                yield self
        finally:
            await self.stop()

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """A failure carries the tail of the bot's log and of the stand-in's logs."""
        try:
            yield
        except AssertionError as exc:
            logs = [self.log, *sorted(set(self.workdir.glob("*.log")) - {self.log})]
            tails = "".join(tail(log, 40) for log in logs)
            raise AssertionError(f"{exc}{tails}") from None
