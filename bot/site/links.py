"""The resources page: every link shared in the community's chats, once, with how often
it was shared, in which chats and under which questions; most shared first, fifty a page.

Links are found once per chat when it is published or its page is rewritten, in the text
of the messages a transcript shows (bot/store/site_links.py, normalised by
bot/site/urlnorm.py); people who opted out are left out. They are only ever written into
the page, escaped: hashchat never requests them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import CommunityConfig
from bot.i18n import Messages
from bot.site import urls
from bot.site.context import Rendered, SiteContext
from bot.site.paging import later_page, later_pages, page_count
from bot.site.render import render_page
from bot.store.site_figures import ensure
from bot.store.site_links import LinkShare, SiteLinksStore
from bot.store.site_stats import SiteStatsStore


@dataclass(frozen=True, slots=True)
class ChatRef:
    slug: str
    title: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class QuestionRef:
    chat: ChatRef
    number: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedLink:
    url: str  # normalised, http or https
    shared: int  # messages that held it
    chats: tuple[ChatRef, ...]  # oldest first
    questions: tuple[QuestionRef, ...]


@dataclass(slots=True)
class _Tally:
    first: int
    shared: int = 0
    chats: dict[str, ChatRef] = field(default_factory=dict)
    questions: dict[tuple[str, int], QuestionRef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LinksView:
    community: CommunityConfig
    links: tuple[SharedLink, ...]
    page: int  # from 1
    pages: int


ChatInfo = tuple[str, str, datetime, dict[int, str]]  # slug, title, start, question texts


def collect(shares: Sequence[LinkShare], chats: Mapping[int, ChatInfo]) -> list[SharedLink]:
    """Most shared first, then in the order they were first shared."""
    tallies: dict[str, _Tally] = {}
    for s in shares:
        slug, title, start, texts = chats[s.session_id]
        chat = ChatRef(slug, title, start)
        t = tallies.get(s.url)
        if t is None:
            t = tallies[s.url] = _Tally(first=len(tallies))
        t.shared += 1
        t.chats.setdefault(slug, chat)
        for n in sorted(s.questions):
            if n in texts:  # a stray "A7" is general discussion
                t.questions.setdefault((slug, n), QuestionRef(chat, n, texts[n]))
    ranked = sorted(tallies.items(), key=lambda kv: (-kv[1].shared, kv[1].first))
    return [
        SharedLink(
            url=url,
            shared=t.shared,
            chats=tuple(t.chats.values()),
            questions=tuple(t.questions.values()),
        )
        for url, t in ranked
    ]


def render_links(view: LinksView) -> str:
    """Pure: the collected links in, the page out."""
    c = view.community
    here = urls.links(c.id, view.page)
    label = Messages(c.locale).gettext("Links")
    crumbs: tuple[tuple[str, str], ...] = ((label, urls.links(c.id)),)
    if view.page > 1:
        crumbs = (*crumbs, (str(view.page), here))
    return render_page("site/links.html", community=c, here=here, crumbs=crumbs, view=view)


async def _pages(ctx: SiteContext) -> int:
    await ensure(ctx.store.db, ctx.community.id)
    total = await SiteLinksStore(ctx.store.db).count(ctx.community.id)
    return page_count(total, urls.LINKS_PER_PAGE)


async def links_view(ctx: SiteContext, page: int) -> LinksView | None:
    """None for a page past the last: the mount answers 404."""
    c = ctx.community
    pages = await _pages(ctx)
    if not 1 <= page <= pages:
        return None
    shares = await SiteLinksStore(ctx.store.db).page(
        c.id, offset=(page - 1) * urls.LINKS_PER_PAGE, limit=urls.LINKS_PER_PAGE
    )
    chats = {i: (slug, title, start, qs) for i, slug, title, start, qs in
             await SiteStatsStore(ctx.store.db).chats(c.id)}  # fmt: skip
    return LinksView(c, tuple(collect(shares, chats)), page, pages)


async def links(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    view = await links_view(ctx, 1)
    return None if view is None else Rendered(render_links(view))


async def more_links(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    n = later_page(params)
    view = None if n is None else await links_view(ctx, n)
    return None if view is None else Rendered(render_links(view))


async def more_links_pages(ctx: SiteContext) -> list[dict[str, str]]:
    return later_pages(await _pages(ctx))
