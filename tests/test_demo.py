"""`hashchat demo`: a complete chat whose transcript lists every question with its answers."""

from __future__ import annotations

import json
import signal
import sys
import tomllib
from importlib import resources
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from markupsafe import escape

from bot import demo as demo_module
from bot.alarm import SchedulerAlarm, Wake
from bot.cli import main
from bot.demo_history import CHATS
from tests.bot_process import BotProcess, until

PEOPLE = tomllib.loads((resources.files("bot") / "demo_data" / "people.toml").read_text("utf-8"))


@pytest.mark.parametrize(("locale", "lang"), [("en", 'lang="en"'), ("fr", 'lang="fr"')])
def test_demo_runs_a_whole_chat_and_prints_the_transcript(
    tmp_path: Path, locale: str, lang: str
) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--speed", "600", "--locale", locale, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    index = max(tmp_path.glob("transcripts/*/*/index.html"))  # the live chat, after the seeded
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
    assert len(list(tmp_path.glob("transcripts/*/*/index.html"))) == CHATS  # the seeded only


class DemoProcess(BotProcess):
    """``python -m bot demo ...`` as a user starts it, its two streams read apart."""

    def __init__(self, *args: str) -> None:
        super().__init__(Path("unused"))
        self.args = [sys.executable, "-m", "bot", "demo", *args]


async def test_the_demo_ends_by_serving_the_community_site_with_its_earlier_chats(
    tmp_path: Path,
) -> None:
    history = tomllib.loads((resources.files("bot") / "demo_data" / "history.toml").read_text())
    async with DemoProcess("--speed", "600", "--out", str(tmp_path), "--serve") as demo:
        await until(lambda: demo.out.has("Ctrl-C") or demo.out.task.done(), "the site announced")
        await until(lambda: "http://" in demo.out.lines[-1], "the site's address printed")
        address = demo.out.lines[-1].strip()
        console = [
            line.strip()
            for line in demo.out.lines
            if line.strip().startswith("http") and "/console/login/" in line
        ][-1]  # the link printed at the end, on the real clock
        async with aiohttp.ClientSession() as http:
            async with http.get(address) as response:
                assert response.status == 200
                home = await response.text()
            async with http.get(console) as response:  # on the real clock: still valid
                assert response.status == 200
                assert "Log in" in await response.text()
        demo.signal(signal.SIGINT)
        assert await demo.exited() == 0
    assert address.endswith("/hcsmeu/")
    for title in history["en"]["titles"]:
        assert str(escape(title)) in home
    assert "Patients as partners in digital health" in home  # the live chat, just published
    export = (tmp_path / "site" / "hcsmeu" / "index.html").read_text(encoding="utf-8")
    assert all(str(escape(t)) in export for t in history["en"]["titles"])
    assert (tmp_path / "site" / "hcsmeu" / "index.html").as_uri() in demo.out.text
