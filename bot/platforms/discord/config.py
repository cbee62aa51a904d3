"""The ``[platforms.discord]`` section and the Discord channels of the communities,
checked before anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

from bot.config import Config
from bot.errors import ConfigError, Problem
from bot.platforms import registry

API_VERSION = 10  # the version discord.py speaks
DISCORD_API = f"https://discord.com/api/v{API_VERSION}"


def _snowflake(value: object) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"expected a Discord id (digits only, from Copy ID), got {value!r}")
    return text


Snowflake = Annotated[str, BeforeValidator(_snowflake)]


class DiscordOptions(BaseModel):
    """The keys of ``[platforms.discord]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    token_env: str | None = None
    # Channels where each question opens its own thread for the answers.
    thread_per_question: list[Snowflake] = []
    # Roles whose members moderate, besides those with Manage Messages in the channel.
    moderator_roles: list[Snowflake] = []
    slash_commands: bool = True
    # Another address for Discord's REST API (a proxy, or a stand-in for tests); the
    # gateway is then the one its ``GET /gateway/bot`` names. None: Discord itself.
    api_url: str | None = None

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError(f"must be an http(s) address such as {DISCORD_API}, got {value!r}")
        if not url.path.rstrip("/").endswith(f"/v{API_VERSION}"):
            raise ValueError(f"must end with the API version, /v{API_VERSION} ({DISCORD_API})")
        return value.strip().rstrip("/")


@dataclass(frozen=True, slots=True)
class Setup:
    token: str
    options: DiscordOptions
    channels: frozenset[int]  # every Discord channel a community uses


def read_config(config: Config, env: Mapping[str, str]) -> Setup:
    """The adapter's settings, or a ConfigError naming each wrong field."""
    options = registry.options(config, "discord", DiscordOptions)
    channels: set[int] = set()
    problems: list[Problem] = []
    token = ""
    try:
        token = registry.secret(config, "discord", env)
    except ConfigError as exc:
        problems.extend(exc.problems)  # reported together with the rest
    for place in registry.places(config, "discord"):
        ref = place.channel
        if not ref.id.isdigit() or (ref.thread is not None and not ref.thread.isdigit()):
            message = "a Discord channel is 'discord:' and its id (digits, from Copy ID)"
            problems.append(Problem(str(config.source), message, field=place.field))
            continue
        channels.add(int(ref.id))
    for k, ident in enumerate(options.thread_per_question):
        if int(ident) not in channels:
            message = f"channel {ident} is not one of the communities' Discord channels"
            field = f"platforms.discord.thread_per_question[{k}]"
            problems.append(Problem(str(config.source), message, field=field))
    if problems:
        raise ConfigError(problems)
    return Setup(token, options, frozenset(channels))
