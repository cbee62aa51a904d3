"""Discord's failures in the port's terms, so the core can tell a refusal from a
request that may have landed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.discord_lib import discord

T = TypeVar("T")


async def guarded(request: Awaitable[T], *, seconds: float, mutation: bool = True) -> T:
    """Await one request: a refusal (4xx) is a PlatformError; a server error or a timeout,
    after which a change may have been made, is DeliveryUncertain (a post with a nonce is
    then safe to retry); a read that fails is only a retryable PlatformError."""
    try:
        async with asyncio.timeout(seconds):
            return await request
    except discord.HTTPException as exc:
        if exc.status >= 500:
            error = DeliveryUncertain if mutation else PlatformError
            raise error(f"Discord failed ({exc.status}): {exc.text}", retryable=True) from exc
        raise PlatformError(
            f"Discord refused ({exc.status}): {exc.text}", retryable=exc.status == 429
        ) from exc
    except aiohttp.ClientConnectorError as exc:
        raise PlatformError(f"could not reach Discord: {exc}", retryable=True) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        error = DeliveryUncertain if mutation else PlatformError
        raise error(f"no answer from Discord: {exc!r}", retryable=True) from exc
