"""Participants' control over their words: forget me, opt out, and retention limits."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from bot.commands import Access, Context, Outcome, command
from bot.config import Config
from bot.i18n import N_
from bot.publishing import write_page
from bot.store import Store
from bot.store.audit import Action
from bot.store.privacy import PrivacyStore
from bot.store.site import neighbours
from bot.transcript.publish import remove_transcript

log = logging.getLogger(__name__)


class OptOuts:
    """Checked on every incoming message, so kept in memory and written through."""

    def __init__(self, store: PrivacyStore) -> None:
        self._store = store
        self._users: set[str] = set()

    async def load(self) -> None:
        self._users = await self._store.opted_out()

    def __contains__(self, user: str) -> bool:
        return user in self._users

    async def add(self, user: str, at: datetime) -> bool:
        self._users.add(user)
        return await self._store.opt_out(user, at)

    async def remove(self, user: str) -> bool:
        self._users.discard(user)
        return await self._store.opt_in(user)


@command("forgetme", Access.EVERYONE, N_("delete everything stored about you, everywhere"))
async def _forget_me(ctx: Context) -> Outcome:
    await ctx.services.writer.flush()  # including what you said a moment ago
    deleted, published = await PrivacyStore(ctx.services.store.db).forget(ctx.author.key)
    for session_id in published:
        await ctx.services.publish(session_id)
    reply = ctx.m.ngettext(
        "Done: I deleted {n} message of yours, and your votes, suggestions and sign-ups.",
        "Done: I deleted {n} messages of yours, and your votes, suggestions and sign-ups.",
        deleted,
    )
    if published:
        rewritten = ctx.m.ngettext(
            "{n} published transcript was rewritten without you.",
            "{n} published transcripts were rewritten without you.",
            len(published),
        )
        reply = f"{reply} {rewritten}"
    return Outcome(reply)


@command("optout", Access.EVERYONE, N_("keep your messages out of transcripts from now on"))
async def _opt_out(ctx: Context) -> Outcome:
    if not await ctx.services.optouts.add(ctx.author.key, ctx.services.clock.now()):
        return Outcome(ctx.m.gettext("You are already opted out."))
    return Outcome(
        ctx.m.gettext(
            "From now on your messages are not recorded. Send optin to change your mind,"
            " or forgetme to delete what is already stored."
        )
    )


@command("optin", Access.EVERYONE, N_("let your messages appear in transcripts again"))
async def _opt_in(ctx: Context) -> Outcome:
    if not await ctx.services.optouts.remove(ctx.author.key):
        return Outcome(ctx.m.gettext("You were not opted out."))
    return Outcome(ctx.m.gettext("Your messages are recorded again from now on."))


async def purge_expired(config: Config, store: Store, root: Path, now: datetime) -> int:
    """Delete the messages and published pages of chats older than their community's
    retention period; returns how many chats were purged."""
    privacy, purged = PrivacyStore(store.db), 0
    gone: set[int] = set()
    beside: set[int] = set()  # published chats that linked to a purged one
    for community in config.communities:
        if community.retention is None:
            continue
        for session_id, slug in await privacy.expired(community.id, now - community.retention):
            beside.update(n.session_id for n in await neighbours(store.db, session_id) if n)
            gone.add(session_id)
            await privacy.purge(session_id)
            await asyncio.to_thread(remove_transcript, root, slug)
            await store.audit.record(
                Action(
                    community=community.id,
                    session_id=session_id,
                    action="purge",
                    actor="rule:retention",
                    actor_name="retention",
                    target=slug,
                    reason=f"older than {community.retention.days} days",
                    at=now,
                )
            )
            log.info("%s: purged after the retention period", slug)
            purged += 1
    for session_id in sorted(beside - gone):  # no link to a page taken down
        await write_page(store, root, config.bot.public_url, session_id)
    return purged
