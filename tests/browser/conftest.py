"""The community's pages as a reader sees them: the real ``hashchat run`` process serving a
store seeded with past chats, opened in Debian's chromium through Playwright.

One process serves the whole directory and one browser each module (each takes a second
or two to start); every test opens its own browser context, so cookies, time zone and viewport
never leak from one test into another.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.bot_process import free_port
from tests.browser.pages import AXE, CHROMIUM, xss_vectors
from tests.browser.seed import PastChat, Said, seed

COMMUNITY = "hcsmeu"
HASHTAG = "#hcsmeu"
ZONE = "Europe/Paris"
PARIS = ZoneInfo(ZONE)
DEADLINE = 60.0  # seconds: a safety net, every wait ends on a condition
QUESTIONS = (
    "What does partnership mean to you?",
    "Which tool helped most?",
    "What should change first?",
)
AGENDA = """
title = "Patients as partners"
topic = "Co-design in digital health"
welcome = "Welcome everyone!"
closing = "Thanks all."

[[questions]]
text = "What does partnership mean to you?"
at = "10m"

[[questions]]
text = "Which tool helped most?"
at = "20m"
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@dataclass(frozen=True, slots=True)
class Site:
    """The running process: its address, the community and what was seeded."""

    base_url: str
    community: str
    workdir: Path
    chats: tuple[PastChat, ...]
    transcript_urls: tuple[str, ...]  # in the order of ``chats``, oldest first

    def url(self, path: str = "") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


def past_chats(today: datetime) -> tuple[PastChat, ...]:
    """Three past Wednesdays at 13:00 Paris time; the latest one carries every XSS
    vector, in messages and as participants' names, besides ordinary answers."""
    wednesday = today - timedelta(days=(today.weekday() - 2) % 7 or 7)
    starts = [
        datetime.combine(wednesday.date() - timedelta(weeks=k), datetime.min.time(), PARIS)
        + timedelta(hours=13)
        for k in (2, 1, 0)
    ]
    ordinary = (
        Said("Ann Martin", "A1: sharing decisions with patients", 11, frozenset({1})),
        Said("Bob Durand", "A1: listening before prescribing", 12, frozenset({1})),
        Said("Chloé Petit", "A2: a shared notebook, honestly", 21, frozenset({2})),
        Said("Ann Martin", "Thanks for hosting, see you next week", 40),
    )
    hostile = tuple(
        Said(vector, f"A{1 + n % 3}: {vector}", 10.5 + n, frozenset({1 + n % 3}))
        for n, vector in enumerate(xss_vectors())
    )
    return tuple(
        PastChat(
            community=COMMUNITY,
            hashtag=HASHTAG,
            timezone=ZONE,
            starts_at=start,
            title=f"Patients as partners, part {n}",
            topic="Co-design in digital health",
            questions=QUESTIONS,
            said=ordinary + (hostile if n == 3 else ()),
        )
        for n, start in enumerate(starts, 1)
    )


def config_text(port: int) -> str:
    return f"""
[bot]
database = "site.db"
transcripts_dir = "transcripts"
public_url = "http://127.0.0.1:{port}"
listen_host = "127.0.0.1"
listen_port = {port}

[[communities]]
id = "{COMMUNITY}"
name = "Healthcare social media Europe"
hashtag = "{HASHTAG}"
locale = "en"
timezone = "{ZONE}"
moderators = ["local:mod"]
channels = ["local:main"]

[[communities.series]]
id = "weekly"
schedule = "every wednesday at 13:00"
agenda = "agenda.toml"
"""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            text = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            pytest.fail(f"hashchat run did not serve {url}/health:\n{text}")
        time.sleep(0.05)  # polling for a condition, with the deadline above


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``hashchat run`` on a store holding three published past chats."""
    workdir = tmp_path_factory.mktemp("site")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    (workdir / "agenda.toml").write_text(AGENDA, encoding="utf-8")
    (workdir / "hashchat.toml").write_text(config_text(port), encoding="utf-8")
    chats = past_chats(datetime.now(PARIS))
    urls = asyncio.run(seed(workdir / "site.db", workdir / "transcripts", base_url, chats))
    log = workdir / "hashchat.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(workdir / "hashchat.toml")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=workdir,
        )
    try:
        _wait_healthy(proc, base_url, log)
        yield Site(base_url, COMMUNITY, workdir, chats, tuple(urls))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is started, and the async tests after this directory need none running.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs chromium with apt-get")
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make test` installs it with npm ci")
    # No sandbox: as root (CI containers) chromium refuses to start with it, and this
    # browser only ever opens the test's own loopback pages.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
    )
    yield browser
    browser.close()


OpenPage = Callable[..., Page]
HEIGHTS = {390: 844, 1280: 900}


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """``open_page(url, width=1280, timezone_id=None, bypass_csp=False)``: a page in a
    fresh context, loaded. ``bypass_csp`` lets axe's script in (and lets the XSS check
    see what escaping alone does, with the CSP's second line of defence switched off)."""
    contexts = []

    def open_(
        url: str,
        *,
        width: int = 1280,
        timezone_id: str | None = None,
        bypass_csp: bool = False,
        locale: str = "en-GB",
    ) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": HEIGHTS.get(width, 900)},
            timezone_id=timezone_id,
            bypass_csp=bypass_csp,
            locale=locale,
            accept_downloads=True,
        )
        contexts.append(context)
        page = context.new_page()
        response = page.goto(url, wait_until="load")
        assert response is not None, url
        assert response.ok, f"{url}: HTTP {response.status}"
        return page

    yield open_
    for context in contexts:
        context.close()
