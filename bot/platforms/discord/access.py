"""What the bot must be allowed in a channel, named as Discord's settings name it, and
the check at start-up that tells the moderators what is missing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from bot.domain import ChannelRef
from bot.platforms.base import Alert, AlertKind
from bot.platforms.discord.lib import discord

_ALWAYS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "read_message_history": "Read Message History",
    "manage_events": "Manage Events",
}
_THREADS = {
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


def missing_permissions(channel: discord.TextChannel, *, threads: bool) -> list[str]:
    """The permissions a chat in ``channel`` needs and the bot lacks there; the optional
    ones (delete, timeout, slow mode) are reported when they are first used."""
    granted = channel.permissions_for(channel.guild.me)
    needed = {**_ALWAYS, **(_THREADS if threads else {})}
    return [label for flag, label in needed.items() if not getattr(granted, flag)]


async def check_channels(
    client: discord.Client,
    channels: Iterable[int],
    threads: frozenset[int],
    alert: Callable[[Alert], Awaitable[None]],
) -> set[int]:
    """Tell the moderators what the bot cannot do where it is meant to run; the ids of
    the servers of the channels it can see."""
    guilds: set[int] = set()
    for channel_id in sorted(channels):
        ref = ChannelRef("discord", str(channel_id))
        channel = client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            await alert(Alert(AlertKind.MISSING_PERMISSION, ref, "View Channel"))
            continue
        guilds.add(channel.guild.id)
        missing = missing_permissions(channel, threads=channel_id in threads)
        if missing:
            await alert(Alert(AlertKind.MISSING_PERMISSION, ref, ", ".join(missing)))
    return guilds
