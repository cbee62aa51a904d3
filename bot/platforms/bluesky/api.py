"""The ``atproto`` SDK's errors as the port's: what was answered (an error status:
nothing was posted) against what was not (a timeout or a cut connection after the
request left: the post may exist), and rate limits honoured from their headers.

An answered 429 waits for ``ratelimit-reset`` when that is near, then tries once more;
further off, it is a retryable ``PlatformError`` for the core's own retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from atproto_client import AsyncClient
from atproto_client.exceptions import (
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
)
from atproto_client.request import AsyncRequest
from atproto_core.exceptions import AtProtocolError

from bot.platforms.base import DeliveryUncertain, PlatformError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
RATE_LIMIT_WAIT = 60.0  # seconds: a nearer reset is waited for, a farther one reported
# A proxy's answer: the service behind it may have done what was asked.
_UNCERTAIN_STATUSES = frozenset({502, 504})


def client(service: str, timeout: float) -> AsyncClient:
    return AsyncClient(service, request=AsyncRequest(timeout=timeout))


def status_code(exc: BaseException | None) -> int | None:
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        return int(exc.response.status_code)
    return None


def never_sent(exc: BaseException) -> bool:
    """The connection was never made, so the service saw nothing."""
    cause = exc.__cause__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)


def describe(exc: AtProtocolError, what: str) -> str:
    code = status_code(exc)
    if code is None:
        reason = exc.__cause__ or exc
        return f"Bluesky is unreachable ({what}): {type(reason).__name__} {reason}".rstrip()
    return f"Bluesky refused {what} ({exc})"


def wait_for_reset(exc: RateLimitExceededError, now: datetime) -> float | None:
    """Seconds until the limit resets, when the headers say and it is near enough."""
    reset = exc.reset_at
    if reset is None:
        after = exc.retry_after
        return after if after is not None and after <= RATE_LIMIT_WAIT else None
    seconds = (reset - now).total_seconds()
    return max(0.0, seconds) if seconds <= RATE_LIMIT_WAIT else None


async def read(call: Callable[[], Awaitable[T]], what: str) -> T:
    """A read: every failure a PlatformError (retryable unless answered 4xx)."""
    try:
        return await call()
    except AtProtocolError as exc:
        code = status_code(exc)
        retryable = code is None or code == 429 or code >= 500
        raise PlatformError(describe(exc, what), retryable=retryable) from exc
    except httpx.HTTPError as exc:  # what the SDK lets through: a broken answer
        raise PlatformError(f"Bluesky is unreachable ({what}): {exc!r}", retryable=True) from exc


async def write(call: Callable[[], Awaitable[T]], what: str, sleep: Sleep = asyncio.sleep) -> T:
    """A write, once (and once more after a near rate-limit reset). Raises
    DeliveryUncertain when it may have been done without an answer saying so."""
    for attempt in (1, 2):
        try:
            return await call()
        except RateLimitExceededError as exc:
            wait = wait_for_reset(exc, datetime.now(UTC))
            if attempt == 1 and wait is not None:
                log.info("bluesky: rate limited at %s; trying again in %.0f s", what, wait)
                await sleep(wait)
                continue
            raise PlatformError(describe(exc, what), retryable=True) from exc
        except NetworkError as exc:
            code = status_code(exc)
            if code is None and never_sent(exc):
                raise PlatformError(describe(exc, what), retryable=True) from exc
            if code is None or code in _UNCERTAIN_STATUSES:
                raise DeliveryUncertain(
                    f"no answer from Bluesky after {what}: {describe(exc, what)}"
                ) from exc
            raise PlatformError(describe(exc, what), retryable=True) from exc
        except AtProtocolError as exc:
            code = status_code(exc)
            if code in _UNCERTAIN_STATUSES:
                raise DeliveryUncertain(describe(exc, what)) from exc
            retryable = code is None or code >= 500
            raise PlatformError(describe(exc, what), retryable=retryable) from exc
        except httpx.HTTPError as exc:  # the connection broke after the request left
            raise DeliveryUncertain(f"no answer from Bluesky after {what}: {exc!r}") from exc
    raise AssertionError("unreachable")
