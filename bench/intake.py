"""Intake benchmark: hashchat's adapter + core against the bare SDK, on the same stand-in.

For each platform the stand-in of tests/fakes/ runs as its own process, and each measured
side runs in a subprocess of its own (so its CPU time and peak RSS are its own):

- ``bare``: the platform's SDK reading the stand-in with a handler that does nothing, the
  fastest reasonable way that SDK offers (Telegram: ``Bot.get_updates`` in a loop);
- ``hashchat``: a real ``App`` (tracker, attribution, writer, SQLite store in a temporary
  directory) with the platform's adapter, its chat live in the channel.

Each run asks the stand-in to queue N messages at once (``/_control/preload``) and times
until the N-th is handled (bare) or acknowledged (hashchat: stored, then acknowledged).
Sides alternate pair by pair, so both see the same machine load. For hashchat it also
gives the N-th acknowledgement against the N-th commit (how far acknowledgements lag).

    .venv/bin/python bench/intake.py [--n 3000] [--pairs 5] [--platforms telegram]

The last line is ``BENCH_JSON {...}``. Exit code 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench import intake_mastodon as md

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"ratio": 0.8, "ack_lag_ms": 100.0, "rss_mb": 150.0}
# Mostly the common message (no tag, no mention, no reply), some answers to Q1.
TEXTS = [
    "involving patients from day one changes what gets built",
    "our nurses asked for simple tools, not more dashboards",
    "A1: trust comes before data sharing, every single time",
    "access to records online was the biggest win for families",
    "we tried that too and it worked once people saw the results",
]
AGENDA = 'title = "Bench"\ntopic = "Load"\nwelcome = "Hi!"\nrules = "Be kind."\nclosing = "Bye."\n'
AGENDA += '[[questions]]\ntext = "Question 1: what would you change first?"\nat = "0m"\n'


@dataclass(frozen=True)
class Stand:
    """How to reach one platform's stand-in and its SDK."""

    module: str
    args: tuple[str, ...]
    preload: Callable[[dict[str, Any], int], dict[str, Any]]  # ready info, n -> body
    bare: Callable[[dict[str, Any], int, Callable[[], Awaitable[None]]], Awaitable[float]]
    config: Callable[[dict[str, Any]], tuple[str, str, dict[str, str]]]  # -> toml, channel, env
    # hashchat's adapter is ready to read the preload (a stream connected, say)
    live: Callable[[Any], bool] = lambda platform: True
    nudge: Callable[[Any], None] = lambda platform: None  # after the preload


# Telegram ------------------------------------------------------------------------------


def _tg_preload(info: dict[str, Any], n: int) -> dict[str, Any]:
    return {"count": n, "texts": TEXTS}


async def _tg_bare(info: dict[str, Any], n: int, preload: Callable[[], Awaitable[None]]) -> float:
    from telegram import Bot

    from tests.fakes.telegram_api import TOKEN

    async with Bot(TOKEN, base_url=f"{info['url']}/bot") as bot:
        await bot.get_updates(timeout=0)
        await preload()
        seen, offset = 0, None
        while seen < n:
            updates = await bot.get_updates(offset=offset, timeout=5, limit=100)
            for update in updates:
                if update.message is not None:
                    seen += 1
            if updates:
                offset = updates[-1].update_id + 1
        done = time.perf_counter()
        await bot.get_updates(offset=offset, timeout=0)  # confirm, as any reader would
        return done


