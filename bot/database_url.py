"""A PostgreSQL database named by URL in the config's ``database`` (checked when loaded)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A PostgreSQL database named by URL; the password never appears in it."""

    url: str

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        """Raise ``ValueError`` with what to write instead for a URL hashchat cannot use."""
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a port that is no number
        except ValueError as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("a database URL starts with postgresql://")
        if parts.password is not None:
            raise ValueError(
                "put no password in the URL: name an environment variable that holds it"
                " with database_password_env"
            )
        if not parts.hostname:
            raise ValueError("name the server: postgresql://user@host:5432/database")
        if not parts.path.strip("/"):
            raise ValueError("name the database: postgresql://user@host:5432/database")
        return cls(text)

    @property
    def database(self) -> str:
        return unquote(urlsplit(self.url).path.strip("/"))

    def __str__(self) -> str:
        return self.url


def password_from_env(name: str | None) -> str | None:
    """The PostgreSQL password from the variable ``database_password_env`` names.

    Raises ``LookupError`` naming the variable (never its value) when it is not set."""
    if name is None:
        return None
    value = os.environ.get(name)
    if value is None:
        raise LookupError(
            f"the environment variable {name} (bot.database_password_env) is not set:"
            " it must hold the database password"
        )
    return value
