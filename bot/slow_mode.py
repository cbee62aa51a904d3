"""Slow mode for the chat hour, where configured and where the platform has it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.clock import Clock
from bot.domain import ChannelRef
from bot.platforms.base import Platform, PlatformError
from bot.store import SessionRow, Store
from bot.store.audit import Action

log = logging.getLogger(__name__)


async def set_slow_mode(
    row: SessionRow,
    seconds: int,
    *,
    store: Store,
    platforms: Mapping[str, Platform],
    clock: Clock,
) -> None:
    """Turn it on (``seconds``) or off (0) in every channel of the chat; each change is
    in the audit log, so moderators can see who limited their channel and when."""
    if not row.plan.slow_mode_seconds:
        return
    for channel in row.plan.channels:
        ref = ChannelRef.parse(channel)
        platform = platforms.get(ref.platform)
        if platform is None or not platform.capabilities.slow_mode:
            continue
        try:
            await platform.set_slow_mode(ref, seconds)
        except PlatformError as exc:
            log.error("%s: could not set slow mode in %s: %s", row.plan.slug, channel, exc)
            continue
        await store.audit.record(
            Action(
                community=row.plan.community,
                session_id=row.id,
                action="slowmode",
                actor="rule:slow-mode",
                actor_name="slow mode",
                target=channel,
                reason=f"{seconds}s" if seconds else "off",
                at=clock.now(),
            )
        )
