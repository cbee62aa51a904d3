"""Bot API failures in the port's terms: refused, worth retrying, or maybe delivered."""

from __future__ import annotations

import warnings
from datetime import timedelta

import httpx
from telegram.error import ChatMigrated, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.platforms.base import DeliveryUncertain, PlatformError

# Failures before the request left: nothing can have been posted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    """The port's error for ``exc``; ``sending``: a post that may have gone through is
    uncertain rather than failed, since Telegram has no idempotency key to retry with."""
    if isinstance(exc, ChatMigrated):
        return PlatformError(
            f"the group is now a supergroup with id {exc.new_chat_id}: update the config"
        )
    if isinstance(exc, NetworkError):  # TimedOut included
        if isinstance(exc.__cause__, _NOT_SENT):
            return PlatformError(f"Telegram is unreachable: {exc.message}", retryable=True)
        if sending:
            return DeliveryUncertain(f"no answer from Telegram: {exc.message}")
        return PlatformError(f"no answer from Telegram: {exc.message}", retryable=True)
    if isinstance(exc, RetryAfter):
        return PlatformError(exc.message, retryable=True)
    if type(exc) is TelegramError and sending:  # an answer that could not be read
        return DeliveryUncertain(f"unreadable answer from Telegram: {exc.message}")
    # Refusals (400, 401, 403, 404, 409): trying again would be refused again.
    return PlatformError(f"Telegram refused: {exc.message}")
