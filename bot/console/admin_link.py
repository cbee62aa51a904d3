"""``hashchat console-link``: a login link printed for the server admin, who has a shell
but may have no chat account the bot can write to."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Config, database_password
from bot.console.links import issue_link
from bot.domain import UserRef
from bot.store import Store
from bot.store.console import ConsoleStore, Visitor


class LinkRefused(Exception):
    """The arguments or the config cannot give a link; the message says what to fix."""


def check_request(config: Config, community: str, user: str) -> tuple[Visitor, str]:
    """The visitor and the public URL, or ``LinkRefused`` naming what is wrong."""
    if community not in {c.id for c in config.communities}:
        known = ", ".join(c.id for c in config.communities)
        raise LinkRefused(f"{config.source}: no community {community!r} (known: {known})")
    try:
        person = UserRef.parse(user)
    except ValueError as exc:
        raise LinkRefused(f"--as: {exc}") from None
    public_url = config.bot.public_url
    if public_url is None:
        raise LinkRefused(
            f"{config.source}: bot.public_url is not set: the console is served at that address"
        )
    return Visitor(person.key, person.id, community), public_url


async def print_link(config: Config, who: Visitor, public_url: str) -> str:
    store = await Store.open(config.database, password=database_password(config.bot))
    try:
        return await issue_link(ConsoleStore(store.db), public_url, who, datetime.now(UTC))
    finally:
        await store.close()
