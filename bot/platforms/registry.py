"""Builds the configured platforms; each adapter is imported only when a config uses it."""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Config
from bot.domain import ChannelRef, UserRef
from bot.errors import ConfigError
from bot.platforms.base import Platform
from bot.platforms.local import LocalPlatform, View

KNOWN = ("local", "telegram", "discord", "mastodon")


def used_platforms(config: Config) -> set[str]:
    return {
        ChannelRef.parse(channel).platform
        for community in config.communities
        for channel in [*community.channels, *community.moderator_channels]
    }


def build_platforms(
    config: Config, clock: Clock, *, view: View | None = None
) -> dict[str, Platform]:
    platforms: dict[str, Platform] = {}
    for name in sorted(used_platforms(config)):
        if name == "local":
            admins = [
                UserRef.parse(m)
                for c in config.communities
                for m in c.moderators
                if m.startswith("local:")
            ]
            platforms[name] = LocalPlatform(clock, admins=admins, view=view)
        elif name in KNOWN:
            raise ConfigError.single(
                config.source,
                f"the {name} adapter is not part of this hashchat version yet",
                field="communities.channels",
            )
        else:
            raise ConfigError.single(
                config.source,
                f"unknown platform {name!r}; use one of {', '.join(KNOWN)}",
                field="communities.channels",
            )
    return platforms
