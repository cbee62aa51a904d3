"""Logging in to the console: the ``login`` command's private link, and each refusal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.console.links import TooManyLinks
from bot.domain import UserRef
from bot.store.audit import Action
from bot.store.backend import Location
from tests.conftest import Chat
from tests.console_site import BASE, Browser, console_chat, console_config, fields

ANN = UserRef("local", "ann", "Ann")
MOD = UserRef("local", "mod", "Moderator")
ADMIN = UserRef("local", "admin", "Admin")
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/console/login/[\w-]+)")


@pytest.fixture
async def site(tmp_path: Path, db_location: Location) -> AsyncIterator[tuple[Chat, Browser]]:
    """On each backend: links, sessions and edited agendas are stored rows."""
    async for pair in console_chat(tmp_path, database=str(db_location)):
        yield pair


async def say(chat: Chat, user: UserRef, text: str) -> None:
    chat.local.say(user, "local:main", text)
    assert chat.app is not None
    await chat.app.settle()


def private(chat: Chat, user: UserRef) -> list[str]:
    return [m.text for m in chat.local.bot_posts(f"local:@{user.id}")]


def channel(chat: Chat) -> list[str]:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to]


async def test_login_sends_a_private_link_that_opens_the_console(
    site: tuple[Chat, Browser],
) -> None:
    chat, browser = site
    await say(chat, MOD, "/login")
    assert channel(chat) == ["I sent you a private message with a link to the console."]
    [message] = private(chat, MOD)
    found = LINK.search(message)
    assert found, message
    assert "/console/login/" not in " ".join(channel(chat))  # nothing secret in public
    # Opening the link shows a button (a link preview must not use the token up) ...
    status, body = await browser.get(found[1])
    assert status == 200
    assert 'id="login"' in body
    # ... which opens the console.
    status, _, location = await browser.post(found[1], {})
    assert (status, location) == (303, "/console/hcsmeu/")
    assert (await browser.get(location))[0] == 200


async def test_a_participants_login_is_refused_and_sends_nothing(
    site: tuple[Chat, Browser],
) -> None:
    chat, _ = site
    await say(chat, ANN, "/login")
    assert channel(chat) == ["Sorry, only the moderators of #hcsmeu can use “login”."]
    assert private(chat, ANN) == []


async def test_a_link_works_once(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    path = await browser.link("local:mod")
    assert (await browser.post(path, {}))[0] == 303
    other = Browser(chat)
    try:
        status, body, _ = await other.post(path, {})
        assert status == 403
        assert "already been used" in body
        assert (await other.get("/console/hcsmeu/"))[0] == 401
    finally:
        await other.close()


async def test_a_link_expires_after_ten_minutes(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    path = await browser.link("local:mod")
    chat.clock.advance(timedelta(minutes=10, seconds=1))
    status, body, _ = await browser.post(path, {})
    assert status == 403
    assert "expired" in body
    assert (await browser.get("/console/hcsmeu/"))[0] == 401


async def test_login_links_are_rate_limited(site: tuple[Chat, Browser]) -> None:
    chat, _ = site
    for _ in range(4):
        await say(chat, MOD, "/login")
    assert len(private(chat, MOD)) == 3
    assert channel(chat)[-1].startswith("Too many login links")


async def test_a_revoked_admin_is_refused_after_login(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:admin")
    assert chat.app is not None
    [row] = [r for r in await chat.app.store.open_sessions() if r.plan.community == "hcsmeu"]
    page = f"/console/hcsmeu/chats/{row.id}/agenda"
    status, body = await browser.get(page)
    assert status == 200
    form = fields(body)
    chat.local.admins.discard("admin")  # admin rights removed on the platform
    status, body = await browser.get("/console/hcsmeu/")
    assert status == 403
    assert "Patients as partners" not in body
    form["questions[1].text"] = "Changed by someone no longer an admin?"
    status, _, _ = await browser.post(page, form)
    assert status == 403
    assert (await chat.app.store.session(row.id)).plan.questions[0].text != (
        "Changed by someone no longer an admin?"
    )


async def test_the_session_id_changes_at_each_login(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    first = browser.http.cookie_jar.filter_cookies(browser.url("/console/"))["hashchat_console"]
    path = await browser.link("local:mod")
    async with browser.http.post(browser.url(path), allow_redirects=False) as r:
        cookie = r.headers["Set-Cookie"]
    second = browser.http.cookie_jar.filter_cookies(browser.url("/console/"))["hashchat_console"]
    assert first.value != second.value
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/console" in cookie
    assert "Max-Age=43200" in cookie
    # The old id no longer opens anything.
    old = Browser(chat)
    try:
        old.http.cookie_jar.update_cookies({"hashchat_console": first.value}, browser.url("/"))
        assert (await old.get("/console/hcsmeu/"))[0] == 401
    finally:
        await old.close()


async def test_next_never_leads_off_the_console(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    for bad in ("//evil.example/console/", "https://evil.example/", "/\\evil.example", ""):
        chat.clock.advance(timedelta(minutes=5))  # within the per-person limit
        path = await browser.link("local:mod")
        _, _, location = await browser.post(path, {"next": bad or "/console/hcsmeu/"})
        assert location == "/console/hcsmeu/", bad


async def test_logout_in_the_chat_ends_the_console_session(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    await say(chat, MOD, "/logout")
    assert (await browser.get("/console/hcsmeu/"))[0] == 401


async def test_login_and_logout_are_audited(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    token = await browser.csrf("/console/hcsmeu/")
    await browser.post("/console/logout", {"csrf": token})
    assert chat.app is not None
    actions: list[Action] = await chat.app.store.audit.recent("hcsmeu")
    assert [(a.action, a.actor) for a in actions][:2] == [
        ("console logout", "local:mod"),
        ("console login", "local:mod"),
    ]


def test_console_link_prints_a_link_and_explains_bad_arguments(tmp_path: Path) -> None:
    config = tmp_path / "hashchat.toml"
    config.write_text(CONFIG_FOR_CLI, encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(main, ["console-link", "--config", str(config),
                              "--community", "hcsmeu", "--as", "local:mod"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/console/login/[\w-]{43}\n", ok.stdout)
    unknown = runner.invoke(main, ["console-link", "--config", str(config),
                                   "--community", "nope", "--as", "local:mod"])  # fmt: skip
    assert unknown.exit_code == 2
    assert "no community 'nope' (known: hcsmeu, other)" in unknown.stderr
    bad = runner.invoke(main, ["console-link", "--config", str(config),
                               "--community", "hcsmeu", "--as", "mod"])  # fmt: skip
    assert bad.exit_code == 2
    assert "--as: expected 'platform:user-id'" in bad.stderr
    assert "Traceback" not in bad.output + unknown.output


CONFIG_FOR_CLI = f"""
[bot]
database = "chat.db"
public_url = "{BASE}:8080"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
moderators = ["local:mod"]
channels = ["local:main"]