def _tg_config(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    from tests.fakes.telegram_api import GROUP, TOKEN

    toml = f'[platforms.telegram]\ntoken_env = "BENCH_TG"\napi_url = "{info["url"]}"\n'
    return toml, f"telegram:{GROUP}/{info['topic']}", {"BENCH_TG": TOKEN}


# Discord --------------------------------------------------------------------------------


def _dc_preload(info: dict[str, Any], n: int) -> dict[str, Any]:
    return {"count": n, "texts": TEXTS, "channel": "chat"}


async def _dc_bare(info: dict[str, Any], n: int, preload: Callable[[], Awaitable[None]]) -> float:
    from bot.platforms.discord.endpoint import Endpoint
    from bot.platforms.discord.lib import discord

    seen, done, ready = [0], asyncio.Event(), asyncio.Event()
    marks: list[float] = []

    class Bare(discord.Client):
        async def on_ready(self) -> None:
            ready.set()

        async def on_message(self, message: discord.Message) -> None:
            seen[0] += 1
            if seen[0] == n:
                marks.append(time.perf_counter())
                done.set()

    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.message_content = True
    client = Bare(intents=intents, max_messages=None, chunk_guilds_at_startup=False)
    endpoint = Endpoint(str(info["api_url"]))  # only points discord.py at the stand-in
    endpoint.point()
    await client.login(str(info["token"]))
    await endpoint.find_gateway(client.http)
    running = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(ready.wait(), 30)
        await preload()
        await asyncio.wait_for(done.wait(), 600)
    finally:
        await client.close()
        await asyncio.gather(running, return_exceptions=True)
    return marks[0]


def _dc_config(info: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    toml = f'[platforms.discord]\ntoken_env = "BENCH_DC"\napi_url = "{info["api_url"]}"\n'
    return toml, f"discord:{info['channels']['chat']}", {"BENCH_DC": str(info["token"])}


STANDS = {
    "telegram": Stand("tests.fakes.telegram_process", (), _tg_preload, _tg_bare, _tg_config),
    "discord": Stand("tests.fakes.discord_process", (), _dc_preload, _dc_bare, _dc_config),
    "mastodon-streaming": Stand(
        "tests.fakes.mastodon_process", (), md.preload(TEXTS), md.bare_streaming,
        md.config(streaming=True), live=md.stream_live,
    ),
    "mastodon-polling": Stand(
        "tests.fakes.mastodon_process", (), md.preload(TEXTS), md.bare_polling,
        md.config(streaming=False), nudge=md.poll_now,
    ),
}  # fmt: skip


# one measured side, in its own process ----------------------------------------------------


async def _post(info: dict[str, Any], path: str, body: dict[str, Any]) -> None:
    base = info.get("url") or f"http://127.0.0.1:{info['port']}"
    async with aiohttp.ClientSession() as http, http.post(f"{base}{path}", json=body) as resp:
        resp.raise_for_status()
        await resp.read()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _CollectorTime:
    """Time spent in Python's cycle collector from now to ``stop`` (bot/collector.py)."""

    def __init__(self) -> None:
        self.seconds, self._began = 0.0, 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began

    def stop(self) -> None:
        gc.callbacks.remove(self._note)


def _profiler() -> cProfile.Profile | None:
    """With BENCH_PROFILE=FILE, the hashchat side profiles its event-loop thread from the
    preload to the N-th acknowledgement into FILE (pstats)."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    profile = cProfile.Profile()
    profile.enable()
    return profile


async def side_bare(stand: Stand, info: dict[str, Any], n: int) -> dict[str, Any]:
    marks: dict[str, float] = {}

    async def preload() -> None:
        # The clock starts as the stand-in is asked: a client on a push connection can
        # take all of a small N before the request returns (Discord at N=40 did).
        marks["t0"], marks["cpu0"] = time.perf_counter(), _cpu()
        await _post(info, "/_control/preload", stand.preload(info, n))

    done = await stand.bare(info, n, preload)
    return {"seconds": done - marks["t0"], "cpu": _cpu() - marks["cpu0"]}


async def side_hashchat(stand: Stand, info: dict[str, Any], n: int) -> dict[str, Any]:
    from bot.alarm import SchedulerAlarm
    from bot.app import App
    from bot.clock import SystemClock
    from bot.config import parse_config
    from bot.domain import ChannelRef
    from bot.platforms.registry import build_platforms

    toml, channel, env = stand.config(info)
    with tempfile.TemporaryDirectory(prefix="hashchat-intake-") as tmp:
        root = Path(tmp)
        (root / "agenda.toml").write_text(AGENDA, encoding="utf-8")
        at = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0, tzinfo=None)
        text = (
            'bot = { database = "chat.db" }\n'
            f"{toml}"
            '[[communities]]\nid = "bench"\nhashtag = "#benchchat"\ntimezone = "UTC"\n'
            f'channels = ["{channel}"]\n'
            f'sessions = [{{ id = "bench", at = {at.isoformat()}, duration = "60m",'
            ' agenda = "agenda.toml" }]\n'
        )
        config = parse_config(text, source=str(root / "hashchat.toml"), base_dir=root)
        clock, alarm = SystemClock(), SchedulerAlarm()
        platforms = build_platforms(config, clock, env=env)
        (platform,) = platforms.values()
        app = App(config, platforms=platforms, clock=clock, alarm=alarm, serve_web=False)
        marks: dict[str, float] = {}
        acks, stored = [0], [0]
        all_acked = asyncio.Event()
        acknowledge = platform.acknowledge
        acknowledge_all = getattr(platform, "acknowledge_all", None)

        def count(events: int) -> None:
            acks[0] += events
            if acks[0] >= n and not all_acked.is_set():
                marks["ack"] = time.perf_counter()
                all_acked.set()

        async def counted(event: Any) -> None:
            await acknowledge(event)
            count(1)

        async def counted_all(events: Any) -> None:
            await acknowledge_all(events)  # type: ignore[misc]
            count(len(events))

        platform.acknowledge = counted  # type: ignore[method-assign]
        if acknowledge_all is not None:  # a platform told once per committed batch
            platform.acknowledge_all = counted_all  # type: ignore[attr-defined]
        alarm.start()
        await app.start()
        try:
            writer = app.writer
            commit = writer._commit  # the bench times the commits

            async def timed(batch: list[Any], rows: list[Any], *args: Any) -> None:
                await commit(batch, rows, *args)
                stored[0] += len(rows)  # every new message has its row made when queued
                if stored[0] >= n and "commit" not in marks:
                    marks["commit"] = time.perf_counter()

            writer._commit = timed  # type: ignore[method-assign]
            ref = ChannelRef.parse(channel)
            deadline = time.monotonic() + 30
            while (
                app.live.for_channel(ref) is None
                or not app.live.for_channel(ref).posted
                or not stand.live(platform)
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the chat did not open")
                await asyncio.sleep(0.05)
            await app.settle()
            await asyncio.sleep(0.5)  # the first posts' acknowledgements and cursor saves
            acks[0] = stored[0] = 0
            marks["t0"], marks["cpu0"] = time.perf_counter(), _cpu()  # as the bare side's
            await _post(info, "/_control/preload", stand.preload(info, n))
            collecting = _CollectorTime()
            profile = _profiler()
            stand.nudge(platform)
            await asyncio.wait_for(all_acked.wait(), timeout=600)
            cpu = _cpu() - marks["cpu0"]
            collecting.stop()
            if profile is not None:
                profile.disable()
                profile.dump_stats(os.environ["BENCH_PROFILE"])
        finally:
            await app.stop()
            alarm.shutdown()
    return {
        "seconds": marks["ack"] - marks["t0"],
        "cpu": cpu,
        "ack_lag_ms": (marks["ack"] - marks.get("commit", marks["ack"])) * 1000,
        "commit_seconds": marks.get("commit", marks["ack"]) - marks["t0"],
        "gc_ms": collecting.seconds * 1000,
        "stored": stored[0],  # rows committed since the preload: n, unless counted wrong
    }


def run_side(args: argparse.Namespace) -> None:
    info = json.loads(Path(args.ready).read_text(encoding="utf-8"))
    stand = STANDS[args.platform]
    side = side_bare if args.side == "bare" else side_hashchat
    result = asyncio.run(side(stand, info, args.n))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("SIDE_JSON " + json.dumps(result), flush=True)


# the driver -------------------------------------------------------------------------------


def start_standin(stand: Stand, tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    ready = tmp / f"{name}.json"
    log = (tmp / f"{name}.log").open("wb")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            stand.module,
            "--port",
            "0",
            "--ready-file",
            str(ready),
            *stand.args,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} stand-in did not start; see {log.name}")
        time.sleep(0.05)
    return child, ready


def measure(name: str, side: str, ready: Path, n: int) -> dict[str, Any]:
    # BENCH_PYTHONPATH=another checkout: its bot/ measured, with this bench's helpers.
    path = os.pathsep.join(p for p in (os.environ.get("BENCH_PYTHONPATH"), str(ROOT)) if p)
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--side", side, "--platform", name]
    command += ["--ready", str(ready), "--n", str(n)]
    out = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("SIDE_JSON "):
            return dict(json.loads(line.removeprefix("SIDE_JSON ")))
    raise RuntimeError(f"{name} {side} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")


def bench_platform(name: str, n: int, pairs: int, tmp: Path) -> dict[str, Any]:
    stand = STANDS[name]
    child, ready = start_standin(stand, tmp, name)
    bare: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    try:
        for pair in range(pairs):
            order = ("bare", "hashchat") if pair % 2 == 0 else ("hashchat", "bare")
            for side in order:
                (bare if side == "bare" else ours).append(measure(name, side, ready, n))
            b, h = bare[-1], ours[-1]
            print(
                f"  {name} pair {pair + 1}: bare {n / b['seconds']:8.0f} msg/s,"
                f" hashchat {n / h['seconds']:8.0f} msg/s, ratio"
                f" {b['seconds'] / h['seconds']:.2f}, ack lag {h['ack_lag_ms']:.1f} ms,"
                f" GC {h['gc_ms']:.0f} ms",
                flush=True,
            )
    finally:
        child.terminate()
        child.wait(timeout=10)
    ratios = [b["seconds"] / h["seconds"] for b, h in zip(bare, ours, strict=True)]
    return {
        "bare_rate": statistics.median(n / r["seconds"] for r in bare),
        "hashchat_rate": statistics.median(n / r["seconds"] for r in ours),
        "ratio": statistics.median(ratios),
        "ratios": [round(r, 3) for r in ratios],
        "bare_cpu_us": statistics.median(r["cpu"] / n * 1e6 for r in bare),
        "hashchat_cpu_us": statistics.median(r["cpu"] / n * 1e6 for r in ours),
        "ack_lag_ms": max(r["ack_lag_ms"] for r in ours),
        "hashchat_gc_ms": statistics.median(r["gc_ms"] for r in ours),
        "ack_rate": statistics.median(n / r["seconds"] for r in ours),
        "commit_rate": statistics.median(n / r["commit_seconds"] for r in ours),
        "bare_rss_mb": max(r["rss_mb"] for r in bare),
        "hashchat_rss_mb": max(r["rss_mb"] for r in ours),
        "stored": [r["stored"] for r in ours],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="messages per run")
    parser.add_argument("--pairs", type=int, default=5, help="bare/hashchat pairs per platform")
    parser.add_argument("--platforms", default=",".join(STANDS))
    parser.add_argument("--side", choices=("bare", "hashchat"), help=argparse.SUPPRESS)
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args)
        return
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hashchat-intake-bench-") as tmp:
        for name in args.platforms.split(","):
            print(f"{name}: {args.pairs} pairs of {args.n} messages", flush=True)
            results[name] = bench_platform(name, args.n, args.pairs, Path(tmp))
    print()
    print(
        f"{'platform':<10} {'bare msg/s':>10} {'hashchat':>10} {'ratio':>6} {'CPU us bare':>11}"
        f" {'hashchat':>9} {'ack rate':>9} {'ack lag ms':>10} {'RSS MB':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<10} {r['bare_rate']:>10.0f} {r['hashchat_rate']:>10.0f} {r['ratio']:>6.2f}"
            f" {r['bare_cpu_us']:>11.0f} {r['hashchat_cpu_us']:>9.0f} {r['ack_rate']:>9.0f}"
            f" {r['ack_lag_ms']:>10.1f} {r['hashchat_rss_mb']:>7.0f}"
        )
    met = {
        name: {
            "ratio": r["ratio"] >= TARGETS["ratio"],
            "ack_lag_ms": r["ack_lag_ms"] <= TARGETS["ack_lag_ms"],
            "rss_mb": max(r["hashchat_rss_mb"], r["bare_rss_mb"]) <= TARGETS["rss_mb"],
        }
        for name, r in results.items()
    }
    print("BENCH_JSON " + json.dumps({"n": args.n, "pairs": args.pairs, "targets": TARGETS,
                                      "results": results, "met": met}))  # fmt: skip


if __name__ == "__main__":
    main()
