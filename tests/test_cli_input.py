"""Bad input never crashes ``hashchat``: every mistake is a clear message naming the file
and the field, and whatever ``check`` accepts, ``run`` runs."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.bot_process import BotProcess, free_port
from tests.conftest import AGENDA

PARIS = ZoneInfo("Europe/Paris")

BASE = """
[bot]
database = "chat.db"
{bot}

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
channels = ["local:main"]
{community}

[[communities.series]]
id = "monthly"
schedule = "first wednesday of every month at 13:00"
agenda = "agenda.toml"
{series}
"""


def write(tmp_path: Path, *, bot: str = "", community: str = "", series: str = "") -> Path:
    """BASE with these settings added to its sections; a key BASE has is replaced."""
    (tmp_path / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    path = tmp_path / "hashchat.toml"
    text = BASE
    extra = {"bot": bot, "community": community, "series": series}
    for section, lines in extra.items():
        kept = []
        for line in lines.splitlines():
            key = line.partition(" = ")[0]
            old = re.search(rf"^{re.escape(key)} = .*$", text, re.MULTILINE)
            if " = " in line and old and key not in ("id",):
                text = text.replace(old[0], line, 1)
            else:
                kept.append(line)
        extra[section] = "\n".join(kept)
    text = text.format(**extra)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def refused(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``check`` refused ``path`` cleanly: exit code 2, problems on stderr, no traceback."""
    result = invoke("check", "--config", str(path), *args, env=env)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Value error" not in result.stderr
    return result.stderr


# -v works after the subcommand too ------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("command", ["check", "schedule"])
def test_verbose_is_accepted_before_and_after_the_subcommand(
    tmp_path: Path, command: str, where: str
) -> None:
    path = write(tmp_path)
    args = ["--config", str(path)]
    args = ["-v", command, *args] if where == "before" else [command, *args, "--verbose"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output


async def test_run_with_verbose_after_the_subcommand_logs_to_stderr(tmp_path: Path) -> None:
    async with BotProcess(write(tmp_path), "-v") as bot:
        await bot.started()
        assert await bot.stop() == 0
    assert " INFO " in bot.err.text, bot.err.text  # what the bot did, on stderr
    assert "No such option" not in bot.err.text


# errors: every one, at its field, in plain words -------------------------------------------


def test_two_mistakes_about_one_platform_are_both_reported(tmp_path: Path) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    path = write(
        tmp_path,
        community='moderator_channels = ["telegram:@mygroup"]',
        bot=f'[platforms.telegram]\ntoken_env = "{token}"',
    )
    errors = refused(path)
    assert "2 problem(s) found:" in errors
    assert f"{path}: platforms.telegram.token_env: give the NAME of an environment" in errors
    assert f"{path}: communities[0].moderator_channels[0]: a Telegram chat is named" in errors
    assert token not in errors


def test_a_platform_option_is_reported_without_the_librarys_prefix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        bot='public_url = "chats.example.org"\n[platforms.mastodon]\napi_base_url = "mastodon"',
        community='moderator_channels = ["mastodon:hcsmeu"]',
    )
    errors = refused(path, env={"HASHCHAT_MASTODON_TOKEN": "x"})
    assert f"{path}: bot.public_url: must start with http:// or https://" in errors
    assert f"{path}: platforms.mastodon.api_base_url: the bot account's server" in errors


