"""``kill -HUP`` on a running ``hashchat run``: an edited config that validates takes
effect on the chats not started; one that does not is refused, in the log and in the
moderators' channel, and the bot goes on with the one it has."""

from __future__ import annotations

import json
import signal
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.errors import Problem
from bot.reload import restart_only
from tests.bot_process import BotProcess, until
from tests.conftest import AGENDA, chat_config

DEADLINE = 30.0


def config_text(when: datetime, *, hashtag: str = "#hcsmeu", channel: str = "local:main") -> str:
    return f"""
[bot]
database = "run.db"

[[communities]]
id = "hcsmeu"
hashtag = "{hashtag}"
timezone = "UTC"
channels = ["{channel}"]
moderator_channels = ["local:mods"]

[[communities.sessions]]
id = "friday"
at = {when.replace(tzinfo=None).isoformat(timespec="seconds")}
duration = "60m"
agenda = "agenda.toml"
"""


def stored_questions(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT plan_json FROM sessions WHERE state = 'planned'").fetchall()
    if len(rows) != 1:
        return []
    return [q["text"] for q in json.loads(rows[0][0])["questions"]]


async def test_sighup_refuses_a_broken_config_and_applies_a_good_one(tmp_path: Path) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    config = tmp_path / "hashchat.toml"
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    config.write_text(config_text(when), encoding="utf-8")
    async with BotProcess(config) as bot:
        out, err = bot.out, bot.err
        await until(lambda: out.has("hashchat is running"), "the start", DEADLINE)
        planned = stored_questions(tmp_path / "run.db")
        assert planned[1] == "Which tool helped most?"

        config.write_text(config_text(when, hashtag="hcsmeu"), encoding="utf-8")
        (tmp_path / "agenda.toml").write_text(
            AGENDA.replace("Which tool helped most?", "Which tool would you drop?"),
            encoding="utf-8",
        )
        bot.signal(signal.SIGHUP)
        await until(lambda: err.has("the edited configuration is refused"), "the refusal", DEADLINE)
        assert err.has("communities[0].hashtag")
        await until(
            lambda: any(
                "#mods" in line and "the edited configuration was not loaded" in line
                for line in out.lines
            ),
            "the moderators' notice",
            DEADLINE,
        )
        assert not any("#main" in line and "not loaded" in line for line in out.lines)
        assert bot.returncode is None  # still running, with the old config...
        assert stored_questions(tmp_path / "run.db") == planned  # ...and its plan

        config.write_text(config_text(when), encoding="utf-8")
        bot.signal(signal.SIGHUP)
        await until(
            lambda: "Which tool would you drop?" in stored_questions(tmp_path / "run.db"),
            "the re-planned agenda",
            DEADLINE,
        )
        assert await bot.stop(DEADLINE) == 0
        assert not err.has("Traceback")


def test_what_only_a_restart_applies_is_named_not_half_applied(tmp_path: Path) -> None:
    running: Config = chat_config(tmp_path)
    edited = chat_config(tmp_path, channels=("local:main",), settings='slow_mode = "30s"')
    assert restart_only(running, edited) == [
        Problem(
            str(tmp_path / "hashchat.toml"),
            "changed: restart hashchat to apply it",
            "communities[0].channels",
        )
    ]
    assert restart_only(running, chat_config(tmp_path, reminders=("1d",))) == []
