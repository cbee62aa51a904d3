"""Chat commands and who may use them: the one place that decides who is a moderator."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from bot import actions, participation, privacy, suggestions
from bot.clock import Clock
from bot.commands import COMMANDS, Access, Context, Outcome, Services
from bot.config import CommunityConfig, Config
from bot.console import chat_commands
from bot.domain import ChannelRef, IncomingMessage, UserRef
from bot.i18n import Messages
from bot.platforms.base import Platform, PlatformError
from bot.rules import Rules, Verdict
from bot.store import SessionRow
from bot.store.audit import Action
from bot.tracker import Admission

# Importing a feature module registers its commands with the registry.
FEATURES = (actions, participation, privacy, suggestions, chat_commands)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str
    explicit: bool  # written as /name: an unknown one deserves an answer


_COMMAND_PREFIXES = ("/", "!", "@")
_SLASH = re.compile(r"\s*[/!](?P<name>[A-Za-z]\w*)(?:@(?P<bot>[\w.]+))?(?:\s+(?P<args>.*))?", re.S)
_MENTION = re.compile(r"\s*@(?P<bot>[\w.@-]+)\s+/?(?P<name>[A-Za-z]\w*)(?:\s+(?P<args>.*))?", re.S)
# Whom a text that starts with an @name addresses: _MENTION's ``bot`` whenever it matches
# (the name is followed by a blank, so the greedy run is never shortened).
_MENTION_HEAD = re.compile(r"\s*@([\w.@-]+)")


def may_be_command(text: str) -> bool:
    """Whether ``text`` starts as a command does (after blanks): nearly every message
    is ruled out by its first character, without a regex or a copy of the text."""
    return text.startswith(_COMMAND_PREFIXES) or (
        text[:1].isspace() and text.lstrip().startswith(_COMMAND_PREFIXES)
    )


@lru_cache(maxsize=64)
def _names(bot_names: frozenset[str]) -> frozenset[str]:
    return frozenset(n.casefold().lstrip("@") for n in bot_names)


def _addresses(bot: str, names: frozenset[str]) -> bool:
    return bot.casefold() in names or bot.split("@")[0].casefold() in names


def parse_command(text: str, bot_names: frozenset[str]) -> Command | None:
    """``/end``, ``/end@hashchatbot``, ``!end`` or ``@hashchat end``; None for anything
    else, including a command addressed to another bot.

    Every reply on Mastodon starts with someone's @name, and a message to someone else is
    told from a command by its name alone (0.4 µs) before the whole text is matched
    (1.3 µs)."""
    if not may_be_command(text):
        return None
    names = _names(bot_names)
    if (head := _MENTION_HEAD.match(text)) and not _addresses(head[1], names):
        return None
    if match := _SLASH.fullmatch(text):
        if match["bot"] and match["bot"].casefold() not in names:
            return None
        explicit = text.lstrip().startswith("/")
    elif (match := _MENTION.fullmatch(text)) and _addresses(match["bot"], names):
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
    """Answers commands in a community's channels; other messages go on to the tracker.

    Every moderator command that runs, and every command that acted on a target, is
    written to the audit log.
    """

    def __init__(self, *, config: Config, services: Services, clock: Clock) -> None:
        self.services = services
        self.clock = clock
        self._rules = {c.id: Rules(c.rules) for c in config.communities}
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

    def admit_at_once(self, platform: Platform, message: IncomingMessage) -> Admission | None:
        """``admit``'s answer when it needs nothing awaited, None when only ``admit`` can
        tell: nearly every message (no command, no rule to apply) is decided here, with
        no coroutine made for it; a message that starts with someone's @name too (every
        Mastodon reply does), once it is clear the name is not the bot's."""
        return self._at_once(platform, self.community_for(message.ref.channel), message)

    def _at_once(
        self, platform: Platform, community: CommunityConfig | None, message: IncomingMessage
    ) -> Admission | None:
        if community is None:
            return Admission.STORE
        text = message.text
        if may_be_command(text) and parse_command(text, platform.bot_names) is not None:
            return None
        if self._ignored(community, message.author):
            return Admission.IGNORE
        return Admission.STORE if self._rules[community.id].empty else None

    async def admit(self, platform: Platform, message: IncomingMessage) -> Admission:
        """Every incoming message passes here first: commands are answered, muted people
        ignored, and during a chat the community's rules applied."""
        community = self.community_for(message.ref.channel)
        at_once = self._at_once(platform, community, message)
        if at_once is not None:
            return at_once
        assert community is not None  # else admitted at once
        command = parse_command(message.text, platform.bot_names)
        if command is not None:
            outcome = await self._run(platform, message, community, command)
            await self._say(platform, message, outcome.reply)
            return Admission.ANSWERED
        # Not a command, so ``_at_once`` found the author neither muted nor opted out,
        # and the community with rules to apply.
        channel = message.ref.channel
        live = self.services.live.for_channel(channel)
        live = live or self.services.live.late_for(channel, message.sent_at, self.clock.now())
        if live is None:
            return Admission.STORE
        verdict = self._rules[community.id].check(message.author.key, message.text, message.sent_at)
        if verdict is None or await is_moderator(
            message.author, message.ref.channel, configured=community.moderators, platform=platform
        ):
            return Admission.STORE
        await self._enforce(platform, message, community, verdict, live.id)
        return Admission.STORE if verdict.action == "warn" else Admission.HIDE

    def _ignored(self, community: CommunityConfig, author: UserRef) -> bool:
        """A muted participant, or one who opted out of being recorded."""
        key = author.key
        return self.services.mutes.is_muted(community.id, key) or key in self.services.optouts

    async def _enforce(
        self,
        platform: Platform,
        message: IncomingMessage,
        community: CommunityConfig,
        verdict: Verdict,
        session_id: int,
    ) -> None:
        if verdict.action == "warn":
            m = Messages(community.locale)
            warning = m.gettext(
                "@{name}: a moderator asks you to keep to the rules of {hashtag}.",
                name=message.author.name or message.author.id,
                hashtag=community.hashtag,
            )
            await self._say(platform, message, f"{warning} ({verdict.reason})")
        elif verdict.action == "delete" and platform.capabilities.delete:
            try:
                await platform.delete(message.ref)
            except PlatformError as exc:
                log.error("rule %s could not delete %s: %s", verdict.rule, message.ref.id, exc)
        await self.services.store.audit.record(
            Action(
                community=community.id,
                session_id=session_id,
                action=verdict.action,
                actor=f"rule:{verdict.rule}",
                actor_name=verdict.rule,
                target=message.author.key,
                reason=verdict.reason,
                at=self.clock.now(),
            )
        )

    async def _say(self, platform: Platform, message: IncomingMessage, text: str) -> None:
        try:
            await platform.send(message.ref.channel, text, reply_to=message.ref.id)
        except PlatformError as exc:
            log.error("could not answer in %s: %s", message.ref.channel, exc)

    async def _run(
        self,
        platform: Platform,
        message: IncomingMessage,
        community: CommunityConfig,
        command: Command,
    ) -> Outcome:
        m = Messages(community.locale)
        spec = COMMANDS.get(command.name)
        if spec is None:
            return Outcome(
                m.gettext(
                    "I do not know “{name}”. Send help to see what I can do.", name=command.name
                )
            )
        moderator = await is_moderator(
            message.author,
            message.ref.channel,
            configured=community.moderators,
            platform=platform,
        )
        if spec.access is Access.MODERATORS and not moderator:
            return Outcome(
                m.gettext(
                    "Sorry, only the moderators of {hashtag} can use “{name}”.",
                    hashtag=community.hashtag,
                    name=command.name,
                )
            )
        return await self.execute(community, message, command, moderator=moderator)

    async def execute(
        self,
        community: CommunityConfig,
        message: IncomingMessage,
        command: Command,
        *,
        moderator: bool,
        session: SessionRow | None = None,
    ) -> Outcome:
        """Run a known command for someone whose rights are decided (here, or by the
        console with the same decision), and audit it: the chat and the console share it.
        ``session``: the chat it is about when the console names one (approve into that
        chat, say); by default the live one, or else the next."""
        m = Messages(community.locale)
        spec = COMMANDS[command.name]
        session = session or await self._session(community)
        if spec.live and (session is None or session.state != "live"):
            return Outcome(m.gettext("No {hashtag} chat is running.", hashtag=community.hashtag))
        store = self.services.store
        steps = [] if session is None else await store.steps(session.id)
        touched = set() if session is None else {k for k, _ in await store.posts(session.id)}
        outcome = await spec.run(
            Context(
                community=community,
                message=message,
                moderator=moderator,
                args=command.args,
                m=m,
                session=session,
                steps=steps,
                pending={s.key for s in steps if s.key not in touched},
                services=self.services,
            )
        )
        # Moderators' commands, and anything that acted on someone or something (a host
        # handing over, say), whoever did it.
        if (moderator and spec.access is Access.MODERATORS) or outcome.target:
            await store.audit.record(
                Action(
                    community=community.id,
                    session_id=None if session is None else session.id,
                    action=command.name,
                    actor=message.author.key,
                    actor_name=message.author.name or message.author.id,
                    target=outcome.target,
                    reason=command.args,
                    at=self.clock.now(),
                )
            )
        return outcome

    async def _session(self, community: CommunityConfig) -> SessionRow | None:
        """The community's live session, or else its next planned one."""
        store = self.services.store
        sessions = [s for s in await store.open_sessions() if s.plan.community == community.id]
        live = [s for s in sessions if s.state == "live"]
        candidates = live or sessions
        return candidates[0] if candidates else None
