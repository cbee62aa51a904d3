"""What an operator watches, on the real process: ``/health``, ``/ready``, the Prometheus
metrics of a chat that ran by itself, and log lines as JSON for a log collector."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.driver import Driver
from tests.e2e.harness import Chat
from tests.e2e.process import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["local"], indirect=True)]

LOCAL = (("platform", "local"),)
TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) ")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics answer, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_an_operator_sees_health_readiness_metrics_and_json_logs(
    driver: Driver, tmp_path: Path
) -> None:
    chat = Chat(driver, tmp_path)
    chat.write()
    await chat.launch(options=["--log-format", "json"])
    try:
        with chat.explained():
            async with aiohttp.ClientSession() as http:

                async def ready() -> bool:
                    try:
                        async with http.get(f"{chat.public_url}/ready") as response:
                            return response.status == 200
                    except aiohttp.ClientError:
                        return False

                await wait_for(ready, within=30, what="/ready answers 200")
                async with http.get(f"{chat.public_url}/ready") as response:
                    assert await response.json() == {
                        "status": "ready",
                        "database": "ok",
                        "role": "leader",
                    }
                async with http.get(f"{chat.public_url}/health") as response:
                    assert response.status == 200

                await chat.wait_posted("q1", within=chat.until("q1"))
                await driver.say("ann", "A1: the metrics page, first")
                await chat.wait_posted("transcript", within=chat.until("transcript"))
                steps = await chat.steps()
                posted = sum(len(posts) for posts in steps.values())
                assert posted == 7, steps  # reminder, welcome, q1-q3, closing, link

                async def counted() -> bool:
                    async with http.get(f"{chat.public_url}/metrics") as response:
                        found = samples(await response.text())
                    return (
                        found.get(("hashchat_steps_posted_total", (("platform", "local"),)))
                        == posted
                    )

                await wait_for(counted, within=10, what="every posted step counted")
                async with http.get(f"{chat.public_url}/metrics") as response:
                    assert response.headers["Content-Type"].startswith("text/plain")
                    found = samples(await response.text())
        assert found["hashchat_post_lateness_seconds_count", LOCAL] == posted
        # Every step of the chat was posted within a second of its due time.
        le_1s = (("le", "1.0"), ("platform", "local"))
        assert found["hashchat_post_lateness_seconds_bucket", le_1s] == posted
        assert found["hashchat_messages_stored_total", ()] >= 1
        assert found["hashchat_leader", ()] == 1
        assert (
            "hashchat_platform_errors_total",
            (("kind", "refused"), ("platform", "local")),
        ) not in found
    finally:
        await chat.stop()
    lines = chat.log_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, "no JSON log line"
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"].startswith("bot.") for r in records)
    assert not [line for line in lines if TEXT_LOG_LINE.match(line)]
