"""Attribution micro-benchmark: ``attribute()`` over the messages ``bench/ingest.py`` sends.

The tracker asks ``may_tag()`` of every message that replies to nothing and calls
``attribute`` for every message with a digit or a reply (most of a chat's answers), so
their cost per call is a large part of the core's per-message cost. This times exactly
those calls, as the tracker makes them (``posted`` the session's frozenset, ``locale`` its
tuple; ``may_tag`` over every message's text), median of several repetitions. With
``--against REF`` it also loads ``bot/attribution.py`` as it is at that git ref and times
both, alternating, on the same calls (and counts the answers that differ), so machine load
hits both alike.

    PYTHONPATH=. .venv/bin/python bench/attribution.py [--reps 9] [--against main]

The last line is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
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


def calls(seeds: range) -> tuple[list[str], list[Call]]:
    """Every message's text of the bench's chats, and the attribute() calls the tracker
    makes for them."""
    texts: list[str] = []
    out: list[Call] = []
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
                texts.append(msg.text)
                if reply is not None or may_tag(msg.text):
                    out.append((msg.text, ("en",), reply))
    return texts, out


def time_calls(module: ModuleType, batch: list[Call], posted: frozenset[int]) -> float:
    """µs per attribute() call, one pass."""
    attribute = module.attribute
    t0 = time.perf_counter()
    for text, locales, reply in batch:
        attribute(text, posted=posted, locale=locales, reply_question=reply)
    return (time.perf_counter() - t0) / len(batch) * 1e6


def time_may_tag(module: ModuleType, texts: list[str]) -> float:
    may_tag = module.may_tag
    t0 = time.perf_counter()
    for text in texts:
        may_tag(text)
    return (time.perf_counter() - t0) / len(texts) * 1e6


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
    texts, batch = calls(range(1, args.seeds + 1))
    posted = frozenset(range(1, 11))
    sides: dict[str, ModuleType] = {"now": attribution}
    if args.against:
        base = sides[args.against] = load_at(args.against)
        differ = sum(
            attribution.attribute(t, posted=posted, locale=lo, reply_question=r)
            != base.attribute(t, posted=posted, locale=lo, reply_question=r)
            for t, lo, r in batch
        ) + sum(attribution.may_tag(t) != base.may_tag(t) for t in texts)
        print(f"answers differing from {args.against}: {differ} of {len(batch) + len(texts)}")
    timers: dict[str, Callable[[ModuleType], float]] = {
        "attribute": lambda module: time_calls(module, batch, posted),
        "may_tag": lambda module: time_may_tag(module, texts),
    }
    runs: dict[tuple[str, str], list[float]] = {}
    for module in sides.values():
        time_calls(module, batch, posted)  # warm the caches
    for _ in range(args.reps):
        for (what, timer), (name, module) in itertools.product(timers.items(), sides.items()):
            runs.setdefault((what, name), []).append(timer(module))
    print(
        f"{len(batch)} attribute() calls and {len(texts)} may_tag() calls from bench/ingest.py's"
        f" chats (seeds 1-{args.seeds}), median of {args.reps} reps, µs per call:"
    )
    out: dict[str, Any] = {"calls": len(batch), "texts": len(texts), "reps": args.reps}
    for (what, name), times in runs.items():
        median = statistics.median(times)
        out.setdefault(what, {})[name] = round(median, 3)
        print(f"  {what:>9} {name:>8}: {median:6.2f} (min {min(times):.2f}, max {max(times):.2f})")
    if args.against:
        for what in timers:
            out[what]["speedup"] = round(out[what][args.against] / out[what]["now"], 2)
            print(f"  {what} speed-up against {args.against}: {out[what]['speedup']}x")
    print("BENCH_JSON " + json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
