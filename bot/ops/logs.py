"""``--log-format json``: one JSON object per line, for log collectors (journald, Loki,
CloudWatch), with the same records and the same secret masking as the text format."""

from __future__ import annotations

import copy
import logging

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


class JsonLines(JsonFormatter):
    """A record's traceback as the masking filters left it.

    The library formats ``exc_info`` afresh, which would bring back a token that a
    filter (bot/platforms/telegram/logs.py) has already replaced in ``exc_text``.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            record = copy.copy(record)
            record.exc_info = None
        return super().format(record)


def json_formatter() -> logging.Formatter:
    return JsonLines(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def use_format(name: str) -> None:
    """Log to stderr in ``name`` ("text" or "json") from now on."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=TEXT)
    formatter = json_formatter() if name == "json" else logging.Formatter(TEXT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
