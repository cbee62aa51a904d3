"""What each chat command does; who may use it is decided in ``bot.moderation``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta

from bot.clock import Clock
from bot.config import CommunityConfig
from bot.domain import ChannelRef, IncomingMessage, UserRef
from bot.durations import parse_duration
from bot.i18n import N_, Messages
from bot.live import LiveIndex
from bot.planning import strictest_limit
from bot.platforms.base import Platform, PlatformError
from bot.steering import Steering
from bot.store import MessageWriter, SessionRow, StepRow, Store
from bot.texts import question_post
from bot.timeline import StepKind

if TYPE_CHECKING:
    from bot.actions import Mutes
    from bot.privacy import OptOuts


class Access(Enum):
    EVERYONE = "everyone"
    MODERATORS = "moderators"


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    store: Store
    writer: MessageWriter
    steering: Steering
    live: LiveIndex
    mutes: Mutes
    optouts: OptOuts
    publish: Callable[[int], Awaitable[str]]  # (re)writes a session's transcript
    platforms: Mapping[str, Platform]
    clock: Clock
    public_url: str | None = None  # where the console's login links point


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """One command as received: who, where, and the community's current or next chat."""

    community: CommunityConfig
    message: IncomingMessage  # the command itself: where it was said, what it replies to
    moderator: bool
    args: str
    m: Messages
    session: SessionRow | None  # the live session, or else the next planned one
    steps: list[StepRow]
    pending: set[str]  # step keys not yet posted (or skipped) in any channel
    services: Services

    @property
    def author(self) -> UserRef:
        return self.message.author

    def due(self, key: str) -> datetime:
        return next(s.due_at for s in self.steps if s.key == key)

    def clock(self, when: datetime) -> str:
        assert self.session is not None
        plan = self.session.plan
        local = when.astimezone(ZoneInfo(plan.timezone))
        return f"{format_time(local, format='short', locale=self.m.locale)} ({plan.timezone})"

    def day_and_time(self, when: datetime) -> str:
        assert self.session is not None
        local = when.astimezone(ZoneInfo(self.session.plan.timezone))
        return f"{format_date(local, format='full', locale=self.m.locale)}, {self.clock(when)}"

    def delay(self, length: timedelta) -> str:
        return str(format_timedelta(length, locale=self.m.locale))

    @property
    def running(self) -> SessionRow:
        """The live session, for live-only commands (the dispatcher has checked there is one)."""
        if self.live is None:
            raise RuntimeError("only a command registered with live=True may use this")
        return self.live

    @property
    def live(self) -> SessionRow | None:
        return self.session if self.session and self.session.state == "live" else None


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: str
    target: str = ""  # what the audit log names as acted upon, e.g. "Q3"


