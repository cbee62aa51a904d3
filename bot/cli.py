"""The ``hashchat`` command line: check, schedule, run and demo."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

from bot.alarm import SchedulerAlarm
from bot.app import App
from bot.clock import SystemClock
from bot.config import (
    CommunityConfig,
    Config,
    InvalidConfig,
    SeriesConfig,
    database_password,
    load_config,
)
from bot.errors import ConfigError, Problem, StartError
from bot.instance import Instance
from bot.ops.backup import run_backup
from bot.ops.logs import FORMATS, TEXT, use_format
from bot.planning import check_all_agendas, load_session_agenda, next_sessions, schedule_of
from bot.platforms.base import PlatformError
from bot.reload import reload_on_sighup
from bot.replanning import preview
from bot.schedule import ends_on
from bot.schedule_exceptions import exception_lines
from bot.site.command import site
from bot.store import Store
from bot.store.audit import Action

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("hashchat.toml"),
    show_default=True,
    help="The configuration file.",
)


def _verbose(_: click.Context, __: click.Parameter, value: bool) -> None:
    if value:
        logging.getLogger().setLevel(logging.INFO)


# Accepted before the subcommand (hashchat -v run) and after it (hashchat run -v).
VERBOSE_OPTION = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    callback=_verbose,
    help="Log what the bot does (to stderr).",
)


def _log_format(_: click.Context, __: click.Parameter, value: str | None) -> None:
    if value is not None:
        use_format(value)


# Like -v, accepted before the subcommand and after it.
LOG_FORMAT_OPTION = click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    expose_value=False,
    callback=_log_format,
    help="How log lines look: text, or one JSON object per line for log collectors.",
)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        _fail(exc)


def _fail(exc: ConfigError) -> NoReturn:
    click.secho(f"{len(exc.problems)} problem(s) found:", fg="red", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@VERBOSE_OPTION
@LOG_FORMAT_OPTION
def main() -> None:
    """hashchat runs scheduled, moderated question-and-answer chats."""
    # No level here: -v before the subcommand has already set it (WARNING otherwise).
    # A no-op when --log-format has already set up the handler.
    logging.basicConfig(format=TEXT)


main.add_command(site)


@main.command()
@CONFIG_OPTION
@VERBOSE_OPTION
def check(config_path: Path) -> None:
    """Validate the configuration and every agenda, and show each series' next session."""
    config, problems = _checked(config_path)
    if problems:
        _fail(ConfigError(problems))
    for item in next_sessions(config, SystemClock().now()):
        agenda = load_session_agenda(config, item)
        local = item.starts_at.astimezone(ZoneInfo(item.community.timezone))
        click.echo(
            f"{item.community.id}/{item.series_id}: next on {local:%a %Y-%m-%d %H:%M} "
            f"{item.community.timezone} ({item.starts_at.astimezone(UTC):%H:%M} UTC), "
            f"{len(agenda.questions)} questions: {agenda.title}"
        )
    for community in config.communities:
        for series in community.series:
            if end := _series_end(community, series, SystemClock().now()):
                click.echo(f"{community.id}/{series.id}: {end}")
    _report_replans(config)
    _report_exceptions(config)
    _warn_without_public_url(config)
    click.secho(f"{config_path}: OK", fg="green")


def _series_end(community: CommunityConfig, series: SeriesConfig, now: datetime) -> str:
    """Say when a series with an ``until`` stops, so that its silence is not a surprise."""
    schedule = schedule_of(community, series)
    end = ends_on(schedule)
    if end is None:
        return ""
    if schedule.next_after(now - series.duration) is None:
        return f"no more sessions: the series ended on {end:%a %Y-%m-%d} (until)"
    return f"the series ends on {end:%a %Y-%m-%d} (until): no session after that day"


def _report_replans(config: Config) -> None:
    """Against the database of a running bot: what its next planner pass will change."""
    database = config.database
    if not isinstance(database, Path) or not database.is_file():
        return  # PostgreSQL: ``check`` stays offline
    try:
        lines = asyncio.run(preview(config, SystemClock().now()))
    except (sqlite3.Error, OSError, ValueError) as exc:
        click.secho(f"{database}: could not read the planned chats: {exc}", fg="yellow")
        return
    if lines:
        click.echo(f"Planned in {database}; the next planner pass (hourly, or on SIGHUP) makes:")
    for line in lines:
        click.echo(f"  {line}")


def _report_exceptions(config: Config) -> None:
    """The console's skips, moves and one-offs, which the schedule in the files lacks."""
    database = config.database
    if not isinstance(database, Path) or not database.is_file():  # as for the replans
        return
    try:
        lines = asyncio.run(exception_lines(config))
    except (sqlite3.Error, OSError, ValueError) as exc:
        click.secho(f"could not read the console's schedule exceptions: {exc}", fg="yellow")
        return
    for line in lines:
        click.echo(f"exception: {line}")


