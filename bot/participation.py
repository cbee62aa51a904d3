"""Sign-ups for a series' reminders and the host rota: their commands and their mentions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta

from bot.commands import Access, Context, Outcome, command
from bot.domain import ChannelRef, UserRef
from bot.i18n import N_, Messages
from bot.platforms.base import Platform, PlatformError
from bot.store import Store
from bot.store.participation import HostRota, Signup, SignupStore
from bot.timeline import SessionPlan

log = logging.getLogger(__name__)

# How long before a session its host is reminded; the caller schedules it.
HOST_REMINDER_BEFORE = timedelta(days=1)


def host_for(hosts: Sequence[str], occurrence_index: int) -> str | None:
    """The rota's host for the n-th session of a series: the listed hosts take turns."""
    return hosts[occurrence_index % len(hosts)] if hosts else None


def mention(user: str, name: str = "") -> str:
    """``@name``, or ``@id`` when no name is known. The platform port has no mention
    syntax of its own yet, so this is the same on every platform."""
    return "@" + (name or user.partition(":")[2] or user).lstrip("@")


def home_channel(channels: Iterable[str], platform: str) -> str | None:
    """The first channel on ``platform``: a person is only reachable on their own platform."""
    return next((c for c in channels if ChannelRef.parse(c).platform == platform), None)


def _batches(
    mentions: Sequence[str], compose: Callable[[str], str], limit: int
) -> list[tuple[str, int]]:
    """One message naming everyone, unless the platform's length limit forces more."""
    out: list[tuple[str, int]] = []
    batch: list[str] = []
    for who in mentions:
        if batch and len(compose(" ".join([*batch, who]))) > limit:
            out.append((compose(" ".join(batch)), len(batch)))
            batch = []
        batch.append(who)
    if batch:
        out.append((compose(" ".join(batch)), len(batch)))
    return out


async def _post(
    platforms: Mapping[str, Platform],
    channel: str,
    mentions: Sequence[str],
    compose: Callable[[str], str],
    key: str,
) -> int:
    """How many of ``mentions`` were reached; a refusal costs that message, not the rest."""
    ref = ChannelRef.parse(channel)
    platform = platforms.get(ref.platform)
    if platform is None:
        log.warning("cannot remind anyone in %s: platform %r is not running", channel, ref.platform)
        return 0
    reached = 0
    limit = platform.capabilities.max_text_length
    for n, (text, count) in enumerate(_batches(mentions, compose, limit)):
        try:
            await platform.send(ref, text, idempotency_key=f"{key}:{n}")
        except PlatformError as exc:
            log.error("could not remind %d people in %s: %s", count, channel, exc)
            continue
        reached += count
    return reached


async def deliver_reminders(
    store: Store,
    platforms: Mapping[str, Platform],
    plan: SessionPlan,
    session_id: int,
    before: timedelta,
    m: Messages,
) -> int:
    """Mention everyone signed up to the series, once per channel; returns how many
    people were reached.

    Nothing here records a delivery: call it once per session and reminder, right after
    the runner posted that reminder step, whose post claim already happens only once.
    """
    by_channel: dict[str, list[Signup]] = {}
    for signup in await SignupStore(store.db).of(plan.community, plan.series):
        by_channel.setdefault(signup.channel, []).append(signup)
    delay = format_timedelta(before, locale=m.locale)

    def compose(mentions: str) -> str:
        return m.gettext(
            "{mentions}: the {hashtag} chat “{title}” starts in {delay}.",
            mentions=mentions,
            hashtag=plan.hashtag,
            title=plan.title,
            delay=delay,
        )

    reached = 0
    for channel, people in by_channel.items():
        key = f"{session_id}:rsvp:{int(before.total_seconds())}s:{channel}"
        names = [mention(p.user, p.user_name) for p in people]
        reached += await _post(platforms, channel, names, compose, key)
    return reached