Handler = Callable[[Context], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Spec:
    access: Access
    description: str
    run: Handler
    live: bool  # only during a chat: the dispatcher answers "no chat is running" otherwise


COMMANDS: dict[str, Spec] = {}


def command(
    name: str, access: Access, description: str, *, live: bool = False
) -> Callable[[Handler], Handler]:
    def register(run: Handler) -> Handler:
        COMMANDS[name] = Spec(access, description, run, live)
        return run

    return register


def too_long_for_a_question(ctx: Context, text: str) -> Outcome | None:
    """A refusal when ``text`` would not fit one post as a question of this community, said
    while its author is there to shorten it."""
    hashtag, limit = ctx.community.hashtag, strictest_limit(ctx.community)
    if len(question_post(99, text, hashtag)) <= limit:
        return None
    room = limit - len(question_post(99, "", hashtag))
    return Outcome(
        ctx.m.ngettext(
            "That is too long to be posted as a question: keep it within {n} character.",
            "That is too long to be posted as a question: keep it within {n} characters.",
            room,
        )
    )


def _next_question(ctx: Context) -> StepRow | None:
    return next(
        (s for s in ctx.steps if s.kind is StepKind.QUESTION and s.key in ctx.pending), None
    )


@command("help", Access.EVERYONE, N_("this list"))
async def _help(ctx: Context) -> Outcome:
    lines = [ctx.m.gettext("What you can ask me:")]
    only = ctx.m.gettext("(moderators only)")
    for name, spec in COMMANDS.items():
        if spec.access is Access.EVERYONE:
            lines.append(f"• {name}: {ctx.m.gettext(spec.description)}")
        elif ctx.moderator:
            lines.append(f"• {name}: {ctx.m.gettext(spec.description)} {only}")
    return Outcome("\n".join(lines))


@command("status", Access.EVERYONE, N_("where the chat stands and what comes next"))
async def _status(ctx: Context) -> Outcome:
    m, row = ctx.m, ctx.session
    if row is None:
        return Outcome(
            m.gettext("No chat is planned for {hashtag}.", hashtag=ctx.community.hashtag)
        )
    title = row.plan.title
    if row.state != "live":
        when = ctx.day_and_time(ctx.due("welcome"))
        return Outcome(
            m.gettext(
                "The next {hashtag} chat, “{title}”, starts on {when}.",
                hashtag=ctx.community.hashtag,
                title=title,
                when=when,
            )
        )
    if row.paused_at is not None:
        return Outcome(m.gettext("“{title}” is paused since {time}.", title=title,
                                 time=ctx.clock(row.paused_at)))  # fmt: skip
    total = len(row.plan.questions)
    following = _next_question(ctx)
    if following is None:
        return Outcome(m.gettext("“{title}” is live: all {n} questions have been asked.",
                                 title=title, n=total))  # fmt: skip
    asked = len([s for s in ctx.steps if s.kind is StepKind.QUESTION and s.key not in ctx.pending])
    return Outcome(
        m.gettext(
            "“{title}” is live: {asked} of {n} questions asked; Q{next} at {time}.",
            title=title,
            asked=asked,
            n=total,
            next=following.question,
            time=ctx.clock(following.due_at),
        )
    )


@command("agenda", Access.EVERYONE, N_("the questions and their times"))
async def _agenda(ctx: Context) -> Outcome:
    row = ctx.session
    if row is None:
        return Outcome(
            ctx.m.gettext("No chat is planned for {hashtag}.", hashtag=ctx.community.hashtag)
        )
    lines = [f"“{row.plan.title}”, {ctx.day_and_time(ctx.due('welcome'))}"]
    for q in row.plan.questions:
        lines.append(f"Q{q.number} ({ctx.clock(ctx.due(f'q{q.number}'))}) {q.text}")
    return Outcome("\n".join(lines))


@command(
    "next",
    Access.EVERYONE,
    N_("when the next chat is; for moderators during a chat: post the next question now"),
)
async def _next(ctx: Context) -> Outcome:
    if not (ctx.moderator and ctx.live):
        return await _status(ctx)
    number = await ctx.services.steering.advance(ctx.live.id)
    if number is None:
        return Outcome(ctx.m.gettext("There are no more questions to post."))
    return Outcome(
        ctx.m.gettext("Q{n} is posted now; the rest of the chat keeps its spacing.", n=number),
        target=f"Q{number}",
    )


@command("start", Access.MODERATORS, N_("start the next chat now"))
async def _start(ctx: Context) -> Outcome:
    if ctx.session is None:
        return Outcome(
            ctx.m.gettext("No chat is planned for {hashtag}.", hashtag=ctx.community.hashtag)
        )
    if not await ctx.services.steering.start(ctx.session.id):
        return Outcome(ctx.m.gettext("The chat is already running."))
    return Outcome(ctx.m.gettext("The chat starts now."), target=ctx.session.plan.slug)


@command("pause", Access.MODERATORS, N_("stop posting until resume"), live=True)
async def _pause(ctx: Context) -> Outcome:
    if not await ctx.services.steering.pause(ctx.running.id):
        return Outcome(ctx.m.gettext("The chat is already paused."))
    return Outcome(ctx.m.gettext("Paused: nothing is posted until someone sends resume."))


@command(
    "resume", Access.MODERATORS, N_("go on after a pause; what is left moves later"), live=True
)
async def _resume(ctx: Context) -> Outcome:
    pause = await ctx.services.steering.resume(ctx.running.id)
    if pause is None:
        return Outcome(ctx.m.gettext("The chat is not paused."))
    return Outcome(
        ctx.m.gettext(
            "Resumed: everything still to come moves {delay} later.",
            delay=ctx.delay(pause),
        )
    )


@command(
    "ask",
    Access.MODERATORS,
    N_("post an extra question now, e.g. ask What surprised you?"),
    live=True,
)
async def _ask(ctx: Context) -> Outcome:
    text = " ".join(ctx.args.split())
    if not text:
        return Outcome(
            ctx.m.gettext(
                "Write the question after the command, for example “ask What surprised you?”."
            )
        )
    if (refusal := too_long_for_a_question(ctx, text)) is not None:
        return refusal
    number = await ctx.services.steering.ask(ctx.running.id, text)
    return Outcome(
        ctx.m.gettext("Q{n} is posted now.", n=number),
        target=f"Q{number}",
    )


@command("skip", Access.MODERATORS, N_("drop the next question"), live=True)
async def _skip(ctx: Context) -> Outcome:
    number = await ctx.services.steering.skip(ctx.running.id)
    if number is None:
        return Outcome(ctx.m.gettext("There are no more questions to post."))
    return Outcome(ctx.m.gettext("Q{n} is skipped.", n=number), target=f"Q{number}")


@command(
    "extend",
    Access.MODERATORS,
    N_("give the current question more time, e.g. extend 10m"),
    live=True,
)
async def _extend(ctx: Context) -> Outcome:
    try:
        by = parse_duration(ctx.args)
    except ValueError:
        return Outcome(ctx.m.gettext("Say how long, for example “extend 10m”."))
    closing = await ctx.services.steering.extend(ctx.running.id, by)
    return Outcome(
        ctx.m.gettext(
            "Extended by {delay}: the chat now closes at {time}.",
            delay=ctx.delay(by),
            time=ctx.clock(closing),
        )
    )


@command("announce", Access.MODERATORS, N_("post a message in every channel of the community"))
async def _announce(ctx: Context) -> Outcome:
    if not ctx.args:
        return Outcome(
            ctx.m.gettext(
                "Write the announcement after the command, for example"
                " “announce We start in 5 minutes!”."
            )
        )
    reached = 0
    for channel in ctx.community.channels:
        ref = ChannelRef.parse(channel)
        platform = ctx.services.platforms.get(ref.platform)
        if platform is None:
            continue
        try:
            await platform.send(ref, ctx.args)
            reached += 1
        except PlatformError:
            continue
    return Outcome(
        ctx.m.ngettext("Announced in {n} channel.", "Announced in {n} channels.", reached)
    )


@command("end", Access.MODERATORS, N_("close the chat now and publish the transcript"), live=True)
async def _end(ctx: Context) -> Outcome:
    await ctx.services.steering.end(ctx.running.id)
    return Outcome(ctx.m.gettext("The chat is closed and its transcript published."))
