"""Chat commands and who may use them: the one place that decides who is a moderator."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.config import CommunityConfig, Config
from bot.domain import ChannelRef, IncomingMessage, UserRef
from bot.i18n import N_, Messages
from bot.live import LiveIndex
from bot.platforms.base import Platform, PlatformError
from bot.runner import Runner
from bot.store import SessionRow, Store
from bot.timeline import SessionPlan

log = logging.getLogger(__name__)


class Access(Enum):
    EVERYONE = "everyone"
    MODERATORS = "moderators"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str
    explicit: bool  # written as /name: an unknown one deserves an answer


_COMMAND_STARTS = frozenset("/!@")
_SLASH = re.compile(r"\s*[/!](?P<name>[A-Za-z]\w*)(?:@(?P<bot>[\w.]+))?(?:\s+(?P<args>.*))?", re.S)
_MENTION = re.compile(r"\s*@(?P<bot>[\w.@-]+)\s+/?(?P<name>[A-Za-z]\w*)(?:\s+(?P<args>.*))?", re.S)


def parse_command(text: str, bot_names: Collection[str]) -> Command | None:
    """``/end``, ``/end@hashchatbot``, ``!end`` or ``@hashchat end``; None for anything
    else, including a command addressed to another bot."""
    if text.lstrip()[:1] not in _COMMAND_STARTS:
        return None  # nearly every message: decided without a regex
    names = {n.casefold().lstrip("@") for n in bot_names}
    if match := _SLASH.fullmatch(text):
        if match["bot"] and match["bot"].casefold() not in names:
            return None
        explicit = text.lstrip().startswith("/")
    elif (match := _MENTION.fullmatch(text)) and (
        match["bot"].casefold() in names or match["bot"].split("@")[0].casefold() in names
    ):
        explicit = True
    else:
        return None
    name = match["name"].lower()
    if name not in COMMANDS and not explicit:
        return None
    return Command(name, (match["args"] or "").strip(), explicit)


async def is_moderator(
    user: UserRef, channel: ChannelRef, *, configured: Collection[str], platform: Platform
) -> bool:
    """The configured moderators, united with the platform's own admins or roles.

    A platform that cannot answer is taken as a no: a moderator can retry, but a
    participant must never steer the chat because a lookup failed.
    """
    if user.key in configured:
        return True
    try:
        return await platform.is_moderator(user, channel)
    except PlatformError as exc:
        log.warning("could not check whether %s moderates %s: %s", user.key, channel, exc)
        return False


class Moderation:
    """Answers commands in a community's channels; other messages go on to the tracker."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        runner: Runner,
        live: LiveIndex,
        platforms: Mapping[str, Platform],
    ) -> None:
        self.config = config
        self.store = store
        self.runner = runner
        self.live = live
        self.platforms = platforms
        # Every incoming message is looked up here, so the config is indexed once.
        self._channels: dict[tuple[str, str], list[tuple[str | None, CommunityConfig]]] = {}
        for community in config.communities:
            for text in [*community.channels, *community.moderator_channels]:
                ref = ChannelRef.parse(text)
                entry = (ref.thread, community)
                self._channels.setdefault((ref.platform, ref.id), []).append(entry)

    def community_for(self, channel: ChannelRef) -> CommunityConfig | None:
        for thread, community in self._channels.get((channel.platform, channel.id), ()):
            if thread is None or thread == channel.thread:
                return community
        return None

    async def handle(self, platform: Platform, message: IncomingMessage) -> bool:
        """True when ``message`` was a command (answered here, kept out of the transcript)."""
        community = self.community_for(message.ref.channel)
        if community is None:
            return False
        command = parse_command(message.text, platform.bot_names)
        if command is None:
            return False
        m = Messages(community.locale)
        moderator = await is_moderator(
            message.author,
            message.ref.channel,
            configured=community.moderators,
            platform=platform,
        )
        access = COMMANDS.get(command.name)
        if access is None:
            reply = m.gettext(
                "I do not know “{name}”. Send help to see what I can do.", name=command.name
            )
        elif access is Access.MODERATORS and not moderator:
            reply = m.gettext(
                "Sorry, only the moderators of {hashtag} can use “{name}”.",
                hashtag=community.hashtag,
                name=command.name,
            )
        else:
            handler = _HANDLERS[command.name]
            reply = await handler(self, community, m, moderator)
        try:
            await platform.send(message.ref.channel, reply, reply_to=message.ref.id)
        except PlatformError as exc:
            log.error("could not answer %s in %s: %s", command.name, message.ref.channel, exc)
        return True

    async def _session(self, community: CommunityConfig) -> SessionRow | None:
        """The community's live session, or else its next planned one."""
        sessions = [s for s in await self.store.open_sessions() if s.plan.community == community.id]
        live = [s for s in sessions if s.state == "live"]
        candidates = live or sessions
        return candidates[0] if candidates else None

    async def _help(self, community: CommunityConfig, m: Messages, moderator: bool) -> str:
        lines = [m.gettext("What you can ask me:")]
        for name, access in COMMANDS.items():
            if access is Access.EVERYONE or moderator:
                lines.append(f"• {name}: {m.gettext(_DESCRIPTIONS[name])}")
        return "\n".join(lines)

    async def _status(self, community: CommunityConfig, m: Messages, moderator: bool) -> str:
        row = await self._session(community)
        if row is None:
            return m.gettext("No chat is planned for {hashtag}.", hashtag=community.hashtag)
        when = _when(row.plan, m)
        if row.state != "live":
            return m.gettext(
                "The next {hashtag} chat, “{title}”, starts on {when}.",
                hashtag=community.hashtag,
                title=row.plan.title,
                when=when,
            )
        live = self.live.get(row.id)
        asked = max(live.posted) if live and live.posted else 0
        following = [q for q in row.plan.questions if q.number > asked]
        if not following:
            return m.gettext(
                "“{title}” is live: all {n} questions have been asked.",
                title=row.plan.title,
                n=len(row.plan.questions),
            )
        due = _clock(row.plan, row.plan.starts_at + following[0].offset, m)
        return m.gettext(
            "“{title}” is live: {asked} of {n} questions asked; Q{next} at {time}.",
            title=row.plan.title,
            asked=asked,
            n=len(row.plan.questions),
            next=following[0].number,
            time=due,
        )

    async def _agenda(self, community: CommunityConfig, m: Messages, moderator: bool) -> str:
        row = await self._session(community)
        if row is None:
            return m.gettext("No chat is planned for {hashtag}.", hashtag=community.hashtag)
        lines = [f"“{row.plan.title}”, {_when(row.plan, m)}"]
        for q in row.plan.questions:
            lines.append(
                f"Q{q.number} ({_clock(row.plan, row.plan.starts_at + q.offset, m)}) {q.text}"
            )
        return "\n".join(lines)

    async def _end(self, community: CommunityConfig, m: Messages, moderator: bool) -> str:
        row = await self._session(community)
        if row is None or row.state != "live":
            return m.gettext("No {hashtag} chat is running.", hashtag=community.hashtag)
        await self.runner.end_now(row.id)
        return m.gettext("The chat is closed and its transcript published.")


def _when(plan: SessionPlan, m: Messages) -> str:
    local = plan.starts_at.astimezone(ZoneInfo(plan.timezone))
    day = format_date(local, format="full", locale=m.locale)
    return f"{day}, {_clock(plan, plan.starts_at, m)}"


def _clock(plan: SessionPlan, when: datetime, m: Messages) -> str:
    local = when.astimezone(ZoneInfo(plan.timezone))
    return f"{format_time(local, format='short', locale=m.locale)} ({plan.timezone})"


Handler = Callable[[Moderation, CommunityConfig, Messages, bool], Awaitable[str]]

COMMANDS: dict[str, Access] = {
    "help": Access.EVERYONE,
    "status": Access.EVERYONE,
    "agenda": Access.EVERYONE,
    "end": Access.MODERATORS,
}
_DESCRIPTIONS = {
    "help": N_("this list"),
    "status": N_("where the chat stands and what comes next"),
    "agenda": N_("the questions and their times"),
    "end": N_("close the chat now and publish the transcript (moderators)"),
}
_HANDLERS: dict[str, Handler] = {
    "help": Moderation._help,
    "status": Moderation._status,
    "agenda": Moderation._agenda,
    "end": Moderation._end,
}