# check and run share one validation ------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field", "what"),
    [
        ({"series": 'duration = "99999999999999h"'}, "series[0].duration", "far too long"),
        ({"series": 'reminders = ["999999999d"]'}, "series[0].reminders", "at most 366d"),
        ({"community": 'retention = "999999999d"'}, "retention", "at most 36500d"),
        ({"community": 'slow_mode = "99999d"'}, "slow_mode", "at most 1d"),
        ({"bot": 'grace = "30d"'}, "bot.grace", "at most 7d"),
        ({"bot": 'database = ""'}, "bot.database", "give a file name"),
        ({"bot": 'database = "/dev/null"'}, "bot.database", "not a regular file"),
        ({"bot": 'database = "."'}, "bot.database", "not a regular file"),
        ({"bot": 'transcripts_dir = "agenda.toml"'}, "bot.transcripts_dir", "not a folder"),
        ({"bot": 'listen_host = "999.1.1.1"'}, "bot.listen_host", "neither an IP address"),
        ({"bot": 'listen_host = "local host"'}, "bot.listen_host", "neither an IP address"),
        ({"series": 'agenda = "agen\\u0000da.toml"'}, "series[0].agenda", "NUL"),
        ({"series": f'agenda = "{"a" * 300}.toml"'}, "series[0].agenda", "too long"),
        ({"community": f'timezone = "{"A" * 5000}"'}, "timezone", "unknown time zone"),
        ({"series": 'schedule = "0 0 31 2 *"'}, "series[0].schedule", "never occurs"),
        ({"series": "start_date = 0001-01-01"}, "series[0].start_date", "not a plausible date"),
        ({"series": "skip = [9999-12-31]"}, "series[0].skip[0]", "not a plausible date"),
        ({"community": "moderators = " + "[" * 2000 + "]" * 2000}, "", "nested too deeply"),
    ],
    ids=lambda v: v if isinstance(v, str) else next(iter(v.values()))[:30],
)
def test_input_that_would_crash_check_or_run_is_refused_at_its_field(
    tmp_path: Path, settings: dict[str, str], field: str, what: str
) -> None:
    path = write(tmp_path, **settings)
    errors = refused(path)
    assert "1 problem(s) found:" in errors
    (line,) = [t for t in errors.splitlines() if t.startswith(f"  {path}")]
    assert field in line
    assert what in line
    assert len(line) < 400  # a 5,000-character value is not echoed whole


def test_a_config_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 0, result.output


async def run_until_it_exits(path: Path) -> tuple[int, str]:
    async with BotProcess(path) as bot:
        code = await bot.exited()
    return code, bot.err.text


async def test_run_on_a_port_already_taken_says_so_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        path = write(tmp_path, bot=f'public_url = "http://127.0.0.1:{port}"\nlisten_port = {port}')
        code, stderr = await run_until_it_exits(path)
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port} (bot.listen_host, bot.listen_port)" in stderr
    assert "Traceback" not in stderr


async def test_run_on_a_file_that_is_no_database_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = write(tmp_path)
    (tmp_path / "chat.db").write_text("my notes, not a database\n" * 100, encoding="utf-8")
    code, stderr = await run_until_it_exits(path)
    assert code == 1
    assert f"could not open its database {tmp_path / 'chat.db'} (bot.database)" in stderr
    assert "Traceback" not in stderr


async def test_run_runs_a_config_at_the_limits_check_accepts(tmp_path: Path) -> None:
    port = free_port()
    path = write(
        tmp_path,
        bot=f'grace = "7d"\npublic_url = "http://localhost:{port}"\nlisten_host = "localhost"\n'
        f"listen_port = {port}",
        community='retention = "36500d"\nslow_mode = "1d"',
        series='duration = "7d"\nreminders = ["366d", "1s"]',
    )
    assert invoke("check", "--config", str(path)).exit_code == 0
    async with BotProcess(path) as bot:
        await bot.started()
        assert await bot.stop() == 0, bot.err.text
    assert "Traceback" not in bot.err.text


# what check and schedule show as next -----------------------------------------------------


