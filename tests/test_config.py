"""The configuration file and the commands that read it: ``hashchat check`` and
``hashchat schedule``; every mistake names the file, the field and what is wrong."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Config, load_config
from bot.errors import ConfigError
from tests.conftest import AGENDA

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
PARIS = ZoneInfo("Europe/Paris")

COMMUNITY = """
[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
channels = ["local:main"]

[[communities.series]]
id = "monthly"
schedule = "first wednesday of every month at 13:00"
agenda = "agenda.toml"
"""


def write_config(tmp_path: Path, text: str, *, agenda: str = AGENDA) -> Path:
    (tmp_path / "agenda.toml").write_text(agenda, encoding="utf-8")
    path = tmp_path / "hashchat.toml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


# The example's platforms read their tokens from these; check needs them set, not real.
EXAMPLE_TOKENS = {
    "TELEGRAM_BOT_TOKEN": "123456:example",
    "DISCORD_BOT_TOKEN": "example",
    "HASHCHAT_MASTODON_TOKEN": "example",
    "HASHCHAT_BLUESKY_APP_PASSWORD": "example",
}


def in_zone(text: str, zone: ZoneInfo | timezone) -> datetime:
    """A printed 'YYYY-MM-DD HH:MM' read as a wall time in ``zone``."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert all(p.file == str(path) for p in err.value.problems)
    return [str(p) for p in err.value.problems]


# the example configuration ----------------------------------------------------------


def test_the_example_config_loads_with_the_communities_it_shows() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, Config)
    assert [c.id for c in config.communities] == ["hcsmeu", "hcsmeufr"]
    hcsmeu, fr = config.communities
    assert (hcsmeu.hashtag, hcsmeu.locale, hcsmeu.timezone) == ("#hcsmeu", "en", "Europe/Paris")
    # One chat on every platform at once, so each adapter's settings are checked too.
    assert [c.partition(":")[0] for c in hcsmeu.channels] == [
        "local",
        "telegram",
        "discord",
        "mastodon",
        "bluesky",
    ]
    assert set(config.platforms) == {"telegram", "discord", "mastodon", "bluesky"}
    assert hcsmeu.moderators[0] == "local:moderator"
    assert [s.id for s in hcsmeu.series] == ["monthly"]
    monthly = hcsmeu.series[0]
    assert monthly.duration == timedelta(minutes=60)
    assert monthly.reminders == [timedelta(hours=24), timedelta(hours=1), timedelta(minutes=10)]
    assert monthly.skip == [date(2026, 12, 2)]
    assert [s.id for s in hcsmeu.sessions] == ["meetup-2027q1"]
    assert hcsmeu.sessions[0].duration == timedelta(minutes=90)
    assert (fr.hashtag, fr.locale) == ("#hcsmeufr", "fr")
    assert [s.id for s in fr.series] == ["mensuel"]
    assert fr.series[0].start_date == date(2026, 11, 27)
    # Relative paths are read from the config file's folder, wherever hashchat runs from.
    assert config.resolve(monthly.agenda) == REPO / "agendas" / "hcsmeu.toml"
    assert config.resolve(fr.series[0].agenda).is_file()
    assert config.resolve(config.bot.database) == REPO / "hashchat.db"


_NEXT = re.compile(
    r"^(?P<who>[\w-]+/[\w-]+): next on \w{3} (?P<local>\d{4}-\d\d-\d\d \d\d:\d\d) "
    r"(?P<zone>\S+) \((?P<utc>\d\d:\d\d) UTC\), (?P<n>\d+) questions: .+$"
)


def test_check_of_the_example_config_shows_the_next_session_of_every_series() -> None:
    result = invoke("check", "--config", str(EXAMPLE), env=EXAMPLE_TOKENS)
    assert result.exit_code == 0, result.output
    found = {m["who"]: m for m in map(_NEXT.match, result.output.splitlines()) if m}
    assert {"hcsmeu/monthly", "hcsmeufr/mensuel"} <= set(found)
    for who, weekday, wall in (("hcsmeu/monthly", 2, "13:00"), ("hcsmeufr/mensuel", 4, "12:00")):
        line = found[who]
        local = in_zone(line["local"], PARIS)
        assert line["zone"] == "Europe/Paris"
        assert local.weekday() == weekday
        assert f"{local:%H:%M}" == wall
        assert local > datetime.now(UTC) - timedelta(hours=1)
        assert line["utc"] == f"{local.astimezone(UTC):%H:%M}"
        assert int(line["n"]) > 0
    assert result.output.rstrip().endswith(f"{EXAMPLE}: OK")


_OCCURRENCE = re.compile(
    r"^    \w{3} (?P<local>\d{4}-\d\d-\d\d \d\d:\d\d) (?P<abbr>CES?T)"
    r"\s+(?P<utc>\d{4}-\d\d-\d\d \d\d:\d\d) UTC$"
)


