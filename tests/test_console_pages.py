"""The console's suggestions, sign-ups and host, moderation and audit pages: each runs the
chat's own code, each refuses a non-moderator, another community and a missing CSRF."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.console import moderation_page
from bot.domain import UserRef
from bot.store.backend import Location
from bot.store.participation import SignupStore
from bot.store.suggestions import SuggestionStore
from tests.conftest import Chat
from tests.console_site import Browser, console_chat, fields

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'
ANN = UserRef("local", "ann", "Ann")


@pytest.fixture
async def site(tmp_path: Path, db_location: Location) -> AsyncIterator[tuple[Chat, Browser]]:
    """On each backend: the moderation pages and schedule exceptions are stored rows."""
    async for pair in console_chat(tmp_path, database=str(db_location)):
        yield pair


async def session_id(chat: Chat, community: str = "hcsmeu") -> int:
    assert chat.app is not None
    [row] = [r for r in await chat.app.store.open_sessions() if r.plan.community == community]
    return row.id


async def suggest(chat: Chat, text: str, community: str = "hcsmeu") -> int:
    assert chat.app is not None
    store = SuggestionStore(chat.app.store.db)
    return (await store.add(community, "local:ann", "Ann", text, chat.clock.now())).id


async def actions(chat: Chat) -> list[tuple[str, str, str]]:
    assert chat.app is not None
    return [(a.action, a.actor, a.target) for a in await chat.app.store.audit.recent("hcsmeu")]


async def test_approve_into_a_coming_chat_at_q2(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    sid, chosen = await session_id(chat), await suggest(chat, "Who pays for co-design?")
    csrf = await browser.csrf("/console/hcsmeu/suggestions")
    form = {"csrf": csrf, "id": str(chosen), "session": str(sid), "position": "2"}
    status, body, _ = await browser.post("/console/hcsmeu/suggestions/approve", form)
    assert status == 200
    assert f"Suggestion #{chosen} is now Q2 of “Patients as partners”." in body
    assert chat.app is not None
    row = await chat.app.store.session(sid)
    assert [q.text for q in row.plan.questions][:3] == [
        "What does partnership mean to you?",
        "Who pays for co-design?",
        "Which tool helped most?",
    ]
    # The editor and the coming chats show it; the approval is audited like the command.
    _, editor = await browser.get(f"/console/hcsmeu/chats/{sid}/agenda")
    assert fields(editor)["questions[2].text"] == "Who pays for co-design?"
    _, coming = await browser.get("/console/hcsmeu/")
    assert "Who pays for co-design?" in coming
    assert ("approve", "local:mod", f"suggestion {chosen}") in await actions(chat)
    # Decided: it has left the queue.
    _, queue = await browser.get("/console/hcsmeu/suggestions")
    assert f'id="suggestion-{chosen}"' not in queue


async def test_reject_and_merge_run_the_chat_commands(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    a, b, c = [await suggest(chat, t) for t in ("One?", "Same one?", "Off topic?")]
    csrf = await browser.csrf("/console/hcsmeu/suggestions")
    status, body, _ = await browser.post(
        "/console/hcsmeu/suggestions/merge", {"csrf": csrf, "id": str(b), "into": str(a)}
    )
    assert status == 200
    assert f"Suggestion #{b} is merged into #{a}" in body
    _, body, _ = await browser.post(
        "/console/hcsmeu/suggestions/reject", {"csrf": csrf, "id": str(c)}
    )
    assert f"Suggestion #{c} is rejected." in body
    assert f'id="suggestion-{a}"' in body
    assert f'id="suggestion-{b}"' not in body
    assert f'id="suggestion-{c}"' not in body
    assert {
        ("merge", "local:mod", f"suggestion {b}"),
        ("reject", "local:mod", f"suggestion {c}"),
    } <= set(await actions(chat))


async def test_another_communitys_suggestion_is_unknown(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    theirs = await suggest(chat, "Theirs?", community="other")
    csrf = await browser.csrf("/console/hcsmeu/suggestions")
    _, body, _ = await browser.post(
        "/console/hcsmeu/suggestions/reject", {"csrf": csrf, "id": str(theirs)}
    )
    assert f"There is no suggestion #{theirs}." in body
    assert chat.app is not None
    found = await SuggestionStore(chat.app.store.db).get(theirs)
    assert found is not None
    assert found.state == "open"


@pytest.mark.parametrize(
    "path",
    [
        "/suggestions",
        "/moderation",
        "/audit",
        "/schedule",
        "/chats/{sid}/signups",
        "/chats/{sid}/signups.csv",
    ],
)
async def test_pages_refuse_others(site: tuple[Chat, Browser], path: str) -> None:
    chat, browser = site
    page = path.format(sid=await session_id(chat))
    status, _ = await browser.get(f"/console/hcsmeu{page}")
    assert status == 401  # not logged in
    await browser.log_in("local:boss")  # the other community's moderator
    status, body = await browser.get(f"/console/hcsmeu{page}")
    assert status == 403
    assert "Not yours to moderate" in body
    status, _ = await browser.get(f"/console/other{page.split('/chats')[0] or '/suggestions'}")
    assert status == 200


async def test_changes_without_csrf_are_refused(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    chosen, sid = await suggest(chat, "Kept?"), await session_id(chat)
    for path, form in [
        ("/suggestions/reject", {"id": str(chosen)}),
        ("/suggestions/approve", {"id": str(chosen), "session": str(sid)}),
        ("/suggestions/merge", {"id": str(chosen), "into": str(chosen)}),
        (f"/chats/{sid}/host", {"host": "@ann"}),
        ("/moderation/unmute", {"user": "local:ann"}),
        ("/moderation/unhide", {"message": "1"}),
    ]:
        status, body, _ = await browser.post(f"/console/hcsmeu{path}", form)
        assert status == 403, path
        assert "This change was refused" in body, path
    assert chat.app is not None
    found = await SuggestionStore(chat.app.store.db).get(chosen)
    assert found is not None
    assert found.state == "open"
    assert await actions(chat) == [("console login", "local:mod", "")]


async def test_suggestion_texts_and_names_are_escaped(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    assert chat.app is not None
    await SuggestionStore(chat.app.store.db).add("hcsmeu", "local:x", XSS, XSS, chat.clock.now())
    _, body = await browser.get("/console/hcsmeu/suggestions")
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def signup(chat: Chat, user: str, name: str) -> None:
    assert chat.app is not None
    await SignupStore(chat.app.store.db).add(
        "hcsmeu", "march", user=user, user_name=name, channel="local:main", now=chat.clock.now()
    )


async def test_signups_page_and_csv_export(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    sid = await session_id(chat)
    await signup(chat, "local:ann", "Ann")
    await signup(chat, "local:eve", '=HYPERLINK("http://x","y")')
    await signup(chat, "local:xss", XSS)
    status, body = await browser.get(f"/console/hcsmeu/chats/{sid}/signups")
    assert status == 200
    assert "Sign-ups (3)" in body
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;" in body
    async with browser.http.get(browser.url(f"/console/hcsmeu/chats/{sid}/signups.csv")) as r:
        assert r.status == 200
        assert r.content_type == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await r.text())))
    assert rows[0] == ["Name", "Account", "Channel"]
    assert ["Ann", "local:ann", "local:main"] in rows
    assert ['\'=HYPERLINK("http://x","y")', "local:eve", "local:main"] in rows
    _, coming = await browser.get("/console/hcsmeu/")
    assert f"/console/hcsmeu/chats/{sid}/signups" in coming


async def test_set_and_clear_the_host(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    sid = await session_id(chat)
    page = f"/console/hcsmeu/chats/{sid}"
    csrf = await browser.csrf(f"{page}/signups")
    status, body, _ = await browser.post(f"{page}/host", {"csrf": csrf, "host": "@ann"})
    assert status == 200
    assert "now hosts “Patients as partners”" in body
    _, coming = await browser.get("/console/hcsmeu/")
    assert "local:ann" in coming
    _, body, _ = await browser.post(f"{page}/host", {"csrf": csrf, "host": ""})
    assert "has no host named by hand now" in body
    _, coming = await browser.get("/console/hcsmeu/")
    assert "local:ann" not in coming
    assert chat.app is not None
    slug = (await chat.app.store.session(sid)).plan.slug
    assert [a for a in await actions(chat) if a[0] in ("host", "clear host")] == [
        ("clear host", "local:mod", slug),
        ("host", "local:mod", "local:ann"),
    ]


async def test_unhide_lift_a_mute_and_see_warnings(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    mod = UserRef("local", "mod", "Mod")
    await chat.at(10)
    rude = chat.local.say(ANN, "local:main", f"A1: {XSS}")
    await chat.at(11)
    chat.local.say(mod, "local:main", "/hide", reply_to=rude)
    chat.local.say(mod, "local:main", "/warn no ads", reply_to=rude)
    chat.local.say(mod, "local:main", "/mute @ann")
    await chat.at(12)
    status, body = await browser.get("/console/hcsmeu/moderation")
    assert status == 200
    assert "<script>alert(1)" not in body
    assert "A1: &lt;script&gt;" in body
    assert "Warnings (1)" in body
    assert "no ads" in body
    assert "Mutes (1)" in body
    csrf = await browser.csrf("/console/hcsmeu/moderation")
    assert chat.app is not None
    sid = await session_id(chat)
    hidden = list((await chat.app.store.transcript_source(sid)).messages)
    assert hidden == []
    [message] = re.findall(r'name="message" value="(\d+)"', body)
    _, body, _ = await browser.post(
        "/console/hcsmeu/moderation/unhide", {"csrf": csrf, "message": message}
    )
    assert "The message is back in the transcript." in body
    assert "Hidden messages (0)" in body
    texts = [m.text for m in (await chat.app.store.transcript_source(sid)).messages]
    assert texts == [f"A1: {XSS}"]
    _, body, _ = await browser.post(
        "/console/hcsmeu/moderation/unmute", {"csrf": csrf, "user": "local:ann"}
    )
    assert "ann is no longer muted." in body
    assert "Mutes (0)" in body
    assert not chat.app.moderation.services.mutes.is_muted("hcsmeu", "local:ann")
    assert [a[0] for a in (await actions(chat))[:2]] == ["unmute", "unhide"]


async def test_audit_log_filters_and_pages(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    for n in range(3):
        await suggest(chat, f"Q{n}?")
    csrf = await browser.csrf("/console/hcsmeu/suggestions")
    for sid in (1, 2):
        await browser.post("/console/hcsmeu/suggestions/reject", {"csrf": csrf, "id": str(sid)})
    status, body = await browser.get("/console/hcsmeu/audit?action=reject")
    assert status == 200
    assert body.count("<td>reject</td>") == 2
    assert "console login" not in body
    _, body = await browser.get("/console/hcsmeu/audit?chat=999")
    assert "Nothing recorded matches." in body
    _, body = await browser.get("/console/hcsmeu/audit?who=Mod&action=reject")
    assert body.count("<td>reject</td>") == 2
    _, body = await browser.get("/console/hcsmeu/audit?who=local:nobody")
    assert "Nothing recorded matches." in body
    _, body = await browser.get("/console/hcsmeu/audit?since=2030-01-01")
    assert "Nothing recorded matches." in body
    _, body = await browser.get("/console/hcsmeu/audit?since=2026-03-04&until=2026-03-04")
    assert body.count("<td>reject</td>") == 2


async def test_audit_log_pages(site: tuple[Chat, Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    _chat, browser = site
    monkeypatch.setattr(moderation_page, "PER_PAGE", 2)
    await browser.log_in("local:mod")
    csrf = await browser.csrf("/console/hcsmeu/suggestions")
    for n in range(3):
        await browser.post("/console/hcsmeu/suggestions/reject", {"csrf": csrf, "id": str(n + 90)})
    _, first = await browser.get("/console/hcsmeu/audit?action=reject")
    assert first.count("<td>reject</td>") == 2
    assert "page=2" in first
    assert "page=0" not in first
    _, second = await browser.get("/console/hcsmeu/audit?action=reject&page=2")
    assert second.count("<td>reject</td>") == 1
    assert "page=3" not in second
    assert "page=1" in second


async def test_unhiding_after_the_chat_republishes_its_transcript(
    site: tuple[Chat, Browser],
) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    await chat.at(10)
    rude = chat.local.say(ANN, "local:main", "A1: kept out, then let back in")
    await chat.at(11)
    chat.local.say(UserRef("local", "mod", "Mod"), "local:main", "/hide", reply_to=rude)
    await chat.at(75)  # closed and published

    def published() -> str:
        return "".join(p.read_text() for p in (chat.tmp / "pages").rglob("*.html"))

    assert "Patients as partners" in published()
    assert "let back in" not in published()
    _, body = await browser.get("/console/hcsmeu/moderation")
    [message] = re.findall(r'name="message" value="(\d+)"', body)
    csrf = await browser.csrf("/console/hcsmeu/moderation")
    await browser.post("/console/hcsmeu/moderation/unhide", {"csrf": csrf, "message": message})
    assert "let back in" in published()
