"""Attribution micro-benchmark: ``attribute()`` over the messages ``bench/ingest.py`` sends.

The tracker calls ``attribute`` for every message with a digit or a reply (most of a chat's
answers), so its cost per call is a large part of the core's per-message cost. This times
exactly those calls, as the tracker makes them (``posted`` a fresh set, ``locale`` the
session's tuple), median of several repetitions. With ``--against REF`` it also loads
``bot/attribution.py`` as it is at that git ref and times both, alternating, on the same
calls (and checks both give the same answers), so machine load hits both alike.

    PYTHONPATH=. .venv/bin/python bench/attribution.py [--reps 9] [--against main]

The last line is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.ingest import CHANNELS, SPECS, script
from bot import attribution
from bot.attribution import may_tag

Call = tuple[str, tuple[str, ...], int | None]


@dataclass(frozen=True)
class _Post:
    text: str
    ref: str


class _Posts:
    """Stands in for the local platform: ``script()`` only reads the questions' posts."""

    def __init__(self, questions: int) -> None:
        self.questions = questions

    def bot_posts(self, channel: object) -> list[_Post]:
        return [_Post(f"Q{n}: question", f"{channel}-{n}") for n in range(1, self.questions + 1)]


def calls(seeds: range) -> dict[str, list[Call]]:
    """The attribute() calls the tracker makes for the bench's chats, by message form."""
    out: dict[str, list[Call]] = {}
    for spec in SPECS.values():
        posts = _Posts(spec.questions)
        refs = {
            p.ref: int(p.text[1 : p.text.index(":")])
            for ch in CHANNELS
            for p in posts.bot_posts(ch)
        }
        for seed in seeds:
            for msg in script(spec, posts, seed):  # type: ignore[arg-type]
                reply = None if msg.reply_to is None else refs[msg.reply_to]  # type: ignore[index]
                if reply is None and not may_tag(msg.text):
                    continue  # the tracker does not call attribute() for it
                out.setdefault("all", []).append((msg.text, ("en",), reply))
    return out


def time_calls(attribute: Callable[..., frozenset[int]], batch: list[Call], posted: range) -> float:
    """µs per call, one pass (the tracker builds ``posted`` as a fresh set per message)."""
    t0 = time.perf_counter()
    for text, locales, reply in batch:
        attribute(text, posted=set(posted), locale=locales, reply_question=reply)
    return (time.perf_counter() - t0) / len(batch) * 1e6


def load_at(ref: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{ref}:bot/attribution.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "attribution_at_ref.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("attribution_at_ref", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--against", help="a git ref whose bot/attribution.py to time too")
    args = parser.parse_args()
    batch = calls(range(1, args.seeds + 1))["all"]
    posted = range(1, 11)
    sides: dict[str, ModuleType] = {"now": attribution}
    if args.against:
        sides[args.against] = load_at(args.against)
        base = sides[args.against].attribute
        differ = sum(
            attribution.attribute(t, posted=set(posted), locale=lo, reply_question=r)
            != base(t, posted=set(posted), locale=lo, reply_question=r)
            for t, lo, r in batch
        )
        print(f"answers differing from {args.against}: {differ} of {len(batch)}")
    runs: dict[str, list[float]] = {name: [] for name in sides}
    for module in sides.values():
        time_calls(module.attribute, batch, posted)  # warm the caches
    for _ in range(args.reps):
        for name, module in sides.items():
            runs[name].append(time_calls(module.attribute, batch, posted))
    print(f"attribute() over {len(batch)} calls from bench/ingest.py's chats, {args.reps} reps")
    out: dict[str, Any] = {"calls": len(batch), "reps": args.reps, "us_per_call": {}}
    for name, times in runs.items():
        median = statistics.median(times)
        out["us_per_call"][name] = round(median, 3)
        print(f"  {name:>8}: {median:6.2f} µs/call (min {min(times):.2f}, max {max(times):.2f})")
    if args.against:
        out["speedup"] = round(out["us_per_call"][args.against] / out["us_per_call"]["now"], 2)
        print(f"  speed-up against {args.against}: {out['speedup']}x")
    print("BENCH_JSON " + json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
