"""The feeds as pages of the site's registry (bot/site/pages.py): served by the mount and
written by the static build alike."""

from __future__ import annotations

from collections.abc import Mapping

from bot.site import atom, calendar, json_feed
from bot.site.channels import channel_links
from bot.site.context import Rendered, SiteContext
from bot.site.feeds import FeedScope, atom_feed, calendar_chats, calendar_event
from bot.site.feeds import calendar_feed as _calendar_feed
from bot.site.feeds import chats_json as _chats_json


def scope(ctx: SiteContext) -> FeedScope:
    where = tuple(
        f"{link.platform} {link.label}" + (f": {link.url}" if link.url else "")
        for link in channel_links(ctx.config, ctx.community)
    )
    return FeedScope(
        config=ctx.config, community=ctx.community, store=ctx.store, now=ctx.now, where=where
    )


async def calendar_feed(ctx: SiteContext, _: Mapping[str, str]) -> Rendered:
    return Rendered(await _calendar_feed(scope(ctx)), calendar.CONTENT_TYPE)


async def calendar_file(ctx: SiteContext, params: Mapping[str, str]) -> Rendered | None:
    """One chat's ``.ics``; 404 for a UID the calendar does not hold."""
    body = await calendar_event(scope(ctx), params["uid"])
    return None if body is None else Rendered(body, calendar.CONTENT_TYPE)


async def calendar_files(ctx: SiteContext) -> list[dict[str, str]]:
    chats, _ = await calendar_chats(scope(ctx))
    return [{"uid": c.uid} for c in chats]


async def atom_page(ctx: SiteContext, _: Mapping[str, str]) -> Rendered:
    return Rendered(await atom_feed(scope(ctx)), atom.CONTENT_TYPE)


async def chats_json(ctx: SiteContext, _: Mapping[str, str]) -> Rendered:
    return Rendered(await _chats_json(scope(ctx)), json_feed.CONTENT_TYPE)
