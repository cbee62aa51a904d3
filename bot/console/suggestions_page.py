"""The suggestions queue: most votes first; approve one into a coming chat at a position,
reject one, merge a duplicate. Each button runs the chat command of that name (``approve``,
``reject``, ``merge``), so the rules, the re-numbering and the audit entry are the chat's."""

from __future__ import annotations

from aiohttp import web

from bot.console.framework import NAV, ConsoleRequest, page
from bot.console.run_command import chat_of, run_command
from bot.console.timeline_view import local_time
from bot.i18n import N_
from bot.store.suggestions import SuggestionStore


async def _show(req: ConsoleRequest, outcome: str = "") -> web.StreamResponse:
    queue = await SuggestionStore(req.host.store.db).open_by_votes(req.community.id)
    now = req.host.clock.now()
    coming = [
        (row.id, f"{local_time(row.plan.starts_at, row.plan, req.m.locale)} · {row.plan.title}",
         len(row.plan.questions))
        for row in sorted(await req.host.store.open_sessions(), key=lambda r: r.plan.starts_at)
        if row.plan.community == req.community.id and row.state == "planned"
        and row.plan.starts_at > now
    ]  # fmt: skip
    return req.render("console_suggestions.html", queue=queue, coming=coming, outcome=outcome)


@page("/suggestions")
async def suggestions(req: ConsoleRequest) -> web.StreamResponse:
    return await _show(req)


def _number(req: ConsoleRequest, name: str) -> int | None:
    text = req.form.get(name, "").strip().lstrip("#")
    return int(text) if text.isdecimal() else None


@page("/suggestions/approve", method="POST")
async def approve(req: ConsoleRequest) -> web.StreamResponse:
    sid, position = _number(req, "id"), _number(req, "position")
    chat = await chat_of(req, req.form.get("session", ""))
    if sid is None or chat is None:
        return await _show(req, req.m.gettext("Choose a suggestion and a coming chat."))
    args = f"{sid}" if position is None else f"{sid} at {position}"
    outcome = await run_command(req, "approve", args, session=chat)
    return await _show(req, outcome.reply)


@page("/suggestions/reject", method="POST")
async def reject(req: ConsoleRequest) -> web.StreamResponse:
    sid = _number(req, "id")
    if sid is None:
        return await _show(req, req.m.gettext("Choose a suggestion."))
    return await _show(req, (await run_command(req, "reject", str(sid))).reply)


@page("/suggestions/merge", method="POST")
async def merge(req: ConsoleRequest) -> web.StreamResponse:
    sid, into = _number(req, "id"), _number(req, "into")
    if sid is None or into is None:
        return await _show(req, req.m.gettext("Choose the duplicate and the one to keep."))
    return await _show(req, (await run_command(req, "merge", f"{sid} into {into}")).reply)


NAV.append(("/suggestions", N_("Suggestions")))
