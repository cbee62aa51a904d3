"""Signing in at start, with the problems a moderator must fix named plainly: a handle
Bluesky does not know, an app password it refuses, a service it cannot reach. The
SDK refreshes the session's tokens by itself from then on."""

from __future__ import annotations

from atproto_client import AsyncClient

from bot.platforms.base import PlatformError
from bot.platforms.bluesky import api
from bot.platforms.bluesky.config import BlueskyOptions


async def sign_in(client: AsyncClient, options: BlueskyOptions, password: str) -> tuple[str, str]:
    """(DID, handle) of the bot's account, signed in with its app password."""
    try:
        await api.read(lambda: client.resolve_handle(options.handle), "resolving the handle")
    except PlatformError as exc:
        if api.status_code(exc.__cause__) is None:
            raise PlatformError(f"could not reach Bluesky at {options.service}: {exc}") from exc
        if api.status_code(exc.__cause__) == 400:
            raise PlatformError(
                f"Bluesky ({options.service}) does not know the handle @{options.handle}"
                " (platforms.bluesky.handle): write the bot account's handle, such as"
                " 'hashchatbot.bsky.social'"
            ) from exc
        raise PlatformError(f"could not sign in to Bluesky: {exc}") from exc
    try:
        await api.read(lambda: client.login(options.handle, password), "signing in")
    except PlatformError as exc:
        if api.status_code(exc.__cause__) in (400, 401):
            raise PlatformError(
                f"Bluesky refused the app password in {options.token_env} for"
                f" @{options.handle}: make an app password (Settings > Privacy and security >"
                " App passwords) and put it in that variable; never the account's own password"
            ) from exc
        raise PlatformError(f"could not sign in to Bluesky: {exc}") from exc
    session = client._session
    if session is None:  # pragma: no cover - login sets it or raises
        raise PlatformError("could not sign in to Bluesky: no session")
    return session.did, session.handle.casefold()
