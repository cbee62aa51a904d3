"""Mastodon.py's blocking calls run on worker threads within the request budget; its
errors become the port's: refusals, retryable failures and uncertain deliveries, each
naming the endpoint that failed.

A post that was answered with an error was not made: 429 and 5xx are retryable, other
4xx refusals are not. A post whose answer never came (a timeout, a cut connection, a
proxy's 502 or 504) may have been made: DeliveryUncertain, and the caller looks for it
among the bot's own statuses before sending it again (mastodon_resend.py)."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

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
from bot.platforms.mastodon.pace import Budget

log = logging.getLogger(__name__)

# The endpoint each failed call asked, noted on its worker thread by a response hook and
# attached to the error it raised, so that messages can name it.
_failed = threading.local()
_ENDPOINTS: weakref.WeakKeyDictionary[BaseException, str] = weakref.WeakKeyDictionary()
# Some servers take only the broad scopes; their 403 says "out_of_scope" or the like.
SCOPE_HINT = (
    "the token lacks a scope for it; some servers accept only the broad 'read write'"
    " scopes: make a token with those"
)


def client(api_base_url: str, token: str, timeout: float) -> Mastodon:
    # "throw": our own budget paces the calls; Mastodon.py's "wait" would sleep on a
    # worker thread where nothing can cancel it.
    mastodon = Mastodon(
        access_token=token,
        api_base_url=api_base_url,
        ratelimit_method="throw",
        request_timeout=timeout,
        version_check_mode="none",
    )
    mastodon.session.hooks["response"].append(_note_failure)
    return mastodon


def _note_failure(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if not response.ok:
        _failed.endpoint = f"{response.request.method} {urlsplit(response.url).path}"


def endpoint(exc: BaseException | None) -> str | None:
    """``GET /api/v1/...``: what the failed call asked (the path only, never a token)."""
    return None if exc is None else _ENDPOINTS.get(exc)


def _run(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    _failed.endpoint = None
    try:
        return method(*args, **kwargs)
    except MastodonError as exc:
        _ENDPOINTS[exc] = _failed.endpoint or f"{getattr(method, '__name__', 'a call')}()"
        raise


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

    def __init__(self, mastodon: Mastodon, budget: Budget) -> None:
        self.mastodon = mastodon
        self.budget = budget
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mastodon-api")

    async def call(self, method: Callable[..., Any], /, *args: Any, background: bool = False,
                   **kwargs: Any) -> Any:  # fmt: skip
        await self.budget.acquire(background=background)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(_run, method, args, kwargs)
        )

    async def read(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """A background read; failures become PlatformError."""
        try:
            return await self.call(method, *args, background=True, **kwargs)
        except MastodonRatelimitError as exc:
            raise PlatformError(_limit(exc), retryable=True) from exc
        except MastodonNetworkError as exc:
            raise PlatformError(_unreachable(exc), retryable=True) from exc
        except MastodonAPIError as exc:
            retryable = isinstance(exc, MastodonServerError)
            raise PlatformError(describe(exc), retryable=retryable) from exc
        except MastodonError as exc:
            raise PlatformError(str(exc)) from exc

    async def post(self, key: str | None, **params: Any) -> Any:
        """``status_post``, once; a missing parent is dropped, not fatal. Raises
        DeliveryUncertain when the post may have been made without an answer saying so
        (``key`` is still sent, for the servers that honour it)."""
        while True:
            try:
                return await self.call(self.mastodon.status_post, idempotency_key=key, **params)
            except MastodonRatelimitError as exc:
                raise PlatformError(_limit(exc), retryable=True) from exc
            except MastodonNotFoundError as exc:
                if params.get("in_reply_to_id") is None:
                    raise PlatformError(describe(exc)) from exc
                log.warning("the status %s to reply to is gone; posting on its own",
                            params["in_reply_to_id"])  # fmt: skip
                params["in_reply_to_id"] = None
            except MastodonNetworkError as exc:
                if not maybe_delivered(exc):
                    raise PlatformError(_unreachable(exc), retryable=True) from exc
                raise DeliveryUncertain(f"no answer from Mastodon after sending: {exc}") from exc
            except (MastodonBadGatewayError, MastodonGatewayTimeoutError) as exc:
                # A proxy's answer: the server behind it may have made the post.
                raise DeliveryUncertain(describe(exc)) from exc
            except MastodonServerError as exc:
                raise PlatformError(describe(exc), retryable=True) from exc
            except MastodonAPIError as exc:
                raise PlatformError(describe(exc)) from exc
            except MastodonError as exc:
                raise PlatformError(str(exc)) from exc

    async def close(self) -> None:
        """Waits for calls still running, then closes the connections."""
        await asyncio.to_thread(self._executor.shutdown, True)
        self.mastodon.session.close()


def describe(exc: MastodonAPIError) -> str:
    """``Mastodon refused GET /api/v1/... (403): <the server's words>``, with a hint
    when the token's scopes are what is wrong."""
    code = status_code(exc)
    detail = exc.args[3] if len(exc.args) > 3 and exc.args[3] else exc.args[-1]
    where = endpoint(exc) or "the request"
    text = f"Mastodon refused {where} ({code}): {detail}"
    if code == 403 and "scope" in str(detail).casefold():
        text += f"; {SCOPE_HINT}"
    return text


def _limit(exc: MastodonError) -> str:
    return f"Mastodon's request limit is reached ({endpoint(exc) or 'a request'}, 429)"


def _unreachable(exc: MastodonError) -> str:
    return f"Mastodon is unreachable ({endpoint(exc) or 'a request'}): {exc}"
