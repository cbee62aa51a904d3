"""Sign-ups per chat (the old participant list), as a page and as CSV, and the host rota:
who hosts each coming chat, set through the ``host`` chat command or cleared."""

from __future__ import annotations

import csv
import io

from aiohttp import web

from bot.console.chats import CHAT_LINKS, ChatView, Link
from bot.console.framework import ConsoleRequest, page, secure
from bot.console.run_command import chat_of, run_command
from bot.console.timeline_view import local_time
from bot.store import SessionRow
from bot.store.console_moderation import clear_host
from bot.store.participation import HostRota, SignupStore

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run: one starting like a formula gets a leading '."""
    return f"'{text}" if text.startswith(_FORMULA) else text


async def _chat(req: ConsoleRequest) -> SessionRow:
    row = await chat_of(req, req.request.match_info["session"])
    if row is None:
        raise web.HTTPNotFound()
    return row


async def _show(req: ConsoleRequest, row: SessionRow, outcome: str = "") -> web.StreamResponse:
    plan = row.plan
    return req.render(
        "console_signups.html",
        row=row,
        when=local_time(plan.starts_at, plan, req.m.locale),
        signups=await SignupStore(req.host.store.db).of(plan.community, plan.series),
        host=await HostRota(req.host.store.db).host(row.id) or "",
        outcome=outcome,
    )


@page("/chats/{session}/signups")
async def signups(req: ConsoleRequest) -> web.StreamResponse:
    return await _show(req, await _chat(req))


@page("/chats/{session}/signups.csv")
async def signups_csv(req: ConsoleRequest) -> web.StreamResponse:
    row = await _chat(req)
    found = await SignupStore(req.host.store.db).of(row.plan.community, row.plan.series)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([req.m.gettext("Name"), req.m.gettext("Account"), req.m.gettext("Channel")])
    for s in found:
        writer.writerow([csv_cell(s.user_name), csv_cell(s.user), csv_cell(s.channel)])
    await req.audit("export sign-ups", target=row.plan.slug, session_id=row.id)
    return secure(
        web.Response(
            text=out.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{row.plan.slug}-signups.csv"'},
        )
    )


@page("/chats/{session}/host", method="POST")
async def set_host(req: ConsoleRequest) -> web.StreamResponse:
    """A name: the ``host`` command's handover (same parsing, same audit); empty: cleared."""
    row = await _chat(req)
    wanted = " ".join(req.form.get("host", "").split())
    if wanted:
        outcome = (await run_command(req, "host", wanted, session=row)).reply
    else:
        await clear_host(req.host.store.db, row.id)
        await req.audit("clear host", target=row.plan.slug, session_id=row.id)
        outcome = req.m.gettext("“{title}” has no host named by hand now.", title=row.plan.title)
    return await _show(req, await req.host.store.session(row.id), outcome)


def _signups_link(req: ConsoleRequest, chat: ChatView) -> Link:
    return Link(req.url(f"/chats/{chat.row.id}/signups"), req.m.gettext("Sign-ups and host"))


CHAT_LINKS.append(_signups_link)
