"""Bot API failures in the port's terms: refused, worth retrying, or maybe delivered."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import httpx
from telegram.error import ChatMigrated, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.telegram.logs import MASK
from bot.platforms.telegram.request import last_call

# Failures before the request left: nothing can have been posted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")  # a bot token: its bot's id, ':', a secret
_RETRYABLE = frozenset({408, 429})  # besides every 5xx: the server may take it later


def quiet_retry_after_deprecation() -> None:
    """python-telegram-bot 22 warns on every 429 that ``retry_after`` will become a
    timedelta (its opt-in is an environment variable); :func:`retry_after` reads both."""
    warnings.filterwarnings(
        "ignore", message=r".*attribute `retry_after`", category=PTBDeprecationWarning
    )


def retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asks us to wait, whichever type this library version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def translate(exc: TelegramError, *, sending: bool) -> PlatformError:
    """The port's error for ``exc``, naming the Bot API method that failed.

    An answered error posted nothing: a 429 or 5xx is worth retrying, other refusals
    (400, 401, 403, 404, 409) would be refused again. No answer after the request left
    (a timeout, a cut connection, an unreadable 200) may have posted: with ``sending``
    that is uncertain rather than failed, as Telegram has no idempotency key to retry with.
    """
    text = _TOKEN.sub(MASK, exc.message)  # "The token `…` was rejected" included
    call = last_call()
    method = f"{call.method}: " if call is not None else ""
    if isinstance(exc, ChatMigrated):
        return PlatformError(
            f"the group is now a supergroup with id {exc.new_chat_id}: update the config"
        )
    if isinstance(exc, RetryAfter):
        return PlatformError(f"Telegram {method}{text}", retryable=True)
    status = None if call is None else call.status
    if call is not None and status is not None and not 200 <= status < 300:
        detail = text if f"({status})" in text else f"{text} ({status})"
        if status in _RETRYABLE or status >= 500:
            message = f"Telegram answered {call.method} with an error: {detail}"
            return PlatformError(message, retryable=True)
        return PlatformError(f"Telegram refused {method}{detail}")
    if isinstance(exc, NetworkError) and status is None:  # TimedOut included
        if isinstance(exc.__cause__, _NOT_SENT):
            return PlatformError(f"Telegram is unreachable: {method}{text}", retryable=True)
        if sending:
            return DeliveryUncertain(f"no answer from Telegram: {method}{text}")
        return PlatformError(f"no answer from Telegram: {method}{text}", retryable=True)
    if type(exc) is TelegramError and sending:  # an answer that could not be read
        return DeliveryUncertain(f"unreadable answer from Telegram: {method}{text}")
    return PlatformError(f"Telegram refused {method}{text}")
