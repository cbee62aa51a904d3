"""The TOML configuration, validated into typed models with errors that point at the field."""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config_fields import (
    ChannelKey,
    ChatLength,
    Day,
    FilePath,
    Grace,
    Host,
    Identifier,
    Moment,
    Period,
    Reminders,
    Retention,
    UserKey,
    WebLink,
    Zone,
)
from bot.config_fields import (
    EnvName as EnvName,  # re-exported: the adapters name secrets the same way
)
from bot.config_fields import _path as _file_path
from bot.database_url import DatabaseUrl, password_from_env
from bot.errors import ConfigError, Problem, StartError
from bot.schedule import ScheduleError, parse_schedule

_DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=10))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _database(value: object) -> object:
    """A ``postgresql://`` URL, or the path of the SQLite file (checked as any path)."""
    if isinstance(value, str) and value.split(":", 1)[0] in ("postgresql", "postgres"):
        return DatabaseUrl.parse(value)
    return value if isinstance(value, DatabaseUrl | Path) else _file_path(value)


class BotSettings(_Model):
    database: Annotated[DatabaseUrl | Path, BeforeValidator(_database)] = Path("hashchat.db")
    # The environment variable holding the PostgreSQL password (never in the config).
    database_password_env: EnvName | None = None
    public_url: str | None = None
    transcripts_dir: FilePath = Path("transcripts")
    listen_host: Host = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=0, le=65535)
    grace: Grace = timedelta(minutes=5)

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
    duration: ChatLength = timedelta(hours=1)
    agenda: FilePath
    agendas: dict[Day, FilePath] = Field(default_factory=dict)
    reminders: Reminders = Field(default_factory=lambda: list(_DEFAULT_REMINDERS))
    start_date: Day | None = None
    skip: list[Day] = Field(default_factory=list)
    hosts: list[UserKey] = Field(default_factory=list)  # taking turns


class OneOffConfig(_Model):
    id: Identifier
    title: str = ""
    at: Moment  # wall time in the community's zone, e.g. 2026-12-10T18:00
    duration: ChatLength = timedelta(hours=1)
    agenda: FilePath
    reminders: Reminders = Field(default_factory=lambda: list(_DEFAULT_REMINDERS))


RuleAction = Literal["hide", "delete", "warn"]


class FloodRule(_Model):
    """More than ``messages`` from one participant within ``per`` is flooding."""

    messages: int = Field(ge=2, le=1000)
    per: Period
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
    retention: Retention | None = None
    # During a chat, one post per participant per this long, where the platform can.
    slow_mode: Period | None = None
    # The community site (bot/site/): a short description for its home page, and public
    # links to channels whose address the site cannot derive (a Discord invite, say).
    description: str = Field(default="", max_length=1000)
    channel_links: dict[ChannelKey, WebLink] = Field(default_factory=dict)

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

    @property
    def database(self) -> DatabaseUrl | Path:
        """The database to open: a PostgreSQL URL, or the SQLite file's resolved path."""
        where = self.bot.database
        return where if isinstance(where, DatabaseUrl) else self.resolve(where)

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


