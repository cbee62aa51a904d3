"""``make chaos``: short chats of the real ``hashchat run`` against the local server
process, the bot SIGKILLed at random moments and restarted, participants posting
throughout, and a share of the bot's posts refused with 429/5xx.

It counts what a community would notice: chats run, kills, duplicate posts, lost steps
(missing and not reported to the moderators as uncertain), unreported uncertain steps,
lost answers (accepted by the platform before the chat's end, missing from its
transcript.json), doubled answers (there twice) and misfiled ones (under another
question), then prints one JSON line. Target: 0 in every loss column over 20 chats
with 80 kills (``--chats 20 --kills 80``). Run from the repository root with
``PYTHONPATH=.`` (the Makefile does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bot_process import free_port
from tests.e2e.harness import DURATION, STEPS, agenda, bot_section, community, step_of
from tests.e2e.platforms.local import LocalDriver
from tests.e2e.process import Child, python_module, wait_for

FAULTS = (429, 500, 502, 503)
LABELS = {"welcome": "the welcome", "closing": "the closing", "transcript": "the transcript"}


@dataclass
class ChaosChat:
    index: int
    start: datetime
    sent: dict[str, int] = field(default_factory=dict)  # answer text -> question
    accepted: dict[str, datetime] = field(default_factory=dict)  # text -> server time

    @property
    def community(self) -> str:
        return f"chaos{self.index}"

    @property
    def channel(self) -> str:
        return f"c{self.index}"

    @property
    def end(self) -> datetime:
        return self.start + DURATION


def write_config(work: Path, driver: LocalDriver, chats: list[ChaosChat], port: int) -> Path:
    (work / "agenda.toml").write_text(agenda(), encoding="utf-8")
    parts = [bot_section(port), driver.config()]
    for chat in chats:
        channel = f"local:{chat.channel}"
        parts.append(community(chat.community, channel, ["local:mods"], chat.start, DURATION))
    config = work / "hashchat.toml"
    config.write_text("\n".join(parts), encoding="utf-8")
    return config


async def record(driver: LocalDriver) -> list[dict[str, Any]]:
    data: dict[str, Any] = await driver.request("GET", "/api/messages")
    messages: list[dict[str, Any]] = data["messages"]
    return messages


def questions_posted(messages: list[dict[str, Any]], chat: ChaosChat, url: str) -> dict[int, str]:
    posted: dict[int, str] = {}
    for m in messages:
        if m["by_bot"] and m["channel"] == chat.channel and not m["thread"]:
            key = step_of(m["text"], url)
            if key is not None and key.startswith("q"):
                posted.setdefault(int(key[1:]), m["id"])
    return posted


async def participants(
    driver: LocalDriver, chats: list[ChaosChat], url: str, rate: float, rng: random.Random
) -> None:
    """Each chat gets ``rate`` answers a second, by tag or by reply, to a question the
    stand-in shows as posted, until just before the chat's end."""
    count = 0
    last_end = max(c.end for c in chats)
    while datetime.now(UTC) < last_end:
        messages = await record(driver)
        now = datetime.now(UTC)
        sends = []
        for chat in chats:
            if not chat.start <= now < chat.end - timedelta(seconds=0.3):
                continue
            posted = questions_posted(messages, chat, url)
            if not posted:
                continue
            number = max(posted) if rng.random() < 0.7 else rng.choice(list(posted))
            count += 1
            who = f"p{rng.randrange(40)}"
            if rng.random() < 0.7:
                text, reply = f"A{number}: answer {count} in {chat.channel}", None
            else:
                text, reply = f"reply {count} in {chat.channel}", posted[number]
            chat.sent[text] = number
            sends.append(say(driver, chat, who, text, reply))
        await asyncio.gather(*sends)
        await asyncio.sleep(1 / rate)


async def say(driver: LocalDriver, chat: ChaosChat, who: str, text: str, reply: str | None) -> None:
    body = {"channel": chat.channel, "user": who, "text": text, "reply_to": reply}
    message = await driver.request("POST", "/api/messages", body)
    chat.accepted[text] = datetime.fromisoformat(message["at"])


async def killer(bot: Child, budget: int, until: datetime, rng: random.Random) -> int:
    """SIGKILL the bot at random moments (start-up included) and start it again at once."""
    kills = 0
    while kills < budget and datetime.now(UTC) < until:
        left = (until - datetime.now(UTC)).total_seconds()
        mean = max(0.3, left / (budget - kills))
        await asyncio.sleep(rng.uniform(0.2, 2 * mean - 0.2))
        await bot.kill()
        kills += 1
        await bot.start()
    return kills


