"""What the core lends each platform adapter: its cursors in the store, and a way to
reach the moderators about problems only they can fix."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from bot.config import CommunityConfig, Config
from bot.domain import ChannelRef
from bot.i18n import N_, Messages
from bot.notices import Notices, moderator_targets
from bot.platforms.base import Alert, AlertKind
from bot.store import MessageWriter, Store

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
        notices: Notices,
        writer: MessageWriter | None = None,
    ) -> None:
        self.platform = platform
        self.store = store
        # Read positions go with the writer's next batch (``move_cursor``): one save per
        # batch of messages acknowledged, not one per message. Without a writer, at once.
        self.writer = writer
        self.config = config
        self.notices = notices

    async def cursor(self, key: str) -> str | None:
        if self.writer is not None:
            unsaved = self.writer.unsaved_cursor(self.platform, key)
            if unsaved is not None:
                return unsaved
        return await self.store.cursor(self.platform, key)

    async def set_cursor(self, key: str, value: str) -> None:
        await self.store.set_cursor(self.platform, key, value)

    async def move_cursor(self, key: str, value: str) -> None:
        if self.writer is not None:
            self.writer.save_cursor(self.platform, key, value)
        else:
            await self.store.set_cursor(self.platform, key, value)

    async def alert(self, alert: Alert) -> None:
        """Tell each community's moderators, in their own channels when they have any,
        never in a public channel then. The same problem is told once a day: the store
        remembers it, so restarting the bot does not repeat it."""
        for community in self.config.communities:
            affected = [
                text
                for text in [*community.channels, *community.moderator_channels]
                if _concerns(alert, ChannelRef.parse(text), self.platform)
            ]
            if not affected:
                continue
            text = _alert_text(community, alert, self.platform, str(alert.channel or affected[0]))
            log.error("%s: %s", community.id, text)
            exclude = affected[0] if alert.channel is not None else None
            targets = moderator_targets(community.moderator_channels, community.channels, exclude)
            day = self.notices.clock.now().astimezone(ZoneInfo(community.timezone)).date()
            once = f"alert {community.id} {self.platform} {alert.kind.name} {alert.channel}"
            once += f" {alert.detail} {day}"
            await self.notices.tell(targets, text, once=once)


def _concerns(alert: Alert, channel: ChannelRef, platform: str) -> bool:
    if channel.platform != platform:
        return False
    return alert.channel is None or (channel.id, channel.thread) == (
        alert.channel.id,
        alert.channel.thread,
    )


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
