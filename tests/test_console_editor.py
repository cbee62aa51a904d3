"""The agenda editor: the validator's problems at their fields, a save that re-plans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.backend import Location
from tests.conftest import AGENDA, Chat, chat_config
from tests.console_site import Browser, console_chat, fields, problems_at
from tests.test_bilingual import FRENCH

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
async def site(tmp_path: Path, db_location: Location) -> AsyncIterator[tuple[Chat, Browser]]:
    """On each backend: links, sessions and edited agendas are stored rows."""
    async for pair in console_chat(tmp_path, database=str(db_location)):
        yield pair


async def session_id(chat: Chat) -> int:
    assert chat.app is not None
    [row] = [r for r in await chat.app.store.open_sessions() if r.plan.community == "hcsmeu"]
    return row.id


async def test_a_problem_shows_at_its_field_then_a_save_replans(
    site: tuple[Chat, Browser],
) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    sid = await session_id(chat)
    page = f"/console/hcsmeu/chats/{sid}/agenda"
    status, body = await browser.get(page)
    assert status == 200
    form = fields(body)
    assert form["questions[1].text"] == "What does partnership mean to you?"
    # Q1 repeating Q2: the validator of `hashchat check` says so, at Q1's... Q2's field.
    form["questions[1].text"] = "Which tool helped most?"
    status, body, _ = await browser.post(page, form)
    assert status == 422
    assert problems_at(body, "questions[2].text") == [
        "Q2 repeats Q1: remove one of them or reword it"
    ]
    assert 'id="questions[2].text" name="questions[2].text" class="invalid"' in body
    # A time outside the chat: at Q1's time field.
    form["questions[1].text"] = "Who is your partner in care?"
    form["questions[1].at"] = "90m"
    status, body, _ = await browser.post(page, form)
    assert status == 422
    assert problems_at(body, "questions[1].at")[0].startswith("Q1 would be posted at 1h30m")
    # Fixed: saved, and the planned chat takes it at once.
    form["questions[1].at"] = "10m"
    status, _, location = await browser.post(page, form)
    assert (status, location) == (303, f"{page}?saved=1")
    assert chat.app is not None
    row = await chat.app.store.session(sid)
    assert row.plan.questions[0].text == "Who is your partner in care?"
    await chat.at(11)
    assert any("Who is your partner in care?" in p for p in chat.posts())
    assert not any("What does partnership mean to you?" in p for p in chat.posts())
    # The agenda file is untouched, and the edit is audited with the moderator's name.
    assert (chat.tmp / "agenda.toml").read_text() == AGENDA
    [action] = [a for a in await chat.app.store.audit.recent("hcsmeu") if a.action == "edit agenda"]
    assert action.actor == "local:mod"


async def test_the_json_check_reports_problems_by_field(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    page = f"/console/hcsmeu/chats/{await session_id(chat)}/agenda"
    form = fields((await browser.get(page))[1])
    form["title"] = ""
    async with browser.http.post(browser.url(page + "/check"), data=form) as r:
        assert r.status == 200
        found = await r.json()
    assert found["fields"] == {"title": ["the title is empty: write one"]}
    del form["csrf"]
    status, _, _ = await browser.post(page + "/check", form)
    assert status == 403


async def test_a_save_without_its_csrf_token_is_refused(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    await browser.log_in("local:mod")
    sid = await session_id(chat)
    page = f"/console/hcsmeu/chats/{sid}/agenda"
    form = fields((await browser.get(page))[1])
    form["questions[1].text"] = "Changed without a token?"
    del form["csrf"]
    status, body, _ = await browser.post(page, form)
    assert status == 403
    assert "refused" in body
    assert chat.app is not None
    assert (await chat.app.store.session(sid)).plan.questions[0].text != form["questions[1].text"]


async def test_another_communitys_chat_is_not_found(site: tuple[Chat, Browser]) -> None:
    chat, browser = site
    assert chat.app is not None
    [other] = [r for r in await chat.app.store.open_sessions() if r.plan.community == "other"]
    await browser.log_in("local:mod")
    assert (await browser.get(f"/console/hcsmeu/chats/{other.id}/agenda"))[0] == 404
    assert (await browser.get(f"/console/other/chats/{other.id}/agenda"))[0] == 403


async def test_agenda_texts_are_inert_in_the_editor_and_preview(tmp_path: Path) -> None:
    agenda = AGENDA.replace("Patients as partners", XSS.replace('"', "'")).replace(
        "Which tool helped most?", XSS.replace('"', "'") + " tool?"
    )
    async for chat, browser in console_chat(tmp_path, agenda=agenda):
        await browser.log_in("local:mod")
        for page in ("/console/hcsmeu/", f"/console/hcsmeu/chats/{await session_id(chat)}/agenda"):
            status, body = await browser.get(page)
            assert status == 200
            assert "<script>alert" not in body
            assert "<img src=x" not in body
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def test_a_bilingual_chat_edits_its_second_language_too(tmp_path: Path) -> None:
    config = chat_config(tmp_path, settings='second_locale = "fr"')
    (tmp_path / "agenda.toml").write_text(AGENDA + FRENCH, encoding="utf-8")
    bot = config.bot.model_copy(update={"public_url": "http://127.0.0.1:1", "listen_port": 0})
    chat = Chat(tmp_path, config.model_copy(update={"bot": bot}))
    await chat.boot(serve_web=True)
    browser = Browser(chat)
    try:
        await browser.log_in("local:mod")
        page = f"/console/hcsmeu/chats/{await session_id(chat)}/agenda"
        form = fields((await browser.get(page))[1])
        assert form["translations.fr.title"] == "Les patients partenaires"
        assert form["translations.fr.questions"].splitlines()[0] == (
            "Que signifie le partenariat pour vous ?"
        )
        # One translated question short: said at the translated questions' field.
        french = form["translations.fr.questions"].splitlines()
        form["translations.fr.questions"] = "\n".join(french[:2])
        status, body, _ = await browser.post(page, form)
        assert status == 422
        assert problems_at(body, "translations.fr.questions") == [
            "2 translated questions for 3 questions: give one for each, in the same order"
        ]
        form["questions[1].text"] = "Who is your partner in care?"
        form["translations.fr.questions"] = "\n".join(["Qui est votre partenaire ?", *french[1:]])
        assert (await browser.post(page, form))[0] == 303
        assert chat.app is not None
        plan = (await chat.app.store.session(await session_id(chat))).plan
        assert plan.questions[0].text == "Who is your partner in care?"
        assert plan.translated["q1"] == "Qui est votre partenaire ?"
    finally:
        await browser.close()
        await chat.stop()