async def finished(driver: LocalDriver, chats: list[ChaosChat], url: str, work: Path) -> bool:
    messages = await record(driver)
    done = {
        m["channel"] for m in messages if m["by_bot"] and step_of(m["text"], url) == "transcript"
    }
    return all(
        c.channel in done and list((work / "transcripts" / c.community).glob("*/transcript.json"))
        for c in chats
    )


def analyse(
    messages: list[dict[str, Any]], chats: list[ChaosChat], url: str, work: Path
) -> dict[str, int]:
    totals = dict.fromkeys(
        ("duplicate_posts", "lost_steps", "unreported_uncertain", "lost_answers",
         "doubled_answers", "misfiled_answers", "answers", "uncertain_reported"),
        0,
    )  # fmt: skip
    lost: list[dict[str, str]] = []
    notices = [m["text"] for m in messages if m["by_bot"] and m["channel"] == "mods"]
    with closing(sqlite3.connect(work / "hashchat.db")) as db:
        states = {
            (community, step, channel.removeprefix("local:")): state
            for community, step, channel, state in db.execute(
                "SELECT s.community, p.step_key, p.channel, p.state"
                " FROM posts p JOIN sessions s ON s.id = p.session_id"
            )
        }
    for chat in chats:
        counts = dict.fromkeys(STEPS, 0)
        for m in messages:
            if m["by_bot"] and m["channel"] == chat.channel and not m["thread"]:
                key = step_of(m["text"], url)
                if key is not None:
                    counts[key] += 1
        for key, n in counts.items():
            totals["duplicate_posts"] += max(0, n - 1)
            stored = next(
                (v for (c, s, ch), v in states.items()
                 if c == chat.community and ch == chat.channel and s.split(":")[0] == key),
                None,
            )  # fmt: skip
            label = key.upper() if key.startswith("q") else LABELS.get(key, key)
            told = any(label in n and f"local:{chat.channel}" in n for n in notices)
            if stored == "uncertain":
                totals["uncertain_reported" if told else "unreported_uncertain"] += 1
            elif n == 0:
                totals["lost_steps"] += 1
        files = list((work / "transcripts" / chat.community).glob("*/transcript.json"))
        stored_texts: dict[str, list[list[int]]] = {}
        if files:
            for m in json.loads(files[0].read_text(encoding="utf-8"))["messages"]:
                stored_texts.setdefault(m["text"], []).append(m["questions"])
        for text, number in chat.sent.items():
            if chat.accepted.get(text, chat.end) >= chat.end:
                continue  # not accepted before the end: the chat need not keep it
            totals["answers"] += 1
            found = stored_texts.get(text, [])
            if not found:
                totals["lost_answers"] += 1
                lost.append({"text": text, "at": chat.accepted[text].isoformat()})
            elif len(found) > 1:
                totals["doubled_answers"] += 1
            elif found[0] != [number]:
                totals["misfiled_answers"] += 1
    (work / "lost-answers.json").write_text(json.dumps(lost, indent=1), encoding="utf-8")
    return totals


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hashchat-chaos-"))
    driver = LocalDriver()
    await driver.start(work)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = datetime.fromtimestamp(int(time.time()) + 7, UTC)
    chats = [ChaosChat(k, first + timedelta(seconds=args.spacing * k)) for k in range(args.chats)]
    config = write_config(work, driver, chats, port)
    await driver.fail_posts(args.fail, FAULTS)
    bot = Child(python_module("bot", "-v", "run", "--config", str(config)), work / "hashchat.log")
    await bot.start()
    try:
        talk = asyncio.create_task(participants(driver, chats, url, args.rate, rng))
        kills = await killer(bot, args.kills, max(c.end for c in chats), rng)
        await talk
        with contextlib.suppress(AssertionError):  # what is still missing is counted below
            await wait_for(
                lambda: finished(driver, chats, url, work), within=args.settle, what="the end"
            )
        await bot.stop()
        totals = analyse(await record(driver), chats, url, work)
    finally:
        await bot.stop()
        await driver.stop()
    result: dict[str, Any] = {"chats": args.chats, "kills": kills, **totals, "workdir": str(work)}
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        result["workdir"] = None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=6)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--spacing", type=float, default=5.0, help="seconds between chat starts")
    parser.add_argument("--rate", type=float, default=4.0, help="answers a second per chat")
    parser.add_argument("--fail", type=float, default=0.2, help="share of posts refused")
    parser.add_argument("--settle", type=float, default=150.0, help="seconds to wait at the end")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    result = asyncio.run(run(parser.parse_args()))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
