"""What the bot must be allowed in a channel, named as Discord's settings name it."""

from __future__ import annotations

from bot.platforms.discord_lib import discord

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
