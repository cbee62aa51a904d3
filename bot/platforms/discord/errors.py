"""Discord's failures in the port's terms: "not posted" (try again) or "maybe posted".

- An answer from Discord, whatever its status (a 4xx refusal, a 429 rate limit, a 5xx
  after discord.py's own retries), is a PlatformError: the request was answered and no
  message came back. A refusal stays refused (not retryable); 429 and 5xx are retryable.
  Even if a 5xx came after the message was made, the nonce (``enforce_nonce``) makes
  Discord answer a retry with that message instead of posting it again.
- No answer after the request went out (a timeout, the connection cut) is
  DeliveryUncertain for a change (posting, deleting, editing): it may have landed.
- A connection that never opened, or a read that failed, is a retryable PlatformError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.discord.lib import discord

T = TypeVar("T")


async def guarded(request: Awaitable[T], *, seconds: float, mutation: bool = True) -> T:
    """Await one request, its failure translated as the module says."""
    try:
        async with asyncio.timeout(seconds):
            return await request
    except discord.HTTPException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise PlatformError(
                f"Discord failed ({exc.status}), nothing posted: {exc.text}", retryable=True
            ) from exc
        raise PlatformError(f"Discord refused ({exc.status}): {exc.text}") from exc
    except discord.RateLimited as exc:
        message = f"Discord asked to wait {exc.retry_after:.0f}s (rate limit), nothing posted"
        raise PlatformError(message, retryable=True) from exc
    except aiohttp.ClientConnectorError as exc:
        raise PlatformError(f"could not reach Discord: {exc}", retryable=True) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        error = DeliveryUncertain if mutation else PlatformError
        raise error(f"no answer from Discord: {exc!r}", retryable=True) from exc
