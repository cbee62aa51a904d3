"""From configuration to session plans: which sessions come next, with which agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.agenda import Agenda, load_agenda, parse_agenda_text
from bot.config import CommunityConfig, Config, OneOffConfig, SeriesConfig
from bot.domain import ChannelRef
from bot.errors import ConfigError, Problem
from bot.platforms.base import TEXT_LIMITS
from bot.schedule import Schedule, parse_schedule
from bot.texts import question_post
from bot.timeline import QuestionPlan, SessionPlan


@dataclass(frozen=True, slots=True)
class Upcoming:
    community: CommunityConfig
    series_id: str
    starts_at: datetime


def strictest_limit(community: CommunityConfig) -> int:
    """The shortest message limit among the platforms the community posts to."""
    platforms = {ChannelRef.parse(c).platform for c in community.channels}
    return min(TEXT_LIMITS.get(p, 500) for p in platforms)


def schedule_of(community: CommunityConfig, series: SeriesConfig) -> Schedule:
    return parse_schedule(
        series.schedule,
        timezone=community.timezone,
        start_date=series.start_date,
        skip=series.skip,
    )


def one_off_start(community: CommunityConfig, one_off: OneOffConfig) -> datetime:
    at = one_off.at
    local = at if at.tzinfo else at.replace(tzinfo=ZoneInfo(community.timezone))
    return local.astimezone(UTC)


def upcoming(
    config: Config, now: datetime, per_series: int = 1, only: str | None = None
) -> list[Upcoming]:
    """The next sessions of every series and one-off, soonest first; one still running
    at ``now`` counts, so a bot started mid-chat picks it up. ``only``: of that
    community alone."""
    found: list[Upcoming] = []
    for community in config.communities:
        if only is not None and community.id != only:
            continue
        for series in community.series:
            after = now - series.duration
            for start in schedule_of(community, series).occurrences(after, per_series):
                found.append(Upcoming(community, series.id, start))
        for one_off in community.sessions:
            start = one_off_start(community, one_off)
            if start + one_off.duration > now:
                found.append(Upcoming(community, one_off.id, start))
    return sorted(found, key=lambda u: u.starts_at)


def next_sessions(config: Config, now: datetime) -> list[Upcoming]:
    """The next start of every series and one-off strictly after ``now``, soonest first:
    what ``check`` and ``schedule`` show as next, so a chat running or over is not."""
    found: list[Upcoming] = []
    for community in config.communities:
        for series in community.series:
            start = schedule_of(community, series).next_after(now)
            if start is not None:
                found.append(Upcoming(community, series.id, start))
        for one_off in community.sessions:
            if (start := one_off_start(community, one_off)) > now:
                found.append(Upcoming(community, one_off.id, start))
    return sorted(found, key=lambda u: u.starts_at)


def agenda_path(
    config: Config, community: CommunityConfig, series_id: str, start: datetime
) -> Path:
    local_day = start.astimezone(ZoneInfo(community.timezone)).date()
    for series in community.series:
        if series.id == series_id:
            return config.resolve(series.agendas.get(local_day, series.agenda))
    for one_off in community.sessions:
        if one_off.id == series_id:
            return config.resolve(one_off.agenda)
    raise KeyError(series_id)


def _timing(community: CommunityConfig, series_id: str) -> tuple[timedelta, list[timedelta], str]:
    items: list[SeriesConfig | OneOffConfig] = [*community.series, *community.sessions]
    for item in items:
        if item.id == series_id:
            return item.duration, item.reminders, item.title
    raise KeyError(series_id)


def load_session_agenda(config: Config, item: Upcoming) -> Agenda:
    duration, _, _ = _timing(item.community, item.series_id)
    path = agenda_path(config, item.community, item.series_id, item.starts_at)
    return _load_for(item.community, path, duration)


def _load_for(community: CommunityConfig, path: Path, duration: timedelta) -> Agenda:
    """An agenda checked against the chat it is for: its length, its platforms and, for a
    bilingual community, its translation."""
    agenda = load_agenda(
        path,
        duration=duration,
        text_limit=strictest_limit(community),
        as_posted=lambda number, text: question_post(number, text, community.hashtag),
    )
    return _bilingual(community, agenda, path)


def agenda_from_text(
    community: CommunityConfig, text: str, *, source: str, duration: timedelta
) -> Agenda:
    """A TOML agenda not in a file (one edited in the console), checked exactly as
    ``hashchat check`` checks the files: ConfigError with every problem at its field."""
    agenda = parse_agenda_text(
        text,
        source=source,
        fmt="toml",
        duration=duration,
        text_limit=strictest_limit(community),
        as_posted=lambda number, text: question_post(number, text, community.hashtag),
    )
    return _bilingual(community, agenda, Path(source))


def chat_duration(community: CommunityConfig, series_id: str) -> timedelta:
    return _timing(community, series_id)[0]


def _bilingual(community: CommunityConfig, agenda: Agenda, path: Path) -> Agenda:
    second = community.second_locale
    if second is None:
        return agenda
    texts = agenda.translations.get(second)
    where = f"translations.{second}"
    if texts is None:
        raise ConfigError.single(
            path,
            f"{community.hashtag} also posts in '{second}': add a [{where}] table with the"
            ' title and the questions in order, as questions = ["...", "..."]',
            field=where,
        )
    limit, problems = strictest_limit(community), []
    for q in agenda.questions:
        if f"q{q.number}" not in texts:
            problems.append(Problem(str(path), f"Q{q.number} has no translation", where))
            continue
        posted = question_post(q.number, q.text, community.hashtag, texts[f"q{q.number}"])
        if len(posted) > limit:
            message = (
                f"Q{q.number} in both languages is {len(posted)} characters as the bot posts"
                f" it, over the limit of {limit}: shorten one of them"
            )
            problems.append(Problem(str(path), message, f"{where}.questions"))
    if problems:
        raise ConfigError(problems)
    return agenda


def check_all_agendas(config: Config) -> list[Problem]:
    """Every agenda the config names, per-date ones included, not only the next ones."""
    problems: list[Problem] = []
    for community in config.communities:
        uses = [(s.agenda, s.duration) for s in community.series]
        uses += [(path, s.duration) for s in community.series for path in s.agendas.values()]
        uses += [(s.agenda, s.duration) for s in community.sessions]
        for path, duration in uses:
            try:
                _load_for(community, config.resolve(path), duration)
            except ConfigError as exc:
                # An agenda shared by several series is reported once.
                problems.extend(p for p in exc.problems if p not in problems)
    return problems


def session_plan(config: Config, item: Upcoming, agenda: Agenda | None = None) -> SessionPlan:
    """``agenda``: one kept for this chat alone (the console's edit), else its file's."""
    community = item.community
    duration, reminders, title = _timing(community, item.series_id)
    agenda = agenda or load_session_agenda(config, item)
    local_day = item.starts_at.astimezone(ZoneInfo(community.timezone)).date()
    return SessionPlan(
        community=community.id,
        series=item.series_id,
        slug=f"{community.id}/{local_day.isoformat()}",
        title=agenda.title or title or community.name or community.hashtag,
        topic=agenda.topic,
        hashtag=community.hashtag,
        locale=community.locale,
        timezone=community.timezone,
        starts_at=item.starts_at,
        ends_at=item.starts_at + duration,
        channels=tuple(community.channels),
        moderator_channels=tuple(community.moderator_channels),
        moderators=tuple(community.moderators),
        welcome=agenda.welcome,
        rules=agenda.rules,
        closing=agenda.closing,
        questions=tuple(QuestionPlan(q.number, q.text, q.offset) for q in agenda.questions),
        reminders=tuple(reminders),
        slow_mode_seconds=int(community.slow_mode.total_seconds()) if community.slow_mode else 0,
        second_locale=community.second_locale,
        translated=dict(agenda.translations.get(community.second_locale or "", {})),
    )
