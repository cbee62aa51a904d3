"""The live panel: what was posted and comes next, answers as they arrive, and buttons
that run the chat commands themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.store.backend import Location
from tests.conftest import Chat
from tests.console_site import Browser, console_chat

ANN = UserRef("local", "ann", "<b>Ann</b>")
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
async def site(tmp_path: Path, db_location: Location) -> AsyncIterator[tuple[Chat, Browser]]:
    """On each backend: links, sessions and edited agendas are stored rows."""
    async for pair in console_chat(tmp_path, database=str(db_location)):
        yield pair


async def live_page(chat: Chat) -> str:
    assert chat.app is not None
    [row] = [r for r in await chat.app.store.open_sessions() if r.plan.community == "hcsmeu"]
    return f"/console/hcsmeu/chats/{row.id}/live"


async def test_answers_arrive_escaped_and_the_buttons_steer(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    await chat.at(11)
    q1 = chat.local.bot_posts("local:main")[-1]
    chat.local.say(ANN, "local:main", f"A1: partnership is {XSS}", reply_to=q1.ref)
    await chat.at(12)
    page = await live_page(chat)
    status, body = await browser.get(page)
    assert status == 200
    assert "partnership is &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;b&gt;Ann&lt;/b&gt;" in body
    assert '<div class="question" id="answers-q1">' in body
    assert "Q1 What does partnership mean to you? (1)" in body
    # Pause from the panel: the same command as in the chat, audited with the moderator.
    token = await browser.csrf(page)
    status, body, _ = await browser.post(f"{page}/pause", {"csrf": token})
    assert status == 200
    assert "Paused: nothing is posted until someone sends resume." in body
    await chat.at(25)
    assert not any("Which tool helped most?" in p for p in chat.posts())  # Q2 held back
    status, body, _ = await browser.post(f"{page}/resume", {"csrf": token})
    assert "Resumed: everything still to come moves" in body
    status, body, _ = await browser.post(
        f"{page}/ask", {"csrf": token, "text": "Any <i>last</i> words?"}
    )
    assert "is posted now" in body
    assert any("Any <i>last</i> words?" in p for p in chat.posts())
    assert chat.app is not None
    actions = [(a.action, a.actor) for a in await chat.app.store.audit.recent("hcsmeu")]
    assert ("pause", "local:mod") in actions
    assert ("resume", "local:mod") in actions


async def test_buttons_need_the_csrf_token(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    await chat.at(11)
    page = await live_page(chat)
    status, _, _ = await browser.post(f"{page}/end", {})
    assert status == 403
    assert chat.app is not None
    assert all(r.state == "live" for r in await chat.app.store.open_sessions()
               if r.plan.community == "hcsmeu")  # fmt: skip


async def test_a_button_before_the_chat_says_none_is_running(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    await browser.log_in("local:mod")
    page = await live_page(site[0])
    token = await browser.csrf(page)
    _, body, _ = await browser.post(f"{page}/pause", {"csrf": token})
    assert "No #hcsmeu chat is running." in body
