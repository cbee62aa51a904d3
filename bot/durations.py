"""Durations as moderators write them in config and commands: '90m', '1h30m', '2d'."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?")


def parse_duration(text: str, *, positive: bool = True) -> timedelta:
    """Read '90m', '1h30m', '1h 30m', '2d', '45s': the forms moderators write in config."""
    m = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or m is None:
        raise ValueError(f"cannot read the duration {text!r}: write it like 60m, 1h30m, 90s or 2d")
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    try:
        value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"the duration {text!r} is far too long") from None
    if positive and not value:
        raise ValueError(f"the duration {text!r} must be longer than zero, e.g. 10m")
    return value


def format_duration(td: timedelta) -> str:
    """The compact form parse_duration reads back, e.g. '1h30m'; '0m' for zero."""
    total = round(td.total_seconds())
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    units = zip((days, hours, minutes, seconds), "dhms", strict=True)
    return sign + ("".join(f"{n}{u}" for n, u in units if n) or "0m")
