"""The core's chat commands as Discord slash commands: each interaction becomes the text
``/name args`` for the core's parser, and the core's reply answers the interaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.discord.lib import app_commands, discord
from bot.platforms.discord.text import readable

log = logging.getLogger(__name__)

Where = Callable[[int], Awaitable[ChannelRef | None]]
Deliver = Callable[[IncomingMessage], None]


def command_descriptions() -> dict[str, str]:
    from bot.commands import COMMANDS  # read late: feature modules fill it in as they load

    return {name: spec.description for name, spec in COMMANDS.items()}


class SlashCommands:
    def __init__(self, commands: Callable[[], Mapping[str, str]], where: Where) -> None:
        """``commands``: name -> description, read when a client is set up, so every
        command the core has registered by then is offered."""
        self._commands = commands
        self._where = where
        self._deliver: Deliver | None = None
        self._open: dict[str, discord.Interaction] = {}  # deferred, not yet answered

    def attach(self, client: discord.Client, deliver: Deliver) -> app_commands.CommandTree:
        self._deliver = deliver
        tree: app_commands.CommandTree = app_commands.CommandTree(client)

        @app_commands.describe(text="what follows the command, as you would type it")
        async def run(interaction: discord.Interaction, text: str | None = None) -> None:
            await self._run(interaction, text)

        for name, description in self._commands().items():
            tree.add_command(
                app_commands.Command(name=name, description=description[:100], callback=run)
            )
        return tree

    async def sync(self, tree: app_commands.CommandTree, guild_ids: set[int]) -> None:
        """Offer the commands in the servers of the configured channels (a server's
        commands appear at once; global ones take up to an hour)."""
        for guild_id in sorted(guild_ids):
            guild = discord.Object(guild_id)
            tree.copy_global_to(guild=guild)
            await tree.sync(guild=guild)

    async def _run(self, interaction: discord.Interaction, text: str | None = None) -> None:
        where = await self._where(interaction.channel_id or 0)
        command = interaction.command
        if where is None or command is None or self._deliver is None:
            await interaction.response.send_message("—", ephemeral=True)
            return
        # Deferred at once: Discord wants an answer within 3 seconds, the core may take longer.
        await interaction.response.defer(thinking=True)
        client = interaction.client
        bot_id = client.user.id if client.user else None
        args = readable(text or "", users={}, roles={}, channels={}, bot_id=bot_id, command=True)
        ident = str(interaction.id)
        self._open[ident] = interaction
        self._deliver(
            IncomingMessage(
                ref=MessageRef(where, ident),
                author=UserRef("discord", str(interaction.user.id), interaction.user.display_name),
                text=f"/{command.name} {args}".strip(),
                sent_at=interaction.created_at,
            )
        )

    @property
    def waiting(self) -> bool:
        """Whether any command is deferred, not yet answered (seldom: no lookup per message)."""
        return bool(self._open)

    def pending(self, message_id: str | None) -> bool:
        return message_id is not None and message_id in self._open

    async def answer(self, message_id: str, channel: ChannelRef, text: str) -> MessageRef:
        """The core's reply to a slash command, as the interaction's follow-up."""
        interaction = self._open.pop(message_id)
        sent = await interaction.followup.send(
            text, allowed_mentions=discord.AllowedMentions.none(), wait=True
        )
        return MessageRef(channel, str(sent.id), url=sent.jump_url)

    async def finish(self, message_id: str) -> None:
        """A command the core let pass without a word: take away the 'thinking' note."""
        interaction = self._open.pop(message_id, None)
        if interaction is None:
            return
        try:
            await interaction.delete_original_response()
        except discord.HTTPException as exc:
            log.warning("could not clear the answer to a slash command: %s", exc)