[[communities]]
id = "other"
hashtag = "#other"
timezone = "Europe/Paris"
channels = ["local:elsewhere"]
"""


class WithoutDirectMessages:
    """The local platform as one that cannot write to a person privately."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name == "send_direct":
            raise AttributeError(name)
        return getattr(self._inner, name)


async def test_where_no_private_message_is_possible_no_link_is_posted(tmp_path: Path) -> None:
    chat = Chat(tmp_path, console_config(tmp_path))
    chat.local = WithoutDirectMessages(chat.local)  # type: ignore[assignment]
    await chat.boot()
    try:
        await say(chat, MOD, "/login")
        [answer] = channel(chat)
        assert answer.startswith("I cannot write to you privately here")
        assert "/console/login/" not in answer
        assert chat.local.bot_posts("local:@mod") == []
    finally:
        await chat.stop()


async def test_links_are_limited_for_everyone_together(site: tuple[Chat, Browser]) -> None:
    _, browser = site
    for n in range(30):
        await browser.link(f"local:person{n}")
    with pytest.raises(TooManyLinks):
        await browser.link("local:mod")


async def test_a_session_ends_after_twelve_hours(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    chat.clock.advance(timedelta(hours=11, minutes=59))
    assert (await browser.get("/console/hcsmeu/"))[0] == 200
    chat.clock.advance(timedelta(minutes=2))
    assert (await browser.get("/console/hcsmeu/"))[0] == 401
