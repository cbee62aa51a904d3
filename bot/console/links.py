"""One-time login links and the sessions they open.

A link's token and a session's id are random (256 bits) and stored only as their
sha256, so the database never holds a usable secret. Links are valid ten minutes and
once; how many are issued is limited per person and overall, so the ``login`` command
cannot be used to flood anyone's private messages or the store.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.console import ConsoleStore, Redeemed, SessionRow, Visitor

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
PER_PERSON = 3  # links per person per LINK_LIFETIME
OVERALL = 30  # links per LINK_LIFETIME, everyone together


class TooManyLinks(Exception):
    """More links were asked for than the limits allow; try again in a few minutes."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def login_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/console/login/{token}"


async def issue_link(store: ConsoleStore, public_url: str, who: Visitor, now: datetime) -> str:
    """A fresh login link for ``who``; raises ``TooManyLinks`` past the limits."""
    since = now - LINK_LIFETIME
    if (
        await store.links_since(since, who.user) >= PER_PERSON
        or await store.links_since(since) >= OVERALL
    ):
        raise TooManyLinks
    token = secrets.token_urlsafe(32)
    await store.add_link(digest(token), who, now, now + LINK_LIFETIME)
    return login_url(public_url, token)


async def redeem(store: ConsoleStore, token: str, now: datetime) -> tuple[Redeemed, Visitor | None]:
    return await store.redeem(digest(token), now)


@dataclass(frozen=True, slots=True)
class Opened:
    session_id: str  # the cookie's value; only its hash is stored
    csrf: str


async def open_session(store: ConsoleStore, who: Visitor, now: datetime) -> Opened:
    """A new session with new ids: any id a browser held before login is not reused."""
    opened = Opened(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    await store.open_session(
        digest(opened.session_id), who, opened.csrf, now, now + SESSION_LIFETIME
    )
    return opened


async def find_session(store: ConsoleStore, session_id: str, now: datetime) -> SessionRow | None:
    return await store.session(digest(session_id), now)


async def end_session(store: ConsoleStore, session_id: str) -> None:
    await store.end_session(digest(session_id))
