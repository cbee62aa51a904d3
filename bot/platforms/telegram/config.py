"""The ``[platforms.telegram]`` section, and the Telegram ids in the communities, checked
before anything connects so a mistake is reported with its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from bot.config import Config, EnvName
from bot.domain import ChannelRef
from bot.errors import ConfigError, Problem
from bot.platforms import registry

NAME = "telegram"
_CHAT = re.compile(r"^-?\d{1,20}$")
_TOPIC = re.compile(r"^\d{1,12}$")
_USER = re.compile(r"^\d{1,20}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
# The end of a method URL pasted as the root: ".../bot" or ".../bot123456:AA...".
_BOT_PATH = re.compile(r"/bot(\d+:[^/]*)?(/[A-Za-z]*)?$", re.IGNORECASE)


class TelegramOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_env: EnvName | None = None
    # The Bot API root: Telegram's, or a self-hosted Bot API server.
    api_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # the public HTTPS address Telegram posts updates to
    secret_token_env: EnvName | None = None  # Telegram sends it back with every update

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with https:// (or http:// for a local server)")
        root = value.rstrip("/")
        if _BOT_PATH.search(root):  # the message never repeats it: it may hold the token
            raise ValueError(
                "give the server's root without /bot or the token, such as"
                " https://api.telegram.org or http://127.0.0.1:8081; hashchat adds"
                " /bot<token> itself, and reads the token from the variable token_env names"
            )
        return root

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/]+", value):
            raise ValueError("Telegram only posts to https:// addresses")
        return value


@dataclass(frozen=True, slots=True)
class TelegramSetup:
    token: str
    options: TelegramOptions
    secret: str | None  # the webhook's secret token
    channels: tuple[ChannelRef, ...]  # where chats run: the bot must read there
    places: tuple[ChannelRef, ...]  # every Telegram chat in the config, moderators' too
    locales: tuple[str, ...]  # the communities' languages, for the command menu

    @property
    def webhook_path(self) -> str | None:
        if self.options.mode != "webhook" or self.options.webhook_url is None:
            return None
        return urlsplit(self.options.webhook_url).path or "/"


def read_setup(config: Config, env: Mapping[str, str]) -> TelegramSetup:
    """Everything the adapter needs from the config; every problem at once."""
    problems: list[Problem] = []
    source = str(config.source)
    options = registry.options(config, NAME, TelegramOptions)
    token = ""
    try:
        token = registry.secret(config, NAME, env)
    except ConfigError as exc:
        problems.extend(exc.problems)
    secret = _secret(options, env, source, problems)
    channels: list[ChannelRef] = []
    places: list[ChannelRef] = []
    locales: list[str] = []
    for place in registry.places(config, NAME):
        ref = place.channel
        if not _CHAT.match(ref.id) or (ref.thread and not _TOPIC.match(ref.thread)):
            message = (
                "a Telegram chat is named by its number, such as"
                " telegram:-1001234567890, or telegram:-1001234567890/42 for a topic"
            )
            problems.append(Problem(source, message, field=place.field))
            continue
        places.append(ref)
        if place.chat:
            channels.append(ref)
            community = place.community
            locales.extend(filter(None, (community.locale, community.second_locale)))
    for field, ident in registry.moderators(config, NAME):
        if not _USER.match(ident):
            message = (
                "a Telegram user is named by their numeric id, such as telegram:123456789"
                " (@userinfobot tells people theirs)"
            )
            problems.append(Problem(source, message, field=field))
    if problems:
        raise ConfigError(problems)
    return TelegramSetup(
        token=token,
        options=options,
        secret=secret,
        channels=tuple(dict.fromkeys(channels)),
        places=tuple(dict.fromkeys(places)),
        locales=tuple(dict.fromkeys(locales)),
    )


def _secret(
    options: TelegramOptions, env: Mapping[str, str], source: str, problems: list[Problem]
) -> str | None:
    if options.mode != "webhook":
        return None
    field = f"platforms.{NAME}"
    if options.webhook_url is None:
        message = "webhook mode needs the public https:// address Telegram should post to"
        problems.append(Problem(source, message, field=f"{field}.webhook_url"))
    if options.secret_token_env is None:
        message = "webhook mode needs the name of the variable holding the webhook's secret"
        problems.append(Problem(source, message, field=f"{field}.secret_token_env"))
        return None
    value = env.get(options.secret_token_env, "").strip()
    if not _SECRET.match(value):
        message = (
            f"the environment variable {options.secret_token_env} must hold 1 to 256 letters,"
            " digits, '_' or '-'"
        )
        problems.append(Problem(source, message, field=f"{field}.secret_token_env"))
        return None
    return value
