"""The benchmarks run, as `make bench` and `make bench-intake` run them, and count right.

No figure is checked against a target here (speed is for the benchmarks to say): these
run each script at a tiny size and check that what it reports is whole and counted
correctly. The intake benchmark once counted the writer's cursor wake-ups as messages
committed, after a change to the writer, and reported Mastodon's acknowledgements as
lagging by 300-800 ms: nothing had run the script since.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench_json(*command: str, timeout: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    (line,) = [x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    return dict(json.loads(line.removeprefix("BENCH_JSON ")))


@pytest.mark.timeout(240)
def test_the_ingest_benchmark_compares_each_run_with_its_own_raw_rate() -> None:
    report = bench_json("bench/ingest.py", "--sessions", "large", "--repeat", "2", timeout=220)
    large = report["sessions"]["large"]
    assert len(large["ingest_runs"]) == len(large["ratio_runs"]) == 2
    assert all(rate > 0 for rate in large["ingest_runs"])
    assert large["raw_rate"] > 0
    assert large["raw_batched_rate"] > 0
    assert large["ingest_vs_raw"] == statistics.median(large["ratio_runs"])
    assert large["transcript_s"] > 0
    assert large["flat_out"]["p50_ms"] <= large["flat_out"]["p99_ms"] <= large["flat_out"]["max_ms"]
    assert report["peak_rss_mb"] > 0


@pytest.mark.timeout(300)
def test_the_intake_benchmark_counts_each_message_committed_once() -> None:
    n = 40
    platforms = ["telegram", "discord", "mastodon-streaming", "mastodon-polling"]
    report = bench_json(
        "bench/intake.py", "--n", str(n), "--pairs", "1", "--platforms", ",".join(platforms),
        timeout=280,
    )  # fmt: skip
    for name in platforms:
        result = report["results"][name]
        assert result["stored"] == [n], name  # every preloaded message, none twice, nothing else
        assert result["ack_lag_ms"] >= 0, name  # the N-th commit came before the N-th ack
        assert result["bare_rate"] > 0, name
        assert result["hashchat_rate"] > 0, name
