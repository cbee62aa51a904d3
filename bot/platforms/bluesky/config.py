"""The ``[platforms.bluesky]`` section and the shape of Bluesky channels and moderators.

The secret is an *app password* (Settings > Privacy and security > App passwords),
never the account's own password: it can post and read but not change the account,
and it can be revoked on its own."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config import Config
from bot.domain import ChannelRef
from bot.errors import ConfigError, Problem
from bot.platforms import registry

_TAG = re.compile(r"^\w+$")
# A handle is a domain name (ann.bsky.social); a DID is did:plc:... or did:web:...
HANDLE = re.compile(r"^(?=.{3,253}$)[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+$")
DID = re.compile(r"^did:(plc|web):[a-zA-Z0-9._:%-]+$")


class BlueskyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The environment variable that holds the bot account's app password.
    token_env: str | None = None
    handle: str
    # The bot account's server (its PDS, or bsky.social's entryway).
    service: str = "https://bsky.social"
    # Jetstream: the JSON event stream of every post on the network.
    jetstream: str = "wss://jetstream2.us-east.bsky.network"
    # How far back Jetstream replays from a stored cursor; older gaps are filled by search.
    replay_window: float = Field(default=24 * 3600, gt=0)
    request_timeout: float = Field(default=30, gt=0, le=300)

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not HANDLE.match(value):
            raise ValueError("the bot account's handle, such as 'hashchatbot.bsky.social'")
        return value.casefold()

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(
                "must start with https:// and name a server, such as 'https://bsky.social'"
            )
        return value.rstrip("/")

    @field_validator("jetstream")
    @classmethod
    def _jetstream(cls, value: str) -> str:
        if not re.match(r"^wss?://[^\s/]+", value):
            raise ValueError(
                "must start with wss:// and name a server, such as"
                " 'wss://jetstream2.us-east.bsky.network'"
            )
        return value.rstrip("/")


def bluesky_channels(config: Config) -> list[ChannelRef]:
    """Every Bluesky channel the config names (a hashtag), or ConfigError at each bad one."""
    channels: list[ChannelRef] = []
    problems: list[Problem] = []
    for place in registry.places(config, "bluesky"):
        ref = place.channel
        if ref.thread is not None or not _TAG.match(ref.id):
            message = f"{str(ref)!r}: name a hashtag without '#', such as 'bluesky:hcsmeu'"
            problems.append(Problem(str(config.source), message, field=place.field))
        elif ref not in channels:
            channels.append(ref)
    for field, ident in bluesky_moderators(config):
        if not (HANDLE.match(ident) or DID.match(ident)):
            message = (
                f"'bluesky:{ident}': write a Bluesky moderator as a handle, such as"
                " 'bluesky:ann.bsky.social', or a DID, such as 'bluesky:did:plc:abc123'"
            )
            problems.append(Problem(str(config.source), message, field=field))
    if problems:
        raise ConfigError(problems)
    return channels


def bluesky_moderators(config: Config) -> list[tuple[str, str]]:
    return [(f, i.lstrip("@")) for f, i in registry.moderators(config, "bluesky")]


def chat_hashtags(config: Config) -> set[str]:
    """Hashtags the bot's posts make into tag facets; any other stays plain text."""
    tags = {c.hashtag.lstrip("#").casefold() for c in config.communities}
    return tags | {c.id.casefold() for c in bluesky_channels(config)}
