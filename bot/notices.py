"""Telling moderators about problems, wherever they listen."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from bot.domain import ChannelRef
from bot.platforms.base import Platform, PlatformError

log = logging.getLogger(__name__)


async def tell_moderators(
    platforms: Mapping[str, Platform], channels: Iterable[str], text: str
) -> None:
    """Best effort in each channel: one unreachable platform must not silence the others."""
    for channel in channels:
        ref = ChannelRef.parse(channel)
        platform = platforms.get(ref.platform)
        if platform is None:
            continue
        try:
            await platform.send(ref, text)
        except PlatformError as exc:
            log.error("could not reach the moderators in %s: %s", channel, exc)
