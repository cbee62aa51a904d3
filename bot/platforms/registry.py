"""Builds the configured platforms; each adapter is imported only when a config uses it,
so its library is needed only by those who run on that platform."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.clock import Clock
from bot.config import CommunityConfig, Config, PlatformSettings, validation_problems
from bot.domain import ChannelRef, UserRef
from bot.errors import ConfigError, Problem
from bot.platforms.base import Platform
from bot.platforms.local.platform import LocalPlatform, View

ADAPTERS = ("telegram", "discord", "mastodon", "bluesky")
KNOWN = ("local", *ADAPTERS)

Options = TypeVar("Options", bound=BaseModel)


class Factory(Protocol):
    """``bot.platforms.<name>.from_config``: the adapter for ``config``, or ConfigError."""

    def __call__(
        self, config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
    ) -> Platform: ...


@dataclass(frozen=True, slots=True)
class Place:
    """One channel the config names, with where it is named, for adapters' own checks."""

    field: str  # "communities[0].channels[1]"
    channel: ChannelRef
    community: CommunityConfig
    chat: bool  # a chat runs there (``channels``), not only the moderators' channel


def places(config: Config, platform: str | None = None) -> Iterator[Place]:
    for i, community in enumerate(config.communities):
        for key in ("channels", "moderator_channels"):
            for j, text in enumerate(getattr(community, key)):
                ref = ChannelRef.parse(text)
                if platform is None or ref.platform == platform:
                    yield Place(f"communities[{i}].{key}[{j}]", ref, community, key == "channels")


def moderators(config: Config, platform: str) -> Iterator[tuple[str, str]]:
    """(field, user id) of each configured moderator on ``platform``."""
    for i, community in enumerate(config.communities):
        for j, user in enumerate(community.moderators):
            name, _, ident = user.partition(":")
            if name.strip().lower() == platform:
                yield f"communities[{i}].moderators[{j}]", ident.strip()


def used_platforms(config: Config) -> dict[str, str]:
    """Each platform the config uses, with the field path of its first channel."""
    used: dict[str, str] = {}
    for place in places(config):
        used.setdefault(place.channel.platform, place.field)
    return used


def options(config: Config, name: str, model: type[Options]) -> Options:
    """The adapter's own keys of ``[platforms.<name>]``, validated by its model, with
    every problem located at its field."""
    settings = config.platforms.get(name, PlatformSettings())
    try:
        return model.model_validate(settings.model_dump())
    except ValidationError as exc:
        raise ConfigError(
            validation_problems(exc, str(config.source), ("platforms", name))
        ) from None


def secret(config: Config, name: str, env: Mapping[str, str]) -> str:
    """The token from the environment variable the config names; never from the file."""
    field = f"platforms.{name}.token_env"
    var = config.platforms.get(name, PlatformSettings()).token_env
    if var is None:
        raise ConfigError(
            [
                Problem(
                    str(config.source),
                    "name the environment variable that holds the token",
                    field=field,
                )
            ]
        )
    value = env.get(var, "").strip()
    if not value:
        raise ConfigError(
            [Problem(str(config.source), f"the environment variable {var} is not set", field=field)]
        )
    return value


class LocalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_env: str | None = None  # unused: the local platform has no token
    # A ``hashchat local-server`` to talk to; without it the platform lives in-process.
    server: str | None = None

    @field_validator("server")
    @classmethod
    def _server(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(
                "must start with http:// and name the local server, such as 'http://127.0.0.1:8765'"
            )
        return value


def _local(config: Config, clock: Clock, view: View | None) -> Platform:
    """In-process by default; over HTTP when ``[platforms.local] server`` is set."""
    admins = [
        UserRef.parse(m) for c in config.communities for m in c.moderators if m.startswith("local:")
    ]
    server = options(config, "local", LocalOptions).server
    if server is None:
        return LocalPlatform(clock, admins=admins, view=view)
    from bot.platforms.local.remote import RemoteLocalPlatform

    return RemoteLocalPlatform(server, clock, admins=admins)


def build_platforms(
    config: Config,
    clock: Clock,
    *,
    view: View | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Platform]:
    env = os.environ if env is None else env
    platforms: dict[str, Platform] = {}
    problems: list[Problem] = []
    for name, field in sorted(used_platforms(config).items()):
        if name == "local":
            try:
                platforms[name] = _local(config, clock, view)
            except ConfigError as exc:
                problems.extend(exc.problems)
            continue
        if name not in ADAPTERS:
            message = f"unknown platform {name!r}; use one of {', '.join(KNOWN)}"
            problems.append(Problem(str(config.source), message, field=field))
            continue
        try:
            module = importlib.import_module(f"bot.platforms.{name}.platform")
        except ImportError as exc:
            message = (
                f"the {name} adapter needs its library ({exc.name}): pip install 'hashchat[{name}]'"
            )
            problems.append(Problem(str(config.source), message, field=field))
            continue
        factory: Factory = module.from_config
        try:
            platforms[name] = factory(
                config, config.platforms.get(name, PlatformSettings()), clock, env
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return platforms
