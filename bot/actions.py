"""Moderators acting on messages and people: hide, delete, warn, mute and unmute."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import Clock
from bot.commands import Access, Context, Outcome, command
from bot.domain import ChannelRef, MessageRef, UserRef
from bot.durations import parse_duration
from bot.i18n import N_
from bot.platforms.base import PlatformError
from bot.store.moderation import MuteStore
from bot.store.writer import MessageHide, MessageRemoval

log = logging.getLogger(__name__)


class Mutes:
    """Checked on every incoming message, so kept in memory and written through."""

    def __init__(self, store: MuteStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._until: dict[tuple[str, str], datetime | None] = {}

    async def load(self) -> None:
        self._until = await self._store.all()

    def is_muted(self, community: str, user: str) -> bool:
        if not self._until:
            return False  # nearly always: no one is muted
        key = (community, user)
        if key not in self._until:
            return False
        until = self._until[key]
        return until is None or until > self._clock.now()

    async def mute(self, community: str, user: str, until: datetime | None) -> None:
        await self._store.mute(community, user, until, self._clock.now())
        self._until[(community, user)] = until

    async def unmute(self, community: str, user: str) -> bool:
        self._until.pop((community, user), None)
        return await self._store.unmute(community, user)


def _replied_message(ctx: Context) -> MessageRef | None:
    reply_to = ctx.message.reply_to
    return None if reply_to is None else MessageRef(ctx.message.ref.channel, reply_to)


async def _author(ctx: Context, ref: MessageRef) -> tuple[str, str] | None:
    await ctx.services.writer.flush()  # it may have arrived a moment ago
    return await MuteStore(ctx.services.store.db).author_of(
        ref.channel.platform, ref.channel.id, ref.id
    )


async def _person(ctx: Context, words: list[str]) -> tuple[str, str] | None:
    """``platform:id``, ``@id`` on the command's own platform, or the replied message's author."""
    for word in words:
        if word.startswith("@") and len(word) > 1:
            return f"{ctx.message.ref.channel.platform}:{word[1:]}", word[1:]
        if ":" in word:
            user = UserRef.parse(word)
            return user.key, user.id
    replied = _replied_message(ctx)
    return None if replied is None else await _author(ctx, replied)


async def _restrict(ctx: Context, user_key: str, until: datetime | None) -> None:
    """Where the platform can stop someone posting, do that too, in every channel of the
    community on that person's platform; elsewhere the mute keeps them out of the record."""
    user = UserRef.parse(user_key)
    for channel in ctx.community.channels:
        ref = ChannelRef.parse(channel)
        platform = ctx.services.platforms.get(ref.platform)
        if ref.platform != user.platform or platform is None:
            continue
        if platform.capabilities.restrict:
            try:
                await platform.restrict(user, ref, until)
            except PlatformError as exc:
                log.error("could not restrict %s in %s: %s", user_key, channel, exc)


def _which_message(ctx: Context) -> Outcome:
    return Outcome(ctx.m.gettext("Reply to the message you mean with this command."))


@command("hide", Access.MODERATORS, N_("reply to a message to keep it out of the transcript"))
async def _hide(ctx: Context) -> Outcome:
    target = _replied_message(ctx)
    if target is None:
        return _which_message(ctx)
    await ctx.services.writer.submit(
        MessageHide(
            platform=target.channel.platform,
            channel=target.channel.id,
            platform_id=target.id,
            hidden_at=ctx.services.clock.now(),
        )
    )
    author = await _author(ctx, target)
    return Outcome(
        ctx.m.gettext("Hidden from the transcript."),
        target=f"message {target.id}" + (f" by {author[0]}" if author else ""),
    )


@command(
    "delete", Access.MODERATORS, N_("reply to a message to delete it, where the platform allows")
)
async def _delete(ctx: Context) -> Outcome:
    target = _replied_message(ctx)
    if target is None:
        return _which_message(ctx)
    author = await _author(ctx, target)
    platform = ctx.services.platforms.get(target.channel.platform)
    deleted = False
    if platform is not None and platform.capabilities.delete:
        try:
            await platform.delete(target)
            deleted = True
        except PlatformError:
            deleted = False
    now = ctx.services.clock.now()
    platform_name, channel = target.channel.platform, target.channel.id
    if deleted:
        removal = MessageRemoval(
            platform=platform_name, channel=channel, platform_id=target.id, deleted_at=now
        )
        await ctx.services.writer.submit(removal)
    else:
        hiding = MessageHide(
            platform=platform_name, channel=channel, platform_id=target.id, hidden_at=now
        )
        await ctx.services.writer.submit(hiding)
    reply = (
        ctx.m.gettext("Deleted, and taken out of the transcript.")
        if deleted
        else ctx.m.gettext(
            "I cannot delete messages here, so I hid it from the transcript instead."
        )
    )
    return Outcome(reply, target=f"message {target.id}" + (f" by {author[0]}" if author else ""))


@command("warn", Access.MODERATORS, N_("reply to a message to warn its author, e.g. warn no ads"))
async def _warn(ctx: Context) -> Outcome:
    target = _replied_message(ctx)
    person = None if target is None else await _author(ctx, target)
    if person is None:
        return _which_message(ctx)
    text = ctx.m.gettext(
        "@{name}: a moderator asks you to keep to the rules of {hashtag}.",
        name=person[1],
        hashtag=ctx.community.hashtag,
    )
    return Outcome(f"{text} {ctx.args}" if ctx.args else text, target=person[0])


@command(
    "mute",
    Access.MODERATORS,
    N_("keep someone's messages out of the transcript, e.g. mute @ann 10m"),
)
async def _mute(ctx: Context) -> Outcome:
    words = ctx.args.split()
    person = await _person(ctx, words)
    if person is None:
        return Outcome(
            ctx.m.gettext("Say whom, for example “mute @ann 10m”, or reply to their message.")
        )
    length = None
    for word in words:
        try:
            length = parse_duration(word)
        except ValueError:
            continue
    until = None if length is None else ctx.services.clock.now() + length
    await ctx.services.mutes.mute(ctx.community.id, person[0], until)
    await _restrict(ctx, person[0], until)
    if length is None:
        reply = ctx.m.gettext(
            "{name} is muted until a moderator unmutes them: their messages stay out of the"
            " transcript.",
            name=person[1],
        )
    else:
        reply = ctx.m.gettext(
            "{name} is muted for {delay}: their messages stay out of the transcript.",
            name=person[1],
            delay=ctx.delay(length),
        )
    return Outcome(reply, target=person[0])


@command("unmute", Access.MODERATORS, N_("undo a mute, e.g. unmute @ann"))
async def _unmute(ctx: Context) -> Outcome:
    person = await _person(ctx, ctx.args.split())
    if person is None:
        return Outcome(
            ctx.m.gettext("Say whom, for example “unmute @ann”, or reply to their message.")
        )
    await _restrict(ctx, person[0], ctx.services.clock.now())  # lifts it where it exists
    if not await ctx.services.mutes.unmute(ctx.community.id, person[0]):
        return Outcome(ctx.m.gettext("{name} was not muted.", name=person[1]), target=person[0])
    return Outcome(ctx.m.gettext("{name} is no longer muted.", name=person[1]), target=person[0])
