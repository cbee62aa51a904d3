"""The operator's tools: readiness when the database fails, the metrics of refused and
late posts, JSON logs that keep secrets out, and ``hashchat backup``."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import main
from bot.ops.endpoints import OpsMount
from bot.ops.logs import json_formatter
from bot.ops.metrics import Metrics
from bot.platforms.base import PlatformError
from bot.platforms.telegram import logs as telegram_logs
from bot.web import WebServer
from tests.conftest import Chat
from tests.test_delivery_faults import flaky_chat, q1_posts

TOKEN = "123456:SECRET-token-of-the-bot"


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics.text().decode()):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


async def test_ready_says_unavailable_when_the_database_does_not_answer(tmp_path: Path) -> None:
    async def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    server = WebServer(
        tmp_path, "127.0.0.1", 0, mounts=[OpsMount(Metrics(), broken, lambda: "leader")]
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}/ready") as response:
                assert response.status == 503
                assert (await response.json())["status"] == "unavailable"
            async with http.get(f"http://127.0.0.1:{server.port}/health") as response:
                assert response.status == 200  # alive, only not ready
    finally:
        await server.close()


async def test_a_refused_post_is_counted_and_its_retry_is_30_seconds_late(tmp_path: Path) -> None:
    chat: Chat = await flaky_chat(tmp_path, PlatformError("503", retryable=True), posted=False)
    app = await chat.boot()
    try:
        await chat.at(10)
        assert (
            sample(app.metrics, "hashchat_platform_errors_total", platform="local", kind="refused")
            == 1
        )
        await chat.at(10.5)
        assert len(q1_posts(chat)) == 1
        # Q1 went out 30 s late: in the 30 s bucket, not in the 10 s one.
        late_10 = sample(
            app.metrics, "hashchat_post_lateness_seconds_bucket", platform="local", le="10.0"
        )
        late_30 = sample(
            app.metrics, "hashchat_post_lateness_seconds_bucket", platform="local", le="30.0"
        )
        assert late_30 is not None
        assert late_10 is not None
        assert late_30 - late_10 == 1
    finally:
        await chat.stop()


@pytest.fixture
def telegram_masking() -> Iterator[None]:
    token_filter = telegram_logs.install(TOKEN)
    try:
        yield
    finally:
        telegram_logs.uninstall(token_filter)


def test_json_logs_keep_the_token_out_of_a_traceback(telegram_masking: None) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("bot.platforms.telegram")
    logger.addHandler(handler)
    try:
        try:
            raise OSError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
        except OSError:
            logger.error("start-up failed", exc_info=True)
    finally:
        logger.removeHandler(handler)
    record = json.loads(out.getvalue())
    assert record["message"] == "start-up failed"
    assert record["level"] == "ERROR"
    assert record["logger"] == "bot.platforms.telegram"
    assert "getMe" in record["exc_info"]
    assert TOKEN not in out.getvalue()


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "hashchat.toml"
    config.write_text(
        '[bot]\ndatabase = "hashchat.db"\n\n[[communities]]\nid = "hcsmeu"\n'
        'hashtag = "#hcsmeu"\ntimezone = "Europe/Paris"\nchannels = ["local:main"]\n',
        encoding="utf-8",
    )
    return config


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_backup_copies_a_database_in_use_and_refuses_to_overwrite(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    database = tmp_path / "hashchat.db"
    runner = CliRunner()
    missing = runner.invoke(main, ["backup", "--config", str(config)])
    assert missing.exit_code == 2
    assert "there is no database" in missing.output
    writer = sqlite3.connect(database)  # in use: a writer holds it open in WAL mode
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT)")
    writer.executemany(
        "INSERT INTO messages (text) VALUES (?)", [(f"A1: {i}",) for i in range(500)]
    )
    writer.commit()  # committed, still in the -wal file: a file copy would miss it
    try:
        target = tmp_path / "copy.db"
        done = runner.invoke(main, ["backup", "--config", str(config), "--out", str(target)])
        assert done.exit_code == 0, done.output
        assert "integrity checked" in done.output
        assert counts(target) == {"messages": 500}
        again = runner.invoke(main, ["backup", "--config", str(config), "--out", str(target)])
        assert again.exit_code == 2
        assert "exists" in again.output
        assert not list(tmp_path.glob("*.partial"))
    finally:
        writer.close()