def validation_problems(
    exc: ValidationError, source: str, prefix: tuple[str, ...] = ()
) -> list[Problem]:
    """Pydantic's errors as problems at their field, in the words of this project: no
    'Value error, ' prefix, and an unknown key called what it most likely is, a typo."""
    problems = []
    for err in exc.errors():
        message = str(err["msg"])
        for noise in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(noise)
        if err["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against config.example.toml)"
        problems.append(Problem(source, message, field=_field_path((*prefix, *err["loc"]))))
    return problems


class InvalidConfig(ConfigError):
    """A config with problems; ``partial`` is the same config without its bad settings
    when the rest still validates, so that later checks (each platform's own) can
    report their problems too, all at once."""

    def __init__(self, problems: list[Problem], partial: Config | None) -> None:
        super().__init__(problems)
        self.partial = partial


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


# Schedules are looked at from here on: one with no start after it never occurs.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _cross_checks(config: Config, source: str) -> list[Problem]:
    """What no single field can check: unique ids, files, and schedules read in their zone."""
    problems = _file_checks(config, source)
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
            field = f"communities[{i}].series[{j}].schedule"
            try:
                schedule = parse_schedule(
                    series.schedule,
                    timezone=community.timezone,
                    start_date=series.start_date,
                    skip=series.skip,
                )
            except ScheduleError as exc:
                problems.append(Problem(source, str(exc), field=field))
                continue
            if schedule.next_after(_EPOCH) is None:
                message = (
                    f"the schedule {series.schedule!r} never occurs (no such date):"
                    " check the day and the month"
                )
                problems.append(Problem(source, message, field=field))
    return problems


def _file_checks(config: Config, source: str) -> list[Problem]:
    """The database must be a file and the transcripts a folder: caught here, ``run``
    would only fail at start-up, after ``check`` said OK."""
    problems: list[Problem] = []
    database = config.database
    if isinstance(database, DatabaseUrl):
        try:
            password_from_env(config.bot.database_password_env)
        except LookupError:
            message = f"the environment variable {config.bot.database_password_env} is not set"
            problems.append(Problem(source, message, field="bot.database_password_env"))
    elif database.exists() and not database.is_file():
        message = f"{database} is not a regular file: give the path of a file, e.g. hashchat.db"
        problems.append(Problem(source, message, field="bot.database"))
    elif any(p.exists() and not p.is_dir() for p in database.parents):
        message = f"{database}: a folder on this path is a file"
        problems.append(Problem(source, message, field="bot.database"))
    transcripts = config.resolve(config.bot.transcripts_dir)
    if transcripts.exists() and not transcripts.is_dir():
        message = f"{transcripts} is a file, not a folder"
        problems.append(Problem(source, message, field="bot.transcripts_dir"))
    return problems


def database_password(settings: BotSettings) -> str | None:
    """The PostgreSQL password, from the environment; a ``StartError`` if it is missing."""
    try:
        return password_from_env(settings.database_password_env)
    except LookupError as exc:
        raise StartError(str(exc)) from None


def _without(data: Any, errors: list[Any]) -> Any:
    """``data`` without the settings that failed: at each error, the innermost table key
    on its path is dropped (a bad list item drops its list)."""
    pruned = copy.deepcopy(data)
    for err in errors:
        node, last = pruned, None
        for part in err["loc"]:
            if isinstance(node, dict) and part in node:
                last = (node, part)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                break
        if last is not None:
            last[0].pop(last[1], None)
    return pruned


def _validate(text: str, source: str, base_dir: Path) -> tuple[Config | None, list[Problem]]:
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))  # a BOM, as some editors write
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(source, f"not valid TOML: {exc}", line=_toml_line(str(exc)))]
    except RecursionError:
        return None, [Problem(source, "not valid TOML: arrays or tables nested too deeply")]
    extra = {"source": Path(source), "base_dir": base_dir}
    try:
        config = Config.model_validate({**data, **extra})
    except ValidationError as exc:
        problems = validation_problems(exc, source)
        try:
            partial = Config.model_validate({**_without(data, exc.errors()), **extra})
        except ValidationError:
            return None, problems
        return partial, problems + _cross_checks(partial, source)
    except RecursionError:  # deeply nested values where a table or text was expected
        return None, [Problem(source, "arrays or tables nested too deeply")]
    return config, _cross_checks(config, source)


def parse_config(text: str, *, source: str = "<memory>", base_dir: Path = Path(".")) -> Config:
    """Validate ``text``; every problem is reported at once, each with its field path."""
    config, problems = _validate(text, source, base_dir)
    if problems or config is None:
        raise InvalidConfig(problems, config)
    return config


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError.single(path, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError.single(path, f"cannot read the file ({exc.strerror})") from None
    return parse_config(text, source=str(path), base_dir=path.resolve().parent)
