"""Moderation: hidden messages (unhide), mutes (lift, through the ``unmute`` command),
warnings, and the audit log with filters, a page at a time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.console.framework import NAV, ConsoleRequest, page
from bot.console.run_command import run_command
from bot.i18n import N_
from bot.store.console_moderation import (
    AuditQuery,
    hidden_messages,
    mutes,
    search_audit,
    unhide,
)

PER_PAGE = 50


async def _show(req: ConsoleRequest, outcome: str = "") -> web.StreamResponse:
    db = req.host.store.db
    warnings = await search_audit(
        db, AuditQuery(community=req.community.id, action="warn"), limit=PER_PAGE
    )
    return req.render(
        "console_moderation.html",
        hidden=await hidden_messages(db, req.community.id),
        mutes=await mutes(db, req.community.id),
        warnings=warnings,
        outcome=outcome,
    )


@page("/moderation")
async def moderation(req: ConsoleRequest) -> web.StreamResponse:
    return await _show(req)


@page("/moderation/unhide", method="POST")
async def unhide_message(req: ConsoleRequest) -> web.StreamResponse:
    text = req.form.get("message", "")
    store = req.host.store
    found = await unhide(store.db, req.community.id, int(text)) if text.isdecimal() else None
    if found is None:
        return await _show(req, req.m.gettext("That message is not hidden."))
    await req.audit("unhide", target=f"message {text}", session_id=found)
    if (await store.session(found)).state == "closed":  # its published page shows it again
        await req.host.moderation.services.publish(found)
    return await _show(req, req.m.gettext("The message is back in the transcript."))


@page("/moderation/unmute", method="POST")
async def lift_mute(req: ConsoleRequest) -> web.StreamResponse:
    user = " ".join(req.form.get("user", "").split())
    return await _show(req, (await run_command(req, "unmute", user)).reply)


def _day(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), zone)
    except ValueError:
        return None


@page("/audit")
async def audit_log(req: ConsoleRequest) -> web.StreamResponse:
    """Filters from the query string; dates are whole days in the community's time zone."""
    q, zone = req.request.query, ZoneInfo(req.community.timezone)
    chat = q.get("chat", "").strip()
    until = _day(q.get("until", ""), zone)
    query = AuditQuery(
        community=req.community.id,
        actor=q.get("who", "").strip(),
        action=q.get("action", "").strip(),
        session_id=int(chat) if chat.isdecimal() else None,
        since=_day(q.get("since", ""), zone),
        until=None if until is None else until + timedelta(days=1),
    )
    number = int(q["page"]) if q.get("page", "").isdecimal() and int(q["page"]) > 0 else 1
    found = await search_audit(
        req.host.store.db, query, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE
    )
    filters = {k: q.get(k, "") for k in ("who", "action", "chat", "since", "until")}
    return req.render(
        "console_audit.html",
        actions=[(a, a.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")) for a in found[:PER_PAGE]],
        filters=filters,
        page=number,
        more=len(found) > PER_PAGE,
    )


NAV.append(("/moderation", N_("Moderation")))
NAV.append(("/audit", N_("Audit log")))