def test_schedule_lists_the_requested_number_of_dates_in_local_time_and_utc() -> None:
    result = invoke("schedule", "--config", str(EXAMPLE), "-n", "3")
    assert result.exit_code == 0, result.output
    blocks: dict[str, list[re.Match[str]]] = {}
    current = ""
    for text in result.output.splitlines():
        if header := re.match(r"^  ([\w-]+): ", text):
            current = header[1]
            blocks[current] = []
        elif occurrence := _OCCURRENCE.match(text):
            blocks[current].append(occurrence)
    assert {k: len(v) for k, v in blocks.items() if v} == {
        "monthly": 3,
        "meetup-2027q1": 1,
        "mensuel": 3,
    }
    for series, wall, weekday in (("monthly", "13:00", 2), ("mensuel", "12:00", 4)):
        starts = []
        for occurrence in blocks[series]:
            local = in_zone(occurrence["local"], PARIS)
            utc = in_zone(occurrence["utc"], UTC)
            assert local == utc
            assert occurrence["abbr"] == local.tzname()
            assert (f"{local:%H:%M}", local.weekday()) == (wall, weekday)
            starts.append(local)
        assert starts == sorted(set(starts))
        assert starts[0] > datetime.now(UTC) - timedelta(days=1)
    monthly = [in_zone(o["local"], PARIS).date() for o in blocks["monthly"]]
    assert date(2026, 12, 2) not in monthly  # the skipped holiday
    fortnight = [in_zone(o["local"], PARIS).date() for o in blocks["mensuel"]]
    assert {(b - a).days for a, b in itertools.pairwise(fortnight)} == {14}


# errors that point at the field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        pytest.param(
            'hashtag = "#hcsmeu"',
            'hashtag = "#hcsmeu"\nhashtagg = "#x"',
            "communities[0].hashtagg",
            "unknown setting",
            id="unknown-key-in-community",
        ),
        pytest.param(
            '"Europe/Paris"',
            '"Europe/Pariss"',
            "communities[0].timezone",
            "'Europe/Pariss'",
            id="bad-time-zone",
        ),
        pytest.param(
            '"#hcsmeu"',
            '"hcsmeu chat"',
            "communities[0].hashtag",
            "one hashtag such as '#hcsmeu'",
            id="bad-hashtag",
        ),
        pytest.param(
            'agenda = "agenda.toml"',
            'agenda = "agenda.toml"\nduration = "sixty minutes"',
            "communities[0].series[0].duration",
            "'sixty minutes'",
            id="bad-duration",
        ),
        pytest.param(
            '["local:main"]',
            '["main"]',
            "communities[0].channels[0]",
            "expected 'platform:id'",
            id="channel-without-platform",
        ),
        pytest.param(
            "[[communities]]",
            '[platforms.telegram]\ntoken_env = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"'
            "\n\n[[communities]]",
            "platforms.telegram.token_env",
            "NAME of an environment variable",
            id="literal-token-in-token_env",
        ),
    ],
)
def test_a_bad_field_is_reported_with_file_field_path_and_reason(
    tmp_path: Path, old: str, new: str, field: str, what: str
) -> None:
    assert old in COMMUNITY
    path = write_config(tmp_path, COMMUNITY.replace(old, new, 1))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: {field}: ")
    assert what in problem


def test_a_misspelt_top_level_table_is_reported_as_unknown(tmp_path: Path) -> None:
    path = write_config(tmp_path, COMMUNITY.replace("[[communities", "[[communties"))
    found = problems_of(path)
    assert any(p.startswith(f"{path}: communties: unknown setting") for p in found), found
    assert any(p.startswith(f"{path}: communities: ") for p in found), found  # now missing


def test_a_literal_token_is_never_echoed_back_in_the_error(tmp_path: Path) -> None:
    secret = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    path = write_config(tmp_path, f'[platforms.telegram]\ntoken_env = "{secret}"\n{COMMUNITY}')
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2
    assert "platforms.telegram.token_env" in result.output
    assert secret not in result.output


def test_an_alphanumeric_access_token_in_token_env_is_refused(tmp_path: Path) -> None:
    token = "x7Gk2Qw9Lp0aZr4TbNc8Vd1Ye5Uf3Ih6Jm2Ko9Xs4Wq"  # 43 characters, like Mastodon's
    path = write_config(tmp_path, f'[platforms.mastodon]\ntoken_env = "{token}"\n{COMMUNITY}')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: platforms.mastodon.token_env: ")


def test_duplicate_community_ids_are_reported(tmp_path: Path) -> None:
    second = COMMUNITY.split("[[communities.series]]")[0]
    path = write_config(tmp_path, COMMUNITY + second)
    (problem,) = problems_of(path)
    assert problem == f"{path}: communities[1].id: 'hcsmeu' is already the id of communities[0]"
    assert "'hcsmeu'" in problem


