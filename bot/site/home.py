"""The community's home page and its older pages: who we are, where and when the next
chats are, and every published chat, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.config import CommunityConfig
from bot.site import urls
from bot.site.channels import ChannelLink, channel_links
from bot.site.context import Rendered, SiteContext
from bot.site.paging import later_page, later_pages, page_count
from bot.site.render import render_page
from bot.store.site import SiteStore


@dataclass(frozen=True, slots=True, kw_only=True)
class NextChat:
    title: str
    topic: str
    host: str | None  # a name: a host known only by a platform's user id is not shown
    starts_at: datetime
    ends_at: datetime
    uid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PastChat:
    title: str
    slug: str
    starts_at: datetime
    participants: int
    answers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeView:
    """Everything one page of the home shows; ``page`` counts from 1 (the home itself)."""

    community: CommunityConfig
    channels: tuple[ChannelLink, ...]
    coming: tuple[NextChat, ...]
    past: tuple[PastChat, ...]
    page: int
    pages: int


def render_home(view: HomeView) -> str:
    """Pure: plain data in, HTML out; the served page and the static file are this."""
    c = view.community
    here = urls.past(c.id, view.page)
    crumbs: tuple[tuple[str, str], ...] = ()
    if view.page > 1:
        crumbs = ((str(view.page), here),)
    return render_page("site/home.html", community=c, here=here, crumbs=crumbs, view=view)


async def home_view(ctx: SiteContext, page: int) -> HomeView | None:
    """None for a page past the last: the mount answers 404."""
    c = ctx.community
    site = SiteStore(ctx.store.db)
    total = await site.past_count(c.id)
    pages = page_count(total, urls.PER_PAGE)
    if not 1 <= page <= pages:
        return None
    coming = await site.coming(c.id, ctx.now) if page == 1 else []
    past = await site.past(c.id, offset=(page - 1) * urls.PER_PAGE, limit=urls.PER_PAGE)
    return HomeView(
        community=c,
        channels=tuple(channel_links(ctx.config, c)),
        coming=tuple(
            NextChat(
                title=r.plan.title,
                topic=r.plan.topic,
                host=r.host_name,
                starts_at=r.plan.starts_at,
                ends_at=r.plan.ends_at,
                uid=urls.chat_uid(c.id, r.plan.series, r.plan.slug),
            )
            for r in coming
        ),
        past=tuple(
            PastChat(
                title=r.plan.title,
                slug=r.plan.slug,
                starts_at=r.starts_at,
                participants=r.participants,
                answers=r.answers,
            )
            for r in past
        ),
        page=page,
        pages=pages,
    )


async def home(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    view = await home_view(ctx, 1)
    return None if view is None else Rendered(render_home(view))


async def older(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    n = later_page(params)
    view = None if n is None else await home_view(ctx, n)
    return None if view is None else Rendered(render_home(view))


async def older_pages(ctx: SiteContext) -> list[dict[str, str]]:
    total = await SiteStore(ctx.store.db).past_count(ctx.community.id)
    return later_pages(page_count(total, urls.PER_PAGE))
