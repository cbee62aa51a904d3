"""From configuration to the next sessions: which date, which agenda, which limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, parse_config
from bot.errors import ConfigError
from bot.planning import load_session_agenda, session_plan, upcoming
from tests.conftest import AGENDA

PARIS = ZoneInfo("Europe/Paris")
SPECIAL = AGENDA.replace('title = "Patients as partners"', 'title = "Christmas special"')


def config_for(tmp: Path, channels: str = '["local:main"]') -> Config:
    (tmp / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    (tmp / "special.toml").write_text(SPECIAL, encoding="utf-8")
    return parse_config(
        f"""
[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
locale = "fr"
timezone = "Europe/Paris"
channels = {channels}

[[communities.series]]
id = "monthly"
schedule = "first wednesday of every month at 13:00"
agenda = "agenda.toml"
agendas = {{ 2026-12-02 = "special.toml" }}
""",
        source=str(tmp / "hashchat.toml"),
        base_dir=tmp,
    )


def test_a_per_date_agenda_replaces_the_default_on_its_date_only(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    after = datetime(2026, 11, 20, tzinfo=UTC)
    first, second = upcoming(config, after, per_series=2)
    december, january = session_plan(config, first), session_plan(config, second)
    assert december.starts_at == datetime(2026, 12, 2, 13, 0, tzinfo=PARIS)
    assert december.title == "Christmas special"
    assert december.slug == "hcsmeu/2026-12-02"
    assert january.starts_at == datetime(2027, 1, 6, 13, 0, tzinfo=PARIS)
    assert january.title == "Patients as partners"
    assert (january.locale, january.timezone, january.hashtag) == ("fr", "Europe/Paris", "#hcsmeu")
    assert [q.number for q in january.questions] == [1, 2, 3]
    assert january.ends_at - january.starts_at == timedelta(hours=1)


def test_a_chat_already_running_at_start_up_is_still_planned(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    during = datetime(2026, 12, 2, 13, 40, tzinfo=PARIS)
    (item,) = upcoming(config, during)
    assert item.starts_at == datetime(2026, 12, 2, 13, 0, tzinfo=PARIS)
    (after_it,) = upcoming(config, during + timedelta(minutes=21))
    assert after_it.starts_at == datetime(2027, 1, 6, 13, 0, tzinfo=PARIS)


def test_questions_must_fit_the_strictest_platform_of_the_community(tmp_path: Path) -> None:
    long_question = "x" * 495
    agenda = AGENDA.replace("Which tool helped most?", long_question)
    config = config_for(tmp_path, channels='["local:main", "mastodon:#hcsmeu"]')
    (tmp_path / "agenda.toml").write_text(agenda, encoding="utf-8")
    item = upcoming(config, datetime(2027, 1, 1, tzinfo=UTC))[0]
    with pytest.raises(ConfigError) as caught:
        load_session_agenda(config, item)
    (problem,) = caught.value.problems
    assert problem.file == str(tmp_path / "agenda.toml")
    assert problem.field == "questions[2].text"
    assert "500" in problem.message
    local_only = config_for(tmp_path)
    (tmp_path / "agenda.toml").write_text(agenda, encoding="utf-8")
    local_item = upcoming(local_only, datetime(2027, 1, 1, tzinfo=UTC))[0]
    assert len(load_session_agenda(local_only, local_item).questions) == 3
