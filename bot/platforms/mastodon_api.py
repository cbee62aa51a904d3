"""Mastodon.py's blocking calls run on worker threads within the request budget; its
errors become the port's: refusals, retryable failures and uncertain deliveries."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonBadGatewayError,
    MastodonError,
    MastodonGatewayTimeoutError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)
from urllib3.exceptions import NewConnectionError

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.mastodon_pace import Budget, Sleep

log = logging.getLogger(__name__)

POST_ATTEMPTS = 3  # with an Idempotency-Key, a post whose answer was lost is sent again


def client(api_base_url: str, token: str, timeout: float) -> Mastodon:
    # "throw": our own budget paces the calls; Mastodon.py's "wait" would sleep on a
    # worker thread where nothing can cancel it.
    return Mastodon(
        access_token=token,
        api_base_url=api_base_url,
        ratelimit_method="throw",
        request_timeout=timeout,
        version_check_mode="none",
    )


def streaming_client(api_base_url: str, token: str, timeout: float) -> Mastodon:
    """A client for streams: Mastodon.py leaves a refused stream's connection open, so a
    refusal is closed as soon as it arrives."""
    mastodon = client(api_base_url, token, timeout)
    mastodon.session.hooks["response"].append(_close_refused)
    return mastodon


def _close_refused(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if not response.ok:
        response.close()


def status_code(exc: BaseException | None) -> int | None:
    """The HTTP status of a Mastodon.py API error (its second argument)."""
    if isinstance(exc, MastodonAPIError) and len(exc.args) > 1 and isinstance(exc.args[1], int):
        return exc.args[1]
    return None


def maybe_delivered(exc: MastodonNetworkError) -> bool:
    """False only when the connection was never made, so the server saw nothing."""
    cause = exc.__context__
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(cause, requests.exceptions.ConnectionError) and cause.args:
        reason = getattr(cause.args[0], "reason", cause.args[0])
        return not isinstance(reason, NewConnectionError)
    return True


class Api:
    """One account's calls, a few at a time on threads of their own."""

    def __init__(self, mastodon: Mastodon, budget: Budget, backoff: Sleep) -> None:
        self.mastodon = mastodon
        self.budget = budget
        self._backoff = backoff
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mastodon-api")

    async def call(self, method: Callable[..., Any], /, *args: Any, background: bool = False,
                   **kwargs: Any) -> Any:  # fmt: skip
        await self.budget.acquire(background=background)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(method, *args, **kwargs)
        )

    async def read(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """A background read; failures become PlatformError."""
        try:
            return await self.call(method, *args, background=True, **kwargs)
        except MastodonRatelimitError as exc:
            raise PlatformError("Mastodon's request limit is reached", retryable=True) from exc
        except MastodonNetworkError as exc:
            raise PlatformError(f"Mastodon is unreachable: {exc}", retryable=True) from exc
        except MastodonAPIError as exc:
            retryable = isinstance(exc, MastodonServerError)
            raise PlatformError(_describe(exc), retryable=retryable) from exc
        except MastodonError as exc:
            raise PlatformError(str(exc)) from exc

    async def post(self, key: str | None, **params: Any) -> Any:
        """``status_post``; with ``key`` a lost answer is safely retried, since the server
        posts once per Idempotency-Key. A missing parent is dropped, not fatal."""
        for attempt in range(1, POST_ATTEMPTS + 1):
            last = attempt == POST_ATTEMPTS or key is None
            try:
                return await self.call(self.mastodon.status_post, idempotency_key=key, **params)
            except MastodonRatelimitError as exc:
                raise PlatformError("Mastodon's request limit is reached", retryable=True) from exc
            except MastodonNotFoundError as exc:
                if params.get("in_reply_to_id") is None:
                    raise PlatformError(_describe(exc)) from exc
                log.warning("the status %s to reply to is gone; posting on its own",
                            params["in_reply_to_id"])  # fmt: skip
                params["in_reply_to_id"] = None
                continue
            except (
                MastodonNetworkError,
                MastodonBadGatewayError,
                MastodonGatewayTimeoutError,
            ) as e:
                reached = not isinstance(e, MastodonNetworkError) or maybe_delivered(e)
                if reached and key is None:
                    raise DeliveryUncertain(f"no answer from Mastodon after sending: {e}") from e
                if last:
                    raise PlatformError(f"Mastodon did not answer: {e}", retryable=True) from e
                log.warning("no answer from Mastodon (%s); sending again with the same key", e)
            except MastodonServerError as exc:
                raise PlatformError(_describe(exc), retryable=True) from exc
            except MastodonAPIError as exc:
                raise PlatformError(_describe(exc)) from exc
            except MastodonError as exc:
                raise PlatformError(str(exc)) from exc
            await self._backoff(2.0**attempt)
        raise PlatformError("Mastodon refused the post", retryable=True)

    async def close(self) -> None:
        """Waits for calls still running, then closes the connections."""
        await asyncio.to_thread(self._executor.shutdown, True)
        self.mastodon.session.close()


def _describe(exc: MastodonAPIError) -> str:
    code = status_code(exc)
    detail = exc.args[3] if len(exc.args) > 3 and exc.args[3] else exc.args[-1]
    return f"Mastodon refused the request ({code}): {detail}"