def test_a_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    text = COMMUNITY.replace('id = "monthly"', 'id = "monthly')
    line = text.splitlines().index('id = "monthly') + 1
    path = write_config(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{line}: not valid TOML")


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    assert problems_of(path) == [f"{path}: file not found"]


def test_a_config_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(COMMUNITY.replace("#hcsmeu", "#café").encode("latin-1"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: not UTF-8 text")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = COMMUNITY.replace('"#hcsmeu"', '"nohash"').replace("Europe/Paris", "Europe/Pariss")
    path = write_config(tmp_path, text)
    found = problems_of(path)
    assert len(found) == 2
    assert any(p.startswith(f"{path}: communities[0].hashtag: ") for p in found)
    assert any(p.startswith(f"{path}: communities[0].timezone: ") for p in found)


def test_check_prints_every_problem_and_exits_with_code_2(tmp_path: Path) -> None:
    text = COMMUNITY.replace('"#hcsmeu"', '"nohash"').replace("Europe/Paris", "Europe/Pariss")
    path = write_config(tmp_path, text)
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2
    assert "2 problem(s) found:" in result.stderr
    assert f"  {path}: communities[0].hashtag: " in result.stderr
    assert f"  {path}: communities[0].timezone: unknown time zone 'Europe/Pariss'" in result.stderr
    assert "next on" not in result.output


@pytest.mark.parametrize("command", ["check", "schedule"])
def test_commands_on_a_missing_config_exit_with_code_2(tmp_path: Path, command: str) -> None:
    path = tmp_path / "hashchat.toml"
    result = invoke(command, "--config", str(path))
    assert result.exit_code == 2
    assert f"{path}: file not found" in result.stderr


def test_check_reports_a_platform_whose_token_variable_is_not_set(tmp_path: Path) -> None:
    text = COMMUNITY.replace('["local:main"]', '["local:main", "telegram:-1001234567890"]')
    text += '\n[platforms.telegram]\ntoken_env = "HCSMEU_TELEGRAM_TOKEN"\n'
    path = write_config(tmp_path, text)
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2
    assert (
        f"  {path}: platforms.telegram.token_env: the environment variable"
        " HCSMEU_TELEGRAM_TOKEN is not set"
    ) in result.stderr


def test_check_reports_a_broken_agenda_by_its_file_name(tmp_path: Path) -> None:
    path = write_config(tmp_path, COMMUNITY.replace("agenda.toml", "broken-agenda.toml"))
    broken = tmp_path / "broken-agenda.toml"
    broken.write_text('title = "Patients as partners\n\n[[questions]]\n', encoding="utf-8")
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2, result.output
    assert f"  {broken}" in result.stderr
    assert "OK" not in result.output


def test_check_reports_an_agenda_shared_by_two_series_once(tmp_path: Path) -> None:
    second = (
        '\n[[communities.series]]\nid = "weekly"\nschedule = "every friday at 12:00"\n'
        'agenda = "broken-agenda.toml"\n'
    )
    text = COMMUNITY.replace("agenda.toml", "broken-agenda.toml") + second
    path = write_config(tmp_path, text)
    broken = tmp_path / "broken-agenda.toml"
    broken.write_text('title = "Patients as partners\n', encoding="utf-8")
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2, result.output
    assert "1 problem(s) found:" in result.stderr
    assert result.stderr.count(f"  {broken}") == 1


def test_check_reports_a_missing_agenda_by_its_file_name(tmp_path: Path) -> None:
    path = write_config(tmp_path, COMMUNITY.replace("agenda.toml", "agendas/april.toml"))
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'agendas' / 'april.toml'}: file not found" in result.stderr


def test_check_shows_a_one_off_session_in_utc_too(tmp_path: Path) -> None:
    text = COMMUNITY + (
        '\n[[communities.sessions]]\nid = "winter"\nat = 2030-01-09T18:00:00\n'
        'agenda = "agenda.toml"\n'
    )
    path = write_config(tmp_path, text)
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 0, result.output
    (line,) = [t for t in result.output.splitlines() if t.startswith("hcsmeu/winter:")]
    assert "next on Wed 2030-01-09 18:00 Europe/Paris (17:00 UTC)" in line


def test_an_unreadable_schedule_is_reported_with_its_field(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, COMMUNITY.replace("first wednesday of every month", "whenever we feel like")
    )
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2
    assert f"{path}: communities[0].series[0].schedule: " in result.stderr
    assert "whenever we feel like" in result.stderr


def test_check_reads_per_date_agendas_months_ahead_too(tmp_path: Path) -> None:
    text = COMMUNITY + 'agendas = { 2031-06-04 = "june.toml" }\n'
    path = write_config(tmp_path, text)
    (tmp_path / "june.toml").write_text('title = "June"\n', encoding="utf-8")
    result = invoke("check", "--config", str(path))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'june.toml'}: the agenda has no questions" in result.stderr
