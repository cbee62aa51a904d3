"""The types of the config's values, each with a validator whose message says what the
user wrote wrong and how to write it: ids, zones, durations with upper bounds, paths,
hosts and dates. Bounds matter: whatever ``check`` accepts, ``run`` must compute with."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator

from bot.domain import ChannelRef, UserRef
from bot.durations import format_duration, parse_duration

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")


def _identifier(text: str) -> str:
    if not _ID.match(text):
        raise ValueError("use lower-case letters, digits, '-' or '_' (it appears in page URLs)")
    return text


def _zone(text: str) -> str:
    try:
        if len(text) > 64:  # the longest IANA name has 32; a longer one is no file name either
            raise ValueError(text)
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = text if len(text) <= 64 else f"{text[:40]}... ({len(text)} characters)"
        raise ValueError(
            f"unknown time zone {shown!r}; use an IANA name such as 'Europe/Paris'"
        ) from None
    return text


def _env_name(text: str) -> str:
    if not _ENV_NAME.match(text):
        raise ValueError(
            "give the NAME of an environment variable holding the secret, in capitals "
            "(e.g. 'TELEGRAM_BOT_TOKEN'), never the secret itself"
        )
    return text


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("write a duration as text, such as '60m' or '1h30m'")
    return parse_duration(value)


def _at_most(limit: timedelta, what: str) -> Callable[[timedelta], timedelta]:
    """A bound for a duration, so that every date computed from it stays a date: a check
    that accepts ``retention = "999999999d"`` would let ``run`` overflow later."""

    def check(value: timedelta) -> timedelta:
        if value > limit:
            raise ValueError(
                f"{format_duration(value)} is too long for {what}: at most {format_duration(limit)}"
            )
        return value

    return check


def _reminder_list(value: Any) -> list[timedelta]:
    if not isinstance(value, list):
        raise ValueError("write reminders as a list such as ['24h', '1h', '10m']")
    reminders = {_duration(v) for v in value}
    for reminder in reminders:
        _at_most(timedelta(days=366), "a reminder")(reminder)
    return sorted(reminders, reverse=True)


# Each duration has its own bound, far beyond any real use and far below datetime's limits.
ChatLength = Annotated[
    timedelta, BeforeValidator(_duration), AfterValidator(_at_most(timedelta(days=7), "a chat"))
]
Grace = Annotated[
    timedelta, BeforeValidator(_duration), AfterValidator(_at_most(timedelta(days=7), "grace"))
]
Period = Annotated[  # flood windows, slow mode
    timedelta, BeforeValidator(_duration), AfterValidator(_at_most(timedelta(days=1), "this"))
]
Retention = Annotated[
    timedelta,
    BeforeValidator(_duration),
    AfterValidator(_at_most(timedelta(days=36500), "retention")),
]
Reminders = Annotated[list[timedelta], BeforeValidator(_reminder_list)]


def _user_key(text: str) -> str:
    UserRef.parse(text)
    return text


def _channel_key(text: str) -> str:
    ChannelRef.parse(text)
    return text


def _path(value: Any) -> Path:
    """A path the operating system can open: a NUL or an over-long name would otherwise
    surface as a traceback when the file is first read."""
    if not isinstance(value, str | Path):
        raise ValueError("write a path as text, such as 'agendas/monthly.toml'")
    text = str(value)
    if not text.strip():
        raise ValueError("give a file name, not an empty text")
    if "\0" in text:
        raise ValueError("a path cannot contain a NUL character")
    if len(text) > 4000 or any(len(part.encode()) > 255 for part in Path(text).parts):
        raise ValueError("this path is too long for the file system")
    return Path(text)


def _host(text: str) -> str:
    """An IP address or a host name: '999.1.1.1' would only fail when ``run`` binds it."""
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    if (
        len(text) > 253
        or re.fullmatch(r"[\d.]+", text)
        or not all(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", p) for p in labels)
    ):
        raise ValueError(
            f"{text!r} is neither an IP address nor a host name: use e.g. '127.0.0.1', '::1',"
            " '0.0.0.0' or 'localhost'"
        )
    return text


def _plausible(value: date) -> date:
    """Dates far from now would overflow once moved into UTC or a day later (year 1, 9999)."""
    if not 1970 <= value.year <= 9000:
        raise ValueError(f"{value.isoformat()} is not a plausible date for a chat")
    return value


def _web_link(text: str) -> str:
    """A link the site shows to everyone: a plain http(s) address, nothing a browser runs."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"[\x00-\x20]", text):
        raise ValueError(f"{text!r} is not a web address: use e.g. 'https://discord.gg/abc'")
    return text


FilePath = Annotated[Path, BeforeValidator(_path)]
Day = Annotated[date, AfterValidator(_plausible)]
Moment = Annotated[datetime, AfterValidator(_plausible)]
Host = Annotated[str, AfterValidator(_host)]
Identifier = Annotated[str, AfterValidator(_identifier)]
UserKey = Annotated[str, AfterValidator(_user_key)]  # "platform:user-id"
ChannelKey = Annotated[str, AfterValidator(_channel_key)]  # "platform:id[/thread]"
Zone = Annotated[str, AfterValidator(_zone)]
EnvName = Annotated[str, AfterValidator(_env_name)]
WebLink = Annotated[str, AfterValidator(_web_link)]
