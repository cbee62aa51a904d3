"""What the core lends each platform adapter: its cursors in the store, and a way to
reach the moderators about problems only they can fix."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.config import CommunityConfig, Config
from bot.domain import ChannelRef
from bot.i18n import N_, Messages
from bot.notices import tell_moderators
from bot.platforms.base import Alert, AlertKind, Platform
from bot.store import Store

log = logging.getLogger(__name__)

# How moderators fix a platform that hides participants' messages from the bot.
_READ_FIXES = {
    "telegram": N_(
        "Make the bot an administrator of the group, or turn its privacy mode off with"
        " @BotFather (/setprivacy) and then remove and add the bot to the group again."
    ),
    "discord": N_(
        "Turn on the Message Content intent for the bot in the Discord developer portal"
        " (Bot, Privileged Gateway Intents), then restart hashchat."
    ),
    "mastodon": N_(
        "Create a new access token with the read and write scopes in the bot account's"
        " Preferences (Development), set it in the environment variable the config names,"
        " then restart hashchat."
    ),
}
_GENERIC_FIX = N_("Check the bot's permissions there.")


class PlatformHost:
    def __init__(
        self,
        platform: str,
        *,
        store: Store,
        config: Config,
        platforms: Mapping[str, Platform],
    ) -> None:
        self.platform = platform
        self.store = store
        self.config = config
        self.platforms = platforms
        self._told: set[tuple[str, Alert]] = set()  # once per run, not on every retry

    async def cursor(self, key: str) -> str | None:
        return await self.store.cursor(self.platform, key)

    async def set_cursor(self, key: str, value: str) -> None:
        await self.store.set_cursor(self.platform, key, value)

    async def alert(self, alert: Alert) -> None:
        for community in self.config.communities:
            channels = [ChannelRef.parse(c) for c in community.channels]
            affected = [
                c
                for c in channels
                if c.platform == self.platform
                and (
                    alert.channel is None
                    or (c.id, c.thread) == (alert.channel.id, alert.channel.thread)
                )
            ]
            if not affected or (community.id, alert) in self._told:
                continue
            self._told.add((community.id, alert))
            text = _alert_text(community, alert, self.platform, str(alert.channel or affected[0]))
            log.error("%s: %s", community.id, text)
            targets = community.moderator_channels or community.channels
            await tell_moderators(self.platforms, targets, text)


def _alert_text(community: CommunityConfig, alert: Alert, platform: str, channel: str) -> str:
    m = Messages(community.locale)
    if alert.kind is AlertKind.CANNOT_READ:
        fix = m.gettext(_READ_FIXES.get(platform, _GENERIC_FIX))
        return m.gettext(
            "To the moderators of {hashtag}: hashchat cannot read the participants' messages"
            " in {channel}, so a chat there would record no answers. {fix}",
            hashtag=community.hashtag,
            channel=channel,
            fix=fix,
        )
    return m.gettext(
        "To the moderators of {hashtag}: hashchat lacks a permission it needs in {channel}:"
        " {permission}.",
        hashtag=community.hashtag,
        channel=channel,
        permission=alert.detail,
    )
