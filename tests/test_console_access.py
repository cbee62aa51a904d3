"""The console's doors: sessions, the per-community decision at each request, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Chat
from tests.console_site import Browser, console_chat


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[Chat, Browser]]:
    async for pair in console_chat(tmp_path):
        yield pair


async def test_a_link_opens_the_communitys_coming_chats(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    assert await browser.log_in("local:mod") == "/console/hcsmeu/"
    status, body = await browser.get("/console/hcsmeu/")
    assert status == 200
    assert "Patients as partners" in body
    assert "What does partnership mean to you?" in body  # what will be posted


async def test_without_a_session_nothing_is_shown(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    status, body = await browser.get("/console/hcsmeu/")
    assert status == 401
    assert "Patients as partners" not in body
    assert "login" in body


async def test_a_moderator_of_one_community_gets_403_on_another(
    site: tuple[Chat, Browser],
) -> None:
    _, browser = site
    await browser.log_in("local:boss", "other")
    assert (await browser.get("/console/other/"))[0] == 200
    status, body = await browser.get("/console/hcsmeu/")
    assert status == 403
    assert "Patients as partners" not in body
    assert "#hcsmeu" not in body


async def test_pages_carry_a_strict_csp(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    await browser.log_in("local:mod")
    async with browser.http.get(browser.url("/console/hcsmeu/")) as r:
        csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


async def test_logout_without_its_csrf_token_is_refused(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    await browser.log_in("local:mod")
    status, _, _ = await browser.post("/console/logout", {})
    assert status == 403
    assert (await browser.get("/console/hcsmeu/"))[0] == 200  # still logged in
    token = await browser.csrf("/console/hcsmeu/")
    status, _, _ = await browser.post("/console/logout", {"csrf": token})
    assert status == 200
    assert (await browser.get("/console/hcsmeu/"))[0] == 401
