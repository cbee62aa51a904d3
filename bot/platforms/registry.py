"""Builds the configured platforms; each adapter is imported only when a config uses it."""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Config
from bot.domain import ChannelRef, UserRef
from bot.errors import ConfigError, Problem
from bot.platforms.base import Platform
from bot.platforms.local import LocalPlatform, View

KNOWN = ("local", "telegram", "discord", "mastodon")


def used_platforms(config: Config) -> dict[str, str]:
    """Each platform the config uses, with the field path of its first channel."""
    used: dict[str, str] = {}
    for i, community in enumerate(config.communities):
        for key in ("channels", "moderator_channels"):
            for j, channel in enumerate(getattr(community, key)):
                used.setdefault(ChannelRef.parse(channel).platform, f"communities[{i}].{key}[{j}]")
    return used


def build_platforms(
    config: Config, clock: Clock, *, view: View | None = None
) -> dict[str, Platform]:
    platforms: dict[str, Platform] = {}
    problems: list[Problem] = []
    for name, field in sorted(used_platforms(config).items()):
        if name == "local":
            admins = [
                UserRef.parse(m)
                for c in config.communities
                for m in c.moderators
                if m.startswith("local:")
            ]
            platforms[name] = LocalPlatform(clock, admins=admins, view=view)
            continue
        message = (
            f"the {name} adapter is not part of this hashchat version yet"
            if name in KNOWN
            else f"unknown platform {name!r}; use one of {', '.join(KNOWN)}"
        )
        problems.append(Problem(str(config.source), message, field=field))
    if problems:
        raise ConfigError(problems)
    return platforms
