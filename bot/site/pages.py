"""The site's page registry: every page of a community, once, for the mount and the
static build alike. A new page is one ``Page`` line in ``PAGES``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.site import feed_pages, home, links, search, stats
from bot.site.context import Rendered, SiteContext

# Renders the page for the parameters in its pattern; None answers 404 (no such chat).
PageRender = Callable[[SiteContext, Mapping[str, str]], Awaitable[Rendered | None]]
# The parameter sets the static build writes, one file each.
PageInstances = Callable[[SiteContext], Awaitable[list[dict[str, str]]]]


async def once(_: SiteContext) -> list[dict[str, str]]:
    """A page without parameters is written once."""
    return [{}]


@dataclass(frozen=True, slots=True)
class Page:
    """``pattern`` is the path under ``/<community>/`` in aiohttp's syntax: ``""`` for
    the home, ``"past/{n}/"``, ``"stats/"``, ``"calendar/{uid}.ics"``. A pattern ending
    in ``/`` is written as ``index.html`` in its folder by the static build."""

    pattern: str
    render: PageRender
    instances: PageInstances = once


PAGES: tuple[Page, ...] = (
    Page("", home.home),
    Page("past/{n}/", home.older, home.older_pages),
    Page("search/", search.search_page),
    Page("stats/", stats.stats),
    Page("links/", links.links),
    Page("links/{n}/", links.more_links, links.more_links_pages),
    Page("calendar.ics", feed_pages.calendar_feed),
    Page("calendar/{uid}.ics", feed_pages.calendar_file, feed_pages.calendar_files),
    Page("feed.atom", feed_pages.atom_page),
    Page("chats.json", feed_pages.chats_json),
)


def path_of(community: str, pattern: str, params: Mapping[str, str]) -> str:
    """The site-absolute path of one instance of a page."""
    return f"/{community}/" + pattern.format(**params)