def _checked(path: Path) -> tuple[Config, list[Problem]]:
    """The config and every problem in it, its agendas and its platform sections, all at
    once: a bad setting does not hide the platforms' own checks."""
    from bot.platforms.registry import build_platforms

    problems: list[Problem] = []
    try:
        config = load_config(path)
    except InvalidConfig as exc:
        if exc.partial is None:
            _fail(exc)
        config, problems = exc.partial, list(exc.problems)
    except ConfigError as exc:
        _fail(exc)
    problems += check_all_agendas(config)
    try:  # builds the adapters without connecting: their settings and tokens are checked
        build_platforms(config, SystemClock())
    except ConfigError as exc:
        known = {(p.file, p.field) for p in problems}
        problems += [p for p in exc.problems if (p.file, p.field) not in known]
    return config, problems


def _warn_without_public_url(config: Config) -> None:
    from bot.platforms.registry import ADAPTERS, used_platforms

    real = sorted(set(used_platforms(config)) & set(ADAPTERS))
    if real and config.bot.public_url is None:
        click.secho(
            f"warning: {config.source}: bot.public_url is not set, so participants on"
            f" {', '.join(real)} get no link to the transcript (its files stay in"
            f" {config.resolve(config.bot.transcripts_dir)}): set public_url to the address"
            " that serves them",
            fg="yellow",
            err=True,
        )


@main.command()
@CONFIG_OPTION
@VERBOSE_OPTION
@click.option("-n", "--count", default=5, show_default=True, help="Sessions per series.")
def schedule(config_path: Path, count: int) -> None:
    """List the next sessions of every series, in the community's zone and in UTC."""
    config = _load(config_path)
    now = datetime.now(UTC)
    for community in config.communities:
        zone = ZoneInfo(community.timezone)
        click.secho(f"{community.id} ({community.hashtag}, {community.timezone})", bold=True)
        for series in community.series:
            click.echo(f"  {series.id}: {series.schedule}")
            starts = schedule_of(community, series).occurrences(now, count)
            for start in starts:
                local = start.astimezone(zone)
                click.echo(
                    f"    {local:%a %Y-%m-%d %H:%M %Z}   {start.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                )
            if len(starts) < count:
                click.echo(f"    {_series_end(community, series, now) or 'no more sessions'}")
        for item in [u for u in next_sessions(config, now) if u.community is community]:
            if item.series_id in {s.id for s in community.sessions}:
                local, utc = item.starts_at.astimezone(zone), item.starts_at.astimezone(UTC)
                click.echo(f"  {item.series_id}: one-off")
                click.echo(f"    {local:%a %Y-%m-%d %H:%M %Z}   {utc:%Y-%m-%d %H:%M} UTC")
    _report_exceptions(config)


@main.command()
@CONFIG_OPTION
@VERBOSE_OPTION
@click.option("--community", help="Only this community's actions.")
@click.option("-n", "--count", default=50, show_default=True, help="How many, newest first.")
def audit(config_path: Path, community: str | None, count: int) -> None:
    """Show the audit log: who did what to whom, why and when."""
    config = _load(config_path)
    if community is not None and community not in {c.id for c in config.communities}:
        click.secho(f"{config_path}: no community {community!r}", fg="red", err=True)
        sys.exit(2)
    try:
        actions = asyncio.run(_recent_actions(config, community, count))
    except (OSError, sqlite3.Error) as exc:
        where = config.database
        click.secho(f"cannot read the database {where} (bot.database): {exc}", fg="red", err=True)
        sys.exit(1)
    if not actions:
        click.echo("No moderation actions recorded yet.")
    for action in actions:
        zone = ZoneInfo(config.community(action.community).timezone)
        detail = "  ".join(part for part in (action.target, action.reason) if part)
        click.echo(
            f"{action.at.astimezone(zone):%Y-%m-%d %H:%M %Z}  {action.community}  "
            f"{action.action:<9} by {action.actor_name} ({action.actor})  {detail}".rstrip()
        )


async def _recent_actions(config: Config, community: str | None, count: int) -> list[Action]:
    store = await Store.open(config.database, password=database_password(config.bot))
    try:
        return await store.audit.recent(community, count)
    finally:
        await store.close()


@main.command("console-link")
@CONFIG_OPTION
@click.option("--community", required=True, help="The community whose console to open.")
@click.option("--as", "user", required=True, help="Who logs in, as platform:user-id.")
def console_link(config_path: Path, community: str, user: str) -> None:
    """Print a one-time link to the moderators' console (valid 10 minutes)."""
    from bot.console.admin_link import LinkRefused, check_request, print_link
    from bot.console.links import TooManyLinks

    config = _load(config_path)
    try:
        who, public_url = check_request(config, community, user)
        link = asyncio.run(print_link(config, who, public_url))
    except LinkRefused as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(2)
    except TooManyLinks:
        click.secho("too many login links in the last 10 minutes: wait a little", err=True)
        sys.exit(1)
    except (OSError, sqlite3.Error) as exc:
        where = config.database
        click.secho(f"cannot use the database {where} (bot.database): {exc}", fg="red", err=True)
        sys.exit(1)
    if who.user not in config.community(community).moderators:
        click.echo(
            f"note: {who.user} is not among the configured moderators of {community}; the"
            " console lets them in only while they are an admin on their platform",
            err=True,
        )
    click.echo(link)


@main.command()
@CONFIG_OPTION
@VERBOSE_OPTION
@LOG_FORMAT_OPTION
def run(config_path: Path) -> None:
    """Run the bot: announce, remind, post questions, track answers, publish transcripts."""
    config = _load(config_path)
    asyncio.run(_run(config, config_path))


async def _run(config: Config, config_path: Path) -> None:
    from bot.platforms.local.view import TerminalView
    from bot.platforms.registry import build_platforms

    clock = SystemClock()
    alarm = SchedulerAlarm()
    try:
        platforms = build_platforms(config, clock, view=TerminalView())
    except ConfigError as exc:
        _fail(exc)
    app = App(config, platforms=platforms, clock=clock, alarm=alarm)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    alarm.start()
    instance = Instance(app)  # serves now; leads when the lease is its (bot/leadership.py)
    try:
        await instance.start()
    except (PlatformError, StartError, OSError) as exc:
        alarm.shutdown()
        click.secho(f"hashchat could not start: {exc}", fg="red", err=True)
        sys.exit(1)
    except sqlite3.Error as exc:  # a file that is no SQLite database, a full disk, ...
        alarm.shutdown()
        where = config.database
        click.secho(
            f"hashchat could not open its database {where} (bot.database): {exc}",
            fg="red",
            err=True,
        )
        sys.exit(1)
    reload_on_sighup(app, config_path)
    click.echo("hashchat is running; press Ctrl+C to stop.")
    try:
        await instance.wait(stop)
    except (PlatformError, StartError, OSError) as exc:
        click.secho(f"hashchat could not start leading: {exc}", fg="red", err=True)
        sys.exit(1)
    finally:
        alarm.shutdown()
        await instance.stop()


@main.command("backup")
@CONFIG_OPTION
@VERBOSE_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The copy to write (default: beside the database, with the time in its name).",
)
def backup_command(config_path: Path, out: Path | None) -> None:
    """Copy the database while the bot runs (SQLite's online backup), checked."""
    run_backup(_load(config_path), out)


