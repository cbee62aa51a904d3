"""Keeps the bot token out of the logs: it is part of every Bot API URL, and httpx and
python-telegram-bot log those URLs. Also keeps out httpx's line for every poll for
updates, which with ``-v`` made the log grow by a line a second or more, saying nothing."""

from __future__ import annotations

import logging

# Loggers that see request URLs. A logger's filters apply only to its own records, so
# each is named, not just the "telegram" and "httpcore" parents.
LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "telegram",
    "telegram.Bot",
    "telegram.BaseRequest",
    "telegram.HTTPXRequest",
    "telegram.ext",
    "bot.platforms.telegram",
)
MASK = "<telegram-token>"


class TokenFilter(logging.Filter):
    """Replaces the token in a record's message and traceback; drops nothing."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, MASK)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, MASK)
        return True


class QuietPolls(logging.Filter):
    """Drops httpx's INFO line for each answered getUpdates; failures are logged by the
    adapter itself, at WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or "/getUpdates " not in record.getMessage()


_QUIET = QuietPolls()


def install(token: str) -> TokenFilter:
    """Mask ``token`` in every logger that may see it, until :func:`uninstall`."""
    token_filter = TokenFilter(token)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(token_filter)
    logging.getLogger("httpx").addFilter(_QUIET)
    return token_filter


def uninstall(token_filter: TokenFilter) -> None:
    for name in LOGGERS:
        logging.getLogger(name).removeFilter(token_filter)
    logging.getLogger("httpx").removeFilter(_QUIET)
