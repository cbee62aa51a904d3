"""The agenda editor of a coming chat: checked as ``hashchat check`` checks the files,
previewed post by post against each platform's limit, saved for that chat alone and
planned again at once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aiohttp import web

from bot.agenda_overrides import override_source
from bot.console.agenda_form import AgendaForm, Checked, check, from_plan, from_post, to_toml
from bot.console.chats import CHAT_LINKS, ChatView, Link
from bot.console.framework import ConsoleRequest, page
from bot.console.timeline_view import local_time, post_text
from bot.domain import ChannelRef
from bot.planning import Upcoming, chat_duration, session_plan
from bot.platforms.base import TEXT_LIMITS
from bot.replanning import with_insertions
from bot.store import SessionRow, StepRow
from bot.store.console import ConsoleStore
from bot.store.replanning import approved_suggestions
from bot.texts import Texts
from bot.timeline import SessionPlan, plan_steps


@dataclass(frozen=True, slots=True)
class Fit:
    platform: str
    limit: int
    over: bool


@dataclass(frozen=True, slots=True)
class PreviewPost:
    label: str
    when: str
    text: str
    length: int
    fits: list[Fit]


async def _coming(req: ConsoleRequest) -> SessionRow:
    """The chat in the URL, if it is this community's and has not started: else 404, so
    an id from another community reveals nothing."""
    try:
        row = await req.host.store.session(int(req.request.match_info["session"]))
    except (ValueError, KeyError, LookupError):
        raise web.HTTPNotFound() from None
    if row.plan.community != req.community.id:
        raise web.HTTPNotFound()
    return row


def _editable(req: ConsoleRequest, row: SessionRow) -> bool:
    return row.state == "planned" and row.plan.starts_at > req.host.clock.now()


def _item(req: ConsoleRequest, row: SessionRow) -> Upcoming:
    return Upcoming(req.community, row.plan.series, row.plan.starts_at)


def _check(req: ConsoleRequest, row: SessionRow, form: AgendaForm) -> Checked:
    item = _item(req, row)
    duration = chat_duration(req.community, row.plan.series)
    return check(form, req.community, source=override_source(item), duration=duration)


async def _preview(req: ConsoleRequest, row: SessionRow, checked: Checked) -> list[PreviewPost]:
    """Every post of the chat as it would be after saving, approved questions included."""
    if checked.agenda is None:
        return []
    fresh = session_plan(req.host.config, _item(req, row), checked.agenda)
    approved = await approved_suggestions(req.host.store.db, row.id)
    plan: SessionPlan = with_insertions(replace(fresh, slug=row.plan.slug), row.plan, approved)
    platforms = sorted({ChannelRef.parse(c).platform for c in plan.channels})
    posts: list[PreviewPost] = []
    for s in plan_steps(plan):
        text = post_text(plan, StepRow(s.key, s.kind, s.question, s.seq, s.due_at), req.m)
        limits = [(p, TEXT_LIMITS.get(p, 500)) for p in platforms]
        posts.append(
            PreviewPost(
                label=Texts(plan).step_label(s.key),
                when=local_time(s.due_at, plan, req.m.locale),
                text=text,
                length=len(text),
                fits=[Fit(p, limit, len(text) > limit) for p, limit in limits],
            )
        )
    return posts


async def _show(
    req: ConsoleRequest, row: SessionRow, form: AgendaForm, checked: Checked, *, status: int = 200
) -> web.StreamResponse:
    return req.render(
        "console_editor.html",
        status=status,
        row=row,
        when=local_time(row.plan.starts_at, row.plan, req.m.locale),
        form=form,
        checked=checked,
        preview=await _preview(req, row, checked),
        editable=_editable(req, row),
        saved=req.request.query.get("saved") == "1",
    )


@page("/chats/{session}/agenda")
async def editor(req: ConsoleRequest) -> web.StreamResponse:
    row = await _coming(req)
    form = from_plan(row.plan, req.community)
    return await _show(req, row, form, _check(req, row, form))


@page("/chats/{session}/agenda", method="POST")
async def save(req: ConsoleRequest) -> web.StreamResponse:
    row = await _coming(req)
    form = from_post(req.form, req.community)
    checked = _check(req, row, form)
    if not _editable(req, row):
        return await _show(req, row, form, checked, status=409)
    if checked.agenda is None:
        return await _show(req, row, form, checked, status=422)
    await ConsoleStore(req.host.store.db).set_override(
        row.plan.community,
        row.plan.series,
        row.plan.starts_at,
        to_toml(form),
        req.moderator.key,
        req.host.clock.now(),
    )
    await req.audit("edit agenda", target=row.plan.slug, session_id=row.id)
    await req.host.plan_upcoming()  # a chat not started takes the edit at once
    return req.redirect(f"/chats/{row.id}/agenda?saved=1")


@page("/chats/{session}/agenda/check", method="POST")
async def validate(req: ConsoleRequest) -> web.StreamResponse:
    """For the page's script, as the moderator types: the same check, as JSON."""
    row = await _coming(req)
    checked = _check(req, row, from_post(req.form, req.community))
    preview = await _preview(req, row, checked)
    return web.json_response(
        {
            "fields": checked.by_field,
            "general": checked.general,
            "preview": [_fit_json(p) for p in preview],
        }
    )


def _fit_json(post: PreviewPost) -> dict[str, object]:
    return {"label": post.label, "length": post.length,
            "over": [f.platform for f in post.fits if f.over]}  # fmt: skip


def _editor_link(req: ConsoleRequest, chat: ChatView) -> Link | None:
    if not _editable(req, chat.row):
        return None
    return Link(req.url(f"/chats/{chat.row.id}/agenda"), req.m.gettext("Edit the agenda"))


CHAT_LINKS.append(_editor_link)
