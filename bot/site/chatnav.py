"""Navigation on a transcript page: back to the community, and to the chats before and
after it. Links are relative to the page, so they work served and in the static export."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.site import urls
from bot.store import Store
from bot.store.site import Neighbour, neighbours


@dataclass(frozen=True, slots=True)
class ChatLink:
    title: str
    href: str
    session_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatNav:
    """Without a site around the page (no ``public_url``: it is opened from the disk)
    ``home``, ``sections`` and ``stylesheet`` are empty, and the links between
    transcripts name their ``index.html``."""

    hashtag: str
    home: str  # the community's home page, "" without a site
    previous: ChatLink | None
    next: ChatLink | None
    sections: tuple[tuple[str, str], ...]  # the site's menu: (label to translate, href)
    stylesheet: str  # the site's look, "" without a site


async def chat_nav(
    store: Store, session_id: int, *, site: bool, publishing: int | None = None
) -> ChatNav:
    """``publishing``: a chat published for the first time, linked before its link is stored."""
    session = await store.session(session_id)
    plan = session.plan
    before, after = await neighbours(store.db, session_id, publishing)
    here = urls.chat(plan.slug)

    def href(target: str) -> str:
        link = urls.href(here, target)
        # Opened from the disk, a folder shows as a listing: name its page.
        return link if site else link + "index.html"

    def chat(n: Neighbour | None) -> ChatLink | None:
        return None if n is None else ChatLink(n.title, href(urls.chat(n.slug)), n.session_id)

    c = plan.community
    sections = (
        (N_("Chats"), urls.home(c)),
        (N_("Search"), urls.search(c)),
        (N_("Numbers"), urls.stats(c)),
        (N_("Links"), urls.links(c)),
        (N_("Calendar"), urls.calendar(c)),
    )
    return ChatNav(
        hashtag=plan.hashtag,
        home=href(urls.home(c)) if site else "",
        previous=chat(before),
        next=chat(after),
        sections=tuple((label, href(target)) for label, target in sections) if site else (),
        stylesheet=urls.href(here, urls.CSS) if site else "",
    )
