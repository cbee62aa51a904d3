"""The community's numbers page: its chats over time, who comes back, which questions
drew most, where people speak from and who speaks most, as SVG charts with tables.

The figures come from :class:`bot.store.site_stats.SiteStatsStore`; this module only
turns them into charts and a page. :func:`render_stats` is the whole render, also called
by ``bench/site.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from babel.numbers import format_percent
from markupsafe import Markup

from bot.config import CommunityConfig
from bot.i18n import Messages
from bot.site import urls
from bot.site.context import Rendered, SiteContext
from bot.site.render import SiteFormatter, render_page
from bot.site.svg import Series, bar_chart, hbar_chart
from bot.store.site_stats import RETENTION_WINDOW, CommunityFigures, SiteStatsStore

# Product names are not translated.
PLATFORM_NAMES = {
    "local": "Local",
    "telegram": "Telegram",
    "discord": "Discord",
    "mastodon": "Mastodon",
}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.capitalize())


class _Memo(SiteFormatter):
    """Babel takes some 25 µs a number: a page of 500 chats shows thousands of them, most
    repeated, so each figure and day is formatted once."""

    def __init__(self, locale: str, zone: str) -> None:
        super().__init__(locale, zone)
        self._numbers: dict[int, str] = {}
        self._days: dict[date, str] = {}

    def number(self, n: int) -> str:
        text = self._numbers.get(n)
        if text is None:
            text = self._numbers[n] = super().number(n)
        return text

    def day(self, dt: datetime) -> str:
        key = dt.astimezone(self.zone).date()
        text = self._days.get(key)
        if text is None:
            text = self._days[key] = super().day(dt)
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Charts:
    messages: Markup
    people: Markup
    retention: Markup
    questions: Markup
    platforms: Markup
    active: Markup


def _charts(f: CommunityFigures, fmt: SiteFormatter, m: Messages) -> Charts:
    _ = m.gettext
    labels = [f"{fmt.day(c.starts_at)} · {c.title}" for c in f.chats]
    ends = (fmt.day(f.chats[0].starts_at), fmt.day(f.chats[-1].starts_at)) if f.chats else ("", "")
    kept = [c for c in f.chats if c.later]
    kept_ends = (fmt.day(kept[0].starts_at), fmt.day(kept[-1].starts_at)) if kept else ("", "")
    number = fmt.number
    return Charts(
        messages=bar_chart(
            ident="chart-messages",
            title=_("Messages per chat"),
            desc=_("One bar per chat, oldest first: the messages shown in its transcript."),
            labels=labels,
            series=[Series(_("Messages"), tuple(c.messages for c in f.chats), "chart-s1")],
            number=number,
            first_last=ends,
        ),
        people=bar_chart(
            ident="chart-people",
            title=_("Participants per chat"),
            desc=_("One bar per chat, oldest first: first-timers, with returning people on top."),
            labels=labels,
            series=[
                Series(_("First-timers"), tuple(c.first_timers for c in f.chats), "chart-s1"),
                Series(_("Returning"), tuple(c.returning for c in f.chats), "chart-s2"),
            ],
            number=number,
            first_last=ends,
        ),
        retention=bar_chart(
            ident="chart-retention",
            title=_("Came back"),
            desc=_(
                "One bar per chat: the percentage of its participants who came to at least"
                " one of the next {n} chats.",
                n=RETENTION_WINDOW,
            ),
            labels=[f"{fmt.day(c.starts_at)} · {c.title}" for c in kept],
            series=[Series(_("Came back (%)"), tuple(c.retention for c in kept), "chart-s2")],
            number=lambda n: format_percent(n / 100, locale=fmt.locale),
            first_last=kept_ends,
        ),
        questions=hbar_chart(
            ident="chart-questions",
            title=_("Questions that drew most answers"),
            desc=_("The questions of all chats with the most answers, most first."),
            rows=[
                (f"{fmt.day(q.starts_at)} · Q{q.number} {q.text}", q.answers)
                for q in f.top_questions
            ],
            number=number,
        ),
        platforms=hbar_chart(
            ident="chart-platforms",
            title=_("Messages per platform"),
            desc=_("How many of all messages were sent from each platform."),
            rows=[(platform_name(p.platform), p.messages) for p in f.platforms],
            number=number,
            css="chart-s2",
        ),
        active=hbar_chart(
            ident="chart-active",
            title=_("Most active participants"),
            desc=_("The people with the most messages across all chats."),
            rows=[(p.name, p.messages) for p in f.most_active],
            number=number,
        ),
    )


def render_stats(community: CommunityConfig, figures: CommunityFigures) -> str:
    """Pure: the figures in, the page out; the served page and the static file are this."""
    here = urls.stats(community.id)
    fmt = _Memo(community.locale, community.timezone)
    messages = Messages(community.locale)
    total = figures.total_messages

    def percent(part: int, whole: int) -> str:
        return format_percent(part / whole if whole else 0, locale=fmt.locale)

    return render_page(
        "site/stats.html",
        community=community,
        here=here,
        crumbs=((messages.gettext("Numbers"), here),),
        f=figures,
        charts=_charts(figures, fmt, messages),
        total=total,
        people=sum(p.participants for p in figures.platforms),
        percent=percent,
        num=fmt.number,
        day=fmt.day,
        platform_name=platform_name,
        window=RETENTION_WINDOW,
    )


async def stats(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    figures = await SiteStatsStore(ctx.store.db).figures(ctx.community.id)
    return Rendered(render_stats(ctx.community, figures))
