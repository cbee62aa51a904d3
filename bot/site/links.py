"""The resources page: every link shared in the community's chats, once, with how often
it was shared, in which chats and under which questions.

Links come from the text of the messages a transcript shows, of people who have not
opted out (bot/store/site_stats.py); they are normalised (bot/site/urlnorm.py) and only
ever written into the page, escaped: hashchat never requests them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import CommunityConfig
from bot.i18n import Messages
from bot.site import urls
from bot.site.context import Rendered, SiteContext
from bot.site.render import render_page
from bot.site.urlnorm import extract, normalise
from bot.store.site_stats import SharedMessage, SiteStatsStore


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


def collect(messages: Sequence[SharedMessage]) -> list[SharedLink]:
    """Most shared first, then in the order they were first shared."""
    tallies: dict[str, _Tally] = {}
    for m in messages:
        found = {u for u in map(normalise, extract(m.text)) if u is not None}
        chat = ChatRef(m.slug, m.chat_title, m.starts_at)
        for url in sorted(found):
            t = tallies.get(url)
            if t is None:
                t = tallies[url] = _Tally(first=len(tallies))
            t.shared += 1
            t.chats.setdefault(m.slug, chat)
            for n in sorted(m.questions):
                if n in m.question_texts:
                    t.questions.setdefault((m.slug, n), QuestionRef(chat, n, m.question_texts[n]))
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


def render_links(community: CommunityConfig, links: Sequence[SharedLink]) -> str:
    """Pure: the collected links in, the page out."""
    here = urls.links(community.id)
    label = Messages(community.locale).gettext("Links")
    return render_page(
        "site/links.html", community=community, here=here, crumbs=((label, here),), links=links
    )


async def links(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    shared = await SiteStatsStore(ctx.store.db).shared_links(ctx.community.id)
    return Rendered(render_links(ctx.community, collect(shared)))