def test_a_chat_running_now_or_over_is_never_listed_as_the_next(tmp_path: Path) -> None:
    now = datetime.now(UTC).astimezone(PARIS).replace(second=0, microsecond=0)
    running = now - timedelta(minutes=10)  # a one-off started 10 minutes ago, 1h long
    over = now - timedelta(hours=2)  # today's weekly chat, over an hour ago
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[over.weekday()]
    series = (
        '\n[[communities.series]]\nid = "weekly"\n'
        f'schedule = "{over:%M %H} * * {weekday}"\nagenda = "agenda.toml"\n'
        '\n[[communities.series]]\nid = "daily"\n'
        f'schedule = "{running:%M %H} * * *"\nagenda = "agenda.toml"\n'
        f'\n[[communities.sessions]]\nid = "meetup"\nat = {running:%Y-%m-%dT%H:%M:00}\n'
        'agenda = "agenda.toml"\n'
    )
    path = write(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + series, encoding="utf-8")
    check = invoke("check", "--config", str(path))
    assert check.exit_code == 0, check.output
    nexts = {line.split(":")[0]: line for line in check.output.splitlines() if "next on" in line}
    assert "hcsmeu/meetup" not in nexts
    assert f"{over + timedelta(days=7):%a %Y-%m-%d %H:%M}" in nexts["hcsmeu/weekly"]
    assert f"{running + timedelta(days=1):%a %Y-%m-%d %H:%M}" in nexts["hcsmeu/daily"]
    schedule = invoke("schedule", "--config", str(path), "-n", "1")
    assert schedule.exit_code == 0, schedule.output
    assert "meetup" not in schedule.output
    assert f"{over:%Y-%m-%d %H:%M}" not in schedule.output
    assert f"{running:%Y-%m-%d %H:%M}" not in schedule.output


# a real platform without public_url ---------------------------------------------------------


def test_check_warns_when_a_real_platform_has_no_public_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        bot='[platforms.discord]\ntoken_env = "DISCORD_BOT_TOKEN"',
        community='moderator_channels = ["discord:1234567890123456789"]',
    )
    path.write_text(path.read_text().replace('["local:main"]', '["discord:1234567890123456789"]'))
    result = invoke("check", "--config", str(path), env={"DISCORD_BOT_TOKEN": "x"})
    assert result.exit_code == 0, result.output
    assert f"warning: {path}: bot.public_url is not set" in result.stderr
    assert "discord" in result.stderr
    assert str(tmp_path / "transcripts") in result.stderr


def test_a_question_too_long_for_bluesky_is_refused_where_bluesky_is_used(
    tmp_path: Path,
) -> None:
    """Bluesky takes 300 graphemes a post: an agenda that fits Mastodon's 500 does not."""
    path = write(
        tmp_path,
        bot='[platforms.bluesky]\ntoken_env = "BSKY_PASSWORD"\nhandle = "bot.bsky.social"',
    )
    long = "Which " + "very " * 60 + "long question?"  # 320 characters
    agenda = tmp_path / "agenda.toml"
    agenda.write_text(AGENDA.replace("Which tool helped most?", long), encoding="utf-8")
    env = {"BSKY_PASSWORD": "x"}
    assert invoke("check", "--config", str(path), env=env).exit_code == 0  # local only
    path.write_text(path.read_text().replace('["local:main"]', '["local:main", "bluesky:hcsmeu"]'))
    errors = refused(path, env=env)
    assert f"{agenda}" in errors
    assert "Q2" in errors
    assert "limit is 300" in errors


def test_check_does_not_warn_on_the_local_platform_alone(tmp_path: Path) -> None:
    result = invoke("check", "--config", str(write(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_audit_of_a_file_that_is_no_database_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    path = write(tmp_path)
    (tmp_path / "chat.db").write_text("my notes, not a database\n" * 100, encoding="utf-8")
    result = invoke("audit", "--config", str(path))
    assert result.exit_code == 1, result.output
    assert f"cannot read the database {tmp_path / 'chat.db'} (bot.database)" in result.stderr


def test_a_control_character_in_a_file_name_is_shown_escaped_on_one_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, series='agenda = "agendas/\\u001b[2J\\nmonthly.toml"')
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2, result.output
    assert "\x1b" not in result.stderr
    (line,) = result.stderr.splitlines()[1:]
    assert (
        line
        == f"  {tmp_path}/agendas/\\x1b[2J\\nmonthly.toml: file not found: check the agenda path"
    )
