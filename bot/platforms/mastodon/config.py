"""The ``[platforms.mastodon]`` section and the shape of Mastodon channels and moderators."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config import Config
from bot.domain import ChannelRef
from bot.errors import ConfigError, Problem
from bot.platforms import registry

_TAG = re.compile(r"^\w+$")
# user@server, the server a domain name or an address, with a port if it has one
# (``ann@127.0.0.1:8000``, ``ann@localhost:3000``: self-hosted and test servers).
_ACCOUNT = re.compile(r"^[\w.-]+@(?:[\w-]+(\.[\w-]+)+|localhost)(:\d{1,5})?$")


class MastodonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_env: str | None = None
    # The bot account's own server, where its token is valid.
    api_base_url: str
    visibility: Literal["public", "unlisted"] = "public"
    content_warning: str | None = None
    boost_answers: bool = False
    streaming: bool = True
    # Seconds between polls when streaming is off or down; by default derived from the
    # server's request budget and the number of hashtags.
    poll_interval: float | None = Field(default=None, ge=2, le=3600)
    request_timeout: float = Field(default=30, gt=0, le=300)

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("the bot account's server, such as 'https://mastodon.social'")
        return value.rstrip("/")

    @field_validator("content_warning")
    @classmethod
    def _warning(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


def is_direct(channel: ChannelRef) -> bool:
    """``mastodon:@user@server``: direct messages to one account (a moderators' channel)."""
    return channel.id.startswith("@")


def mastodon_channels(config: Config) -> list[ChannelRef]:
    """Every Mastodon channel the config names, or ConfigError pointing at each bad one."""
    channels: list[ChannelRef] = []
    problems: list[Problem] = []
    for place in registry.places(config, "mastodon"):
        ref = place.channel
        ok = ref.thread is None and (
            _TAG.match(ref.id) or (is_direct(ref) and _ACCOUNT.match(ref.id[1:]))
        )
        if not ok:
            message = (
                f"{str(ref)!r}: name a hashtag without '#', such as 'mastodon:hcsmeu', or an"
                " account for direct messages, such as 'mastodon:@ann@example.social'"
            )
            problems.append(Problem(str(config.source), message, field=place.field))
        elif ref not in channels:
            channels.append(ref)
    for field, ident in registry.moderators(config, "mastodon"):
        if not _ACCOUNT.match(ident):
            message = (
                f"'mastodon:{ident}': write a Mastodon moderator as 'mastodon:user@server',"
                " with the server even for accounts on the bot's own"
            )
            problems.append(Problem(str(config.source), message, field=field))
    if problems:
        raise ConfigError(problems)
    return channels


def chat_hashtags(config: Config) -> set[str]:
    """Hashtags the bot's posts may carry; any other is made inert in what it repeats."""
    tags = {c.hashtag.lstrip("#") for c in config.communities}
    return tags | {c.id for c in mastodon_channels(config) if not is_direct(c)}
