"""Who may use the console for a community: the very decision the chat commands use."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import CommunityConfig
from bot.domain import ChannelRef, UserRef
from bot.moderation import is_moderator
from bot.platforms.base import Platform


async def may_moderate(
    user: UserRef, community: CommunityConfig, platforms: Mapping[str, Platform]
) -> bool:
    """A configured moderator of ``community``, or an admin on the platform of one of its
    channels (asked again each time: rights removed on the platform take effect at once)."""
    if user.key in community.moderators:
        return True
    platform = platforms.get(user.platform)
    if platform is None:
        return False
    for text in dict.fromkeys([*community.channels, *community.moderator_channels]):
        channel = ChannelRef.parse(text)
        if channel.platform == user.platform and await is_moderator(
            user, channel, configured=community.moderators, platform=platform
        ):
            return True
    return False
