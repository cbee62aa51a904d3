"""The console's first page: the coming chats of each series, and what each will post when.

Other pages add their link to each chat through ``CHAT_LINKS`` (the agenda editor, the
live panel, the sign-ups), so this page never needs to know them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.console.framework import ConsoleRequest, page
from bot.console.schedule_page import exceptions_of
from bot.console.timeline_view import StepView, local_time, step_views
from bot.store import SessionRow
from bot.store.participation import HostRota, SignupStore


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    label: str


@dataclass(frozen=True, slots=True)
class ChatView:
    row: SessionRow
    when: str
    host: str
    signups: int
    steps: list[StepView]
    links: list[Link] = field(default_factory=list)


# (request, chat) -> a link for that chat, or None where it does not apply.
CHAT_LINKS: list[Callable[[ConsoleRequest, ChatView], Link | None]] = []


async def coming_chats(req: ConsoleRequest) -> list[ChatView]:
    """The community's live and planned chats, soonest first."""
    store = req.host.store
    rota, signups = HostRota(store.db), SignupStore(store.db)
    found: list[ChatView] = []
    for row in await store.open_sessions():
        plan = row.plan
        if plan.community != req.community.id:
            continue
        done = {key for key, _ in await store.posts(row.id)}
        chat = ChatView(
            row=row,
            when=local_time(plan.starts_at, plan, req.m.locale),
            host=await rota.host(row.id) or "",
            signups=len(await signups.of(plan.community, plan.series)),
            steps=step_views(plan, await store.steps(row.id), done, req.m),
        )
        chat.links.extend(link for make in CHAT_LINKS if (link := make(req, chat)) is not None)
        found.append(chat)
    return sorted(found, key=lambda c: c.row.plan.starts_at)


@page("/")
async def chats_page(req: ConsoleRequest) -> web.StreamResponse:
    return req.render(
        "console_chats.html", chats=await coming_chats(req), exceptions=await exceptions_of(req)
    )