@main.command("local-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on.")
def local_server(host: str, port: int) -> None:
    """Run the local chat platform as its own process, for `[platforms.local] server`."""
    from bot.platforms.local.server import print_change, serve

    click.echo(f"local chat server on http://{host}:{port}/ ; press Ctrl+C to stop.")
    try:
        asyncio.run(serve(host, port, echo=print_change))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        click.secho(
            f"hashchat local-server: cannot listen on {host}:{port}: {exc.strerror}",
            fg="red",
            err=True,
        )
        sys.exit(1)


@main.command()
@VERBOSE_OPTION
@click.option("--locale", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="How many times faster than real time the chat runs (the real alarm and runner).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-output"),
    show_default=True,
    help="Where the demo's database, transcripts and site go (emptied first).",
)
@click.option(
    "--serve/--no-serve",
    default=None,
    help="Keep serving the site after the chat, until Ctrl-C [default: when run in a terminal].",
)
def demo(locale: str, speed: float, out: Path, serve: bool | None) -> None:
    """Run a complete chat on the built-in local platform, with simulated participants."""
    from bot.demo import DemoResult, run_demo

    def announce(result: DemoResult) -> None:
        folder = result.transcript
        click.echo()
        click.secho("The chat is over. Transcript:", bold=True)
        click.echo(f"  {(folder / 'index.html').as_uri()}")
        click.echo(f"  {folder / 'transcript.md'}")
        click.echo(f"  {folder / 'transcript.json'}")
        click.secho("The community's site, as static files (hashchat site build):", bold=True)
        click.echo(f"  {(result.export / result.site.split('/')[-2] / 'index.html').as_uri()}")
        if serving:
            click.secho("The community's site (Ctrl-C to stop):", bold=True)
        else:
            click.secho("The community's site (served while the demo ran):", bold=True)
        click.echo(f"  {result.site}")

    serving = sys.stdout.isatty() if serve is None else serve
    try:
        asyncio.run(
            run_demo(out.resolve(), locale=locale, speed=speed, serve=serving, announce=announce)
        )
    except KeyboardInterrupt:
        click.echo("Stopped.")


@main.command("migrate")
@CONFIG_OPTION
@VERBOSE_OPTION
@click.option("--to", "target", required=True, help="postgresql://user@host:port/database")
@click.option(
    "--password-env",
    help="The environment variable holding the target's password"
    " (default: the config's bot.database_password_env).",
)
def migrate_command(config_path: Path, target: str, password_env: str | None) -> None:
    """Copy the configured SQLite database into an empty PostgreSQL one, and verify it."""
    from bot.moving import run_migrate

    sys.exit(run_migrate(_load(config_path), config_path, target, password_env))