async def remind_host(
    store: Store,
    platforms: Mapping[str, Platform],
    plan: SessionPlan,
    session_id: int,
    m: Messages,
) -> bool:
    """Mention the session's host where they signed up, or else in the community's
    first channel on their platform; False when there is no host or no way to reach them.

    Like :func:`deliver_reminders`, the caller makes sure this runs once per session.
    """
    host = await HostRota(store.db).host(session_id)
    if host is None:
        return False
    signup = await SignupStore(store.db).get(plan.community, plan.series, host)
    platform = host.partition(":")[0]
    channel = signup.channel if signup else home_channel(plan.channels, platform)
    if channel is None:
        log.warning("%s: host %s has no channel on %s to be reminded in", plan.slug, host, platform)
        return False
    local = plan.starts_at.astimezone(ZoneInfo(plan.timezone))
    when = (
        f"{format_date(local, format='full', locale=m.locale)}, "
        f"{format_time(local, format='short', locale=m.locale)} ({plan.timezone})"
    )

    def compose(mentions: str) -> str:
        return m.gettext(
            "{mentions}: you host the {hashtag} chat “{title}” on {when}."
            " To hand over, send “host @name”.",
            mentions=mentions,
            hashtag=plan.hashtag,
            title=plan.title,
            when=when,
        )

    who = mention(host, signup.user_name if signup else "")
    key = f"{session_id}:host-reminder:{host}:{channel}"
    return await _post(platforms, channel, [who], compose, key) == 1


# commands ------------------------------------------------------------------------------


def _signup_channel(ctx: Context) -> str:
    """Where the command was sent, thread included: a reminder lands where the person is."""
    return str(ctx.message.ref.channel)


def _no_chat(ctx: Context) -> Outcome:
    return Outcome(
        ctx.m.gettext("No chat is planned for {hashtag}.", hashtag=ctx.community.hashtag)
    )


@command("rsvp", Access.EVERYONE, N_("get a reminder before each chat of this series"))
async def _rsvp(ctx: Context) -> Outcome:
    if ctx.session is None:
        return _no_chat(ctx)
    plan = ctx.session.plan
    added = await SignupStore(ctx.services.store.db).add(
        plan.community,
        plan.series,
        user=ctx.author.key,
        user_name=ctx.author.name,
        channel=_signup_channel(ctx),
        now=ctx.services.clock.now(),
    )
    if added:
        text = ctx.m.gettext(
            "Signed up: I will remind you here before each {hashtag} chat of this series,"
            " starting with “{title}”. Send unrsvp to stop.",
            hashtag=plan.hashtag,
            title=plan.title,
        )
    else:
        text = ctx.m.gettext(
            "You are already signed up: I will remind you here before each {hashtag}"
            " chat of this series.",
            hashtag=plan.hashtag,
        )
    return Outcome(text)


@command("unrsvp", Access.EVERYONE, N_("stop the reminders of this series"))
async def _unrsvp(ctx: Context) -> Outcome:
    if ctx.session is None:
        return _no_chat(ctx)
    plan = ctx.session.plan
    if await SignupStore(ctx.services.store.db).remove(plan.community, plan.series, ctx.author.key):
        return Outcome(ctx.m.gettext("Done: no more reminders for this {hashtag} series.",
                                     hashtag=plan.hashtag))  # fmt: skip
    return Outcome(ctx.m.gettext("You are not signed up for the reminders of this {hashtag}"
                                 " series.", hashtag=plan.hashtag))  # fmt: skip


def parse_person(text: str, platform: str) -> UserRef | None:
    """``@handle`` on the author's own platform, or ``platform:id`` anywhere."""
    text = text.strip().removeprefix("@")
    if not text or any(c.isspace() for c in text):
        return None
    if ":" in text:
        try:
            return UserRef.parse(text)
        except ValueError:
            return None
    return UserRef(platform, text)


@command(
    "host",
    Access.EVERYONE,
    N_("who hosts the next chat; for its host or a moderator: host @name hands over"),
)
async def _host(ctx: Context) -> Outcome:
    if ctx.session is None:
        return _no_chat(ctx)
    m, row = ctx.m, ctx.session
    rota = HostRota(ctx.services.store.db)
    current = await rota.host(row.id)
    if not ctx.args:
        if current is None:
            return Outcome(m.gettext("“{title}” has no host yet.", title=row.plan.title))
        return Outcome(
            m.gettext(
                "The host of “{title}” is {host}.", title=row.plan.title, host=mention(current)
            )
        )
    if not (ctx.moderator or ctx.author.key == current):
        return Outcome(
            m.gettext(
                "Sorry, only the host of “{title}” or a moderator of {hashtag} can hand over.",
                title=row.plan.title,
                hashtag=ctx.community.hashtag,
            )
        )
    new = parse_person(ctx.args, ctx.author.platform)
    if new is None:
        return Outcome(
            m.gettext("Name the new host as @name or platform:id, for example “host @ann”.")
        )
    await rota.assign(row.id, new.key)
    return Outcome(
        m.gettext("{host} now hosts “{title}”.", host=mention(new.key), title=row.plan.title),
        target=new.key,
    )
