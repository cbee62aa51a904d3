"""Where a community's chats happen, as the site shows it: each channel's public address
where the platform has one (derived from the config, or given in ``channel_links``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from bot.config import CommunityConfig, Config
from bot.domain import ChannelRef

_PLATFORM_NAMES = {
    "local": "hashchat",
    "telegram": "Telegram",
    "discord": "Discord",
    "mastodon": "Mastodon",
}
_TELEGRAM_USERNAME = re.compile(r"@([A-Za-z][A-Za-z0-9_]{3,31})")


@dataclass(frozen=True, slots=True)
class ChannelLink:
    platform: str  # the platform's name as people know it
    label: str  # what the channel is called there
    url: str | None  # None where the platform gives no public address


def channel_links(config: Config, community: CommunityConfig) -> list[ChannelLink]:
    """One entry per channel, in the config's order; never a link to a private place."""
    return [_link(config, community, key) for key in community.channels]


def _link(config: Config, community: CommunityConfig, key: str) -> ChannelLink:
    ref = ChannelRef.parse(key)
    name = _PLATFORM_NAMES.get(ref.platform, ref.platform)
    explicit = community.channel_links.get(key)
    if ref.platform == "mastodon":
        label = f"#{ref.id}"
        settings = config.platforms.get("mastodon")
        base = getattr(settings, "api_base_url", None) if settings else None
        derived = f"{str(base).rstrip('/')}/tags/{quote(ref.id)}" if base else None
        return ChannelLink(name, label, explicit or derived)
    if ref.platform == "telegram" and (m := _TELEGRAM_USERNAME.fullmatch(ref.id)):
        path = m.group(1) + (f"/{quote(ref.thread)}" if ref.thread else "")
        return ChannelLink(name, f"@{m.group(1)}", explicit or f"https://t.me/{path}")
    return ChannelLink(name, ref.id, explicit)
