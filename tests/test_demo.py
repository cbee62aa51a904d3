"""`hashchat demo`: a complete chat whose transcript lists every question with its answers."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from bot import demo as demo_module
from bot.alarm import SchedulerAlarm, Wake
from bot.cli import main

PEOPLE = tomllib.loads((resources.files("bot") / "demo_data" / "people.toml").read_text("utf-8"))


@pytest.mark.parametrize(("locale", "lang"), [("en", 'lang="en"'), ("fr", 'lang="fr"')])
def test_demo_runs_a_whole_chat_and_prints_the_transcript(
    tmp_path: Path, locale: str, lang: str
) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--speed", "600", "--locale", locale, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    index = next(tmp_path.glob("transcripts/*/*/index.html"))
    assert index.as_uri() in result.output
    html = index.read_text(encoding="utf-8")
    assert lang in html

    data = json.loads((index.parent / "transcript.json").read_text(encoding="utf-8"))
    agenda = tomllib.loads(
        (resources.files("bot") / "demo_data" / f"{locale}.toml").read_text("utf-8")
    )
    assert [q["number"] for q in data["questions"]] == list(range(1, 7))
    for question, planned in zip(data["questions"], agenda["questions"], strict=True):
        assert question["text"] == planned["text"]
        assert question["posted_at"] is not None
        assert question["answer_count"] >= 5, question
        assert f'id="q{question["number"]}"' in html
    texts = [m["text"] for m in data["messages"]]
    by_id = {m["id"]: m["text"] for m in data["messages"]}
    for question in data["questions"]:
        for answer_id in question["answer_ids"]:
            assert str(escape(by_id[answer_id])) in html
    lines = PEOPLE[locale]
    assert f"A2: {lines['typo_fixed']}" in texts  # the edit reached the transcript
    assert f"A2: {lines['typo']}" not in texts
    assert lines["oops"] not in texts  # the deletion too
    assert len(data["general_discussion_ids"]) >= 8  # greetings and chatter
    assert {m["channel"] for m in data["messages"]} >= {
        f"local:{data['session']['community']}",
        f"local:{data['session']['community']}-mirror",
    }
    assert data["totals"]["participants"] >= 15


def test_the_demo_runs_on_the_real_alarm_so_a_broken_alarm_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo is the production wiring: were the alarm to drop its wake-ups (as it once
    did), no step would be posted and the demo would say so instead of passing."""

    async def dropped(job_id: str, callback: Wake) -> None:
        callback().close()  # called, never awaited: the old bug

    monkeypatch.setattr(SchedulerAlarm, "_fire", staticmethod(dropped))
    monkeypatch.setattr(demo_module, "PATIENCE", 2.0)
    result = CliRunner().invoke(main, ["demo", "--speed", "600", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "did not go on by itself" in str(result.exception)
    assert not list(tmp_path.glob("transcripts/*/*/index.html"))
