"""The TOML configuration, validated into typed models with errors that point at the field."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain import ChannelRef, UserRef
from bot.errors import ConfigError, Problem
from bot.schedule import ScheduleError, parse_duration, parse_schedule

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")


def _identifier(text: str) -> str:
    if not _ID.match(text):
        raise ValueError("use lower-case letters, digits, '-' or '_' (it appears in page URLs)")
    return text


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {text!r}; use an IANA name such as 'Europe/Paris'"
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


def _reminder_list(value: Any) -> list[timedelta]:
    if not isinstance(value, list):
        raise ValueError("write reminders as a list such as ['24h', '1h', '10m']")
    return sorted({_duration(v) for v in value}, reverse=True)


DurationText = Annotated[timedelta, BeforeValidator(_duration)]
Reminders = Annotated[list[timedelta], BeforeValidator(_reminder_list)]
_DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=10))


def _user_key(text: str) -> str:
    UserRef.parse(text)
    return text


def _channel_key(text: str) -> str:
    ChannelRef.parse(text)
    return text


Identifier = Annotated[str, AfterValidator(_identifier)]
UserKey = Annotated[str, AfterValidator(_user_key)]  # "platform:user-id"
ChannelKey = Annotated[str, AfterValidator(_channel_key)]  # "platform:id[/thread]"
Zone = Annotated[str, AfterValidator(_zone)]
EnvName = Annotated[str, AfterValidator(_env_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSettings(_Model):
    database: Path = Path("hashchat.db")
    public_url: str | None = None
    transcripts_dir: Path = Path("transcripts")
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=0, le=65535)
    grace: DurationText = timedelta(minutes=5)

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with http:// or https:// and name a host")
        return value


class PlatformSettings(_Model):
    """A platform section; adapters read their own extra keys from ``options``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    token_env: EnvName | None = None


class SeriesConfig(_Model):
    id: Identifier
    title: str = ""
    schedule: str
    duration: DurationText = timedelta(hours=1)
    agenda: Path
    agendas: dict[date, Path] = Field(default_factory=dict)
    reminders: Reminders = Field(default_factory=lambda: list(_DEFAULT_REMINDERS))
    start_date: date | None = None
    skip: list[date] = Field(default_factory=list)
    hosts: list[UserKey] = Field(default_factory=list)  # taking turns


class OneOffConfig(_Model):
    id: Identifier
    title: str = ""
    at: datetime  # wall time in the community's zone, e.g. 2026-12-10T18:00
    duration: DurationText = timedelta(hours=1)
    agenda: Path
    reminders: Reminders = Field(default_factory=lambda: list(_DEFAULT_REMINDERS))


RuleAction = Literal["hide", "delete", "warn"]


class FloodRule(_Model):
    """More than ``messages`` from one participant within ``per`` is flooding."""

    messages: int = Field(ge=2, le=1000)
    per: DurationText
    action: RuleAction = "warn"


class FilterRule(_Model):
    """Whole words (any case), and links: ``links = ["*"]`` for any link, or domains."""

    words: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    action: RuleAction = "hide"

    @model_validator(mode="after")
    def _something(self) -> FilterRule:
        if not self.words and not self.links:
            raise ValueError("a filter needs words, links, or both")
        return self


class RulesConfig(_Model):
    flood: FloodRule | None = None
    filters: list[FilterRule] = Field(default_factory=list)


class CommunityConfig(_Model):
    id: Identifier
    name: str = ""
    hashtag: str
    locale: str = "en"
    # A bilingual community: its posts come in both languages, from agenda translations.
    second_locale: str | None = None
    timezone: Zone
    moderators: list[UserKey] = Field(default_factory=list)
    channels: list[ChannelKey] = Field(min_length=1)
    moderator_channels: list[ChannelKey] = Field(default_factory=list)
    series: list[SeriesConfig] = Field(default_factory=list)
    sessions: list[OneOffConfig] = Field(default_factory=list)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    # How long participants' messages and the published pages are kept after a chat.
    retention: DurationText | None = None
    # During a chat, one post per participant per this long, where the platform can.
    slow_mode: DurationText | None = None

    @field_validator("hashtag")
    @classmethod
    def _hashtag(cls, value: str) -> str:
        if not re.match(r"^#\w+$", value):
            raise ValueError("must be one hashtag such as '#hcsmeu'")
        return value

    @field_validator("locale", "second_locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$", value):
            raise ValueError("must be a language code such as 'en', 'fr' or 'fr_CA'")
        return value.replace("-", "_")


class Config(_Model):
    bot: BotSettings = Field(default_factory=BotSettings)
    platforms: dict[str, PlatformSettings] = Field(default_factory=dict)
    communities: list[CommunityConfig] = Field(min_length=1)
    source: Path = Path("<memory>")
    # Relative paths in the file are relative to the file, not to the working directory.
    base_dir: Path = Path(".")

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.base_dir / path

    def community(self, community_id: str) -> CommunityConfig:
        for c in self.communities:
            if c.id == community_id:
                return c
        raise KeyError(community_id)


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _cross_checks(config: Config, source: str) -> list[Problem]:
    """What no single field can check: unique ids, and schedules read in their zone."""
    problems: list[Problem] = []
    first_use: dict[str, str] = {}
    for i, community in enumerate(config.communities):
        where = f"communities[{i}].id"
        if community.id in first_use:
            message = f"{community.id!r} is already the id of {first_use[community.id]}"
            problems.append(Problem(source, message, field=where))
        first_use.setdefault(community.id, f"communities[{i}]")
        seen: dict[str, str] = {}
        named = [("series", s.id) for s in community.series]
        named += [("sessions", s.id) for s in community.sessions]
        counters = {"series": 0, "sessions": 0}
        for kind, ident in named:
            path = f"communities[{i}].{kind}[{counters[kind]}]"
            counters[kind] += 1
            if ident in seen:
                message = f"{ident!r} is already used by {seen[ident]}; ids must be unique"
                problems.append(Problem(source, message, field=f"{path}.id"))
            seen.setdefault(ident, path)
        for j, series in enumerate(community.series):
            try:
                parse_schedule(
                    series.schedule,
                    timezone=community.timezone,
                    start_date=series.start_date,
                    skip=series.skip,
                )
            except ScheduleError as exc:
                field = f"communities[{i}].series[{j}].schedule"
                problems.append(Problem(source, str(exc), field=field))
    return problems


def parse_config(text: str, *, source: str = "<memory>", base_dir: Path = Path(".")) -> Config:
    """Validate ``text``; every problem is reported at once, each with its field path."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.single(
            source, f"not valid TOML: {exc}", line=_toml_line(str(exc))
        ) from None
    try:
        config = Config.model_validate({**data, "source": Path(source), "base_dir": base_dir})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown setting (check the spelling against config.example.toml)"
            problems.append(Problem(source, message, field=_field_path(err["loc"])))
        raise ConfigError(problems) from None
    problems = _cross_checks(config, source)
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError.single(path, f"not UTF-8 text ({exc.reason})") from None
    return parse_config(text, source=str(path), base_dir=path.resolve().parent)
