"""The moderators' console in a real Chromium, against the real ``hashchat run`` and the
local platform's server: log in through a link the bot sends privately, edit Q1 (a
problem shown at its field as you type, then fixed and saved), see the new Q1 posted
when the chat runs, pause and resume it from the live panel; hostile agenda texts and
answers stay text."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.bot_process import free_port
from tests.browser.conftest import OpenPage
from tests.browser.pages import assert_accessible, assert_inert, screenshot, xss_vectors

DEADLINE = 30.0  # seconds: a safety net, every wait ends on a condition
PARIS = ZoneInfo("Europe/Paris")
Q1, Q2 = "What does partnership mean to you?", "Which tool helped most?"
NEW_Q1 = "Who was your best partner in care this year?"


def agenda() -> str:
    rules = "Be kind.\n" + "\n".join(xss_vectors())
    return (
        f'title = "Patients as partners"\nrules = {json.dumps(rules)}\n'
        f'\n[[questions]]\ntext = "{Q1}"\nat = "5s"\n'
        f'\n[[questions]]\ntext = "{Q2}"\nat = "30m"\n'
    )


def config(port: int, local: str, start: datetime) -> str:
    return f"""
[bot]
database = "console.db"
transcripts_dir = "transcripts"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}

[platforms.local]
server = "{local}"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
moderators = ["local:mod"]
channels = ["local:main"]

[[communities.sessions]]
id = "march"
at = {start.replace(tzinfo=None).isoformat(timespec="seconds")}
duration = "60m"
agenda = "agenda.toml"
reminders = []
"""


def until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE:.0f} s: {what}")
        time.sleep(0.05)  # polling for a condition, with the deadline above
    return found


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@dataclass
class Console:
    base_url: str
    local: str

    def say(self, user: str, text: str, channel: str = "main") -> None:
        body = json.dumps({"channel": channel, "user": user, "name": user.title(), "text": text})
        request = urllib.request.Request(
            f"{self.local}/api/messages",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    def bot_posts(self, channel: str) -> list[str]:
        data = _get(f"{self.local}/api/messages") or {"messages": []}
        return [m["text"] for m in data["messages"] if m["by_bot"] and m["channel"] == channel]

    def login_link(self) -> str:
        """What a moderator does: ``login`` in the chat, then the link from the bot's
        private message (the newest one)."""
        before = len(self.bot_posts("@mod"))
        self.say("mod", "/login")
        posts = until(lambda: self.bot_posts("@mod")[before:], "the private login link")
        found = re.search(r"http://\S+/console/login/\S+", posts[-1])
        assert found, posts
        return found[0]


def _spawn(args: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=cwd,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """``hashchat local-server`` and ``hashchat run`` with a chat planned for tomorrow."""
    workdir = tmp_path_factory.mktemp("console")
    port, local_port = free_port(), free_port()
    local = f"http://127.0.0.1:{local_port}"
    server = _spawn(["local-server", "--port", str(local_port)], workdir / "local.log", workdir)
    start = (datetime.now(PARIS) + timedelta(days=1)).replace(microsecond=0)
    (workdir / "agenda.toml").write_text(agenda(), encoding="utf-8")
    (workdir / "hashchat.toml").write_text(config(port, local, start), encoding="utf-8")
    bot = None
    try:
        until(lambda: _get(f"{local}/health"), "the local server up")
        bot = _spawn(["run", "--config", "hashchat.toml"], workdir / "hashchat.log", workdir)
        base = f"http://127.0.0.1:{port}"
        until(lambda: _get(f"{base}/health") or bot.poll() is not None, "hashchat run up")
        assert bot.poll() is None, (workdir / "hashchat.log").read_text()
        yield Console(base, local)
    finally:
        for proc in (bot, server):
            if proc is not None:
                _stop(proc)


def log_in(open_page: OpenPage, console: Console, **options: Any) -> Page:
    page = open_page(console.login_link(), **options)
    page.click("#login")
    expect(page).to_have_url(f"{console.base_url}/console/hcsmeu/")
    return page


def field(page: Page, name: str) -> Any:
    return page.locator(f'[id="{name}"]')


def problems(page: Page, name: str) -> Any:
    return page.locator(f'[id="problem-{name}"] .problem')


def test_edit_q1_see_it_posted_then_pause_and_resume(console: Console, open_page: OpenPage) -> None:
    page = log_in(open_page, console)
    screenshot(page, "console-chats")
    page.click("text=Edit the agenda")
    expect(field(page, "questions[1].text")).to_have_value(Q1)
    # Emptied: the validator of `hashchat check` says so at Q1, as the moderator types.
    field(page, "questions[1].text").fill("")
    expect(problems(page, "questions[1].text")).to_have_text(
        ["the question is empty: write the question, or remove it"]
    )
    expect(field(page, "questions[1].text")).to_have_class(re.compile(r"\binvalid\b"))
    field(page, "questions[1].text").fill(NEW_Q1)
    expect(problems(page, "questions[1].text")).to_have_count(0)
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible()
    expect(field(page, "questions[1].text")).to_have_value(NEW_Q1)
    screenshot(page, "console-editor")
    # The chat runs: a moderator starts it now, and Q1 is the edited one.
    console.say("mod", "/start")
    posted = until(
        lambda: [t for t in console.bot_posts("main") if NEW_Q1 in t], "the new Q1 posted"
    )
    assert posted[0].startswith("Q1")
    assert not [t for t in console.bot_posts("main") if Q1 in t]
    # The live panel: pause, then resume.
    page.goto(f"{console.base_url}/console/hcsmeu/")
    page.click("text=Live panel")
    page.click("#button-pause")
    expect(page.locator("#outcome")).to_have_text(
        "Paused: nothing is posted until someone sends resume."
    )
    expect(page.locator("#state")).to_have_text("Paused")
    screenshot(page, "console-live")
    page.click("#button-resume")
    expect(page.locator("#outcome")).to_contain_text("Resumed: everything still to come moves")
    expect(page.locator("#state")).to_have_text("Live")


def test_hostile_agenda_texts_and_answers_stay_text(console: Console, open_page: OpenPage) -> None:
    console.say("mod", "/start")  # if the other test has not started the chat
    until(lambda: [t for t in console.bot_posts("main") if t.startswith("Q1")], "Q1 posted")
    for vector in xss_vectors():
        console.say("ann", f"A1: {vector}")
    # The CSP is off: escaping alone must keep every payload inert.
    page = log_in(open_page, console, bypass_csp=True)
    live = page.get_attribute("text=Live panel", "href")
    assert live is not None
    page.goto(console.base_url + live.replace("/live", "/agenda"))  # read-only once started
    assert_inert(page)
    assert_accessible(page)
    assert all(v in field(page, "rules").input_value() for v in xss_vectors())
    preview = page.inner_text("#preview")
    assert all(v in preview for v in xss_vectors())
    page.goto(console.base_url + live)
    # The panel refreshes itself while the answers arrive.
    expect(page.locator('[id="answers-q1"] li')).to_have_count(len(xss_vectors()), timeout=20_000)
    assert_inert(page)
    assert_accessible(page)
    shown = page.inner_text('[id="answers-q1"]')
    assert all(v in shown for v in xss_vectors())
