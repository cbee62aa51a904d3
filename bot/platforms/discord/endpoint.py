"""Where discord.py reaches Discord: its own servers, or the ``api_url`` of the config
(a proxy, or a stand-in Discord that the end-to-end tests run as its own process).

discord.py keeps both addresses as class settings (``Route.BASE``, which its own
``_set_api_version`` rewrites, and ``DiscordWebSocket.DEFAULT_GATEWAY``), not per client,
so they are set here for the process and put back when the adapter closes. A process runs
one Discord adapter, so no two clients disagree about them.
"""

from __future__ import annotations

import logging

import yarl

from bot.platforms.discord.lib import discord

log = logging.getLogger(__name__)


class Endpoint:
    """Points discord.py at ``api_url`` (None: Discord itself) for one adapter's life."""

    def __init__(self, api_url: str | None) -> None:
        self.api_url = api_url
        self._saved: tuple[str, yarl.URL] | None = None

    def point(self) -> None:
        """Before logging in: every REST request goes to ``api_url``."""
        if self.api_url is None:
            return
        if self._saved is None:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.api_url

    async def find_gateway(self, http: discord.http.HTTPClient) -> None:
        """After logging in: the gateway is the one that API names (``GET /gateway/bot``),
        as Discord documents; discord.py itself would go to Discord's."""
        if self.api_url is None:
            return
        _shards, url, _limits = await http.get_bot_gateway()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("Discord API at %s, gateway at %s", self.api_url, url)

    def restore(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
