"""Discord: chats in server text channels, optionally with a thread per question."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp

from bot.clock import Clock
from bot.config import Config, PlatformSettings
from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef
from bot.platforms.base import (
    TEXT_LIMITS,
    Alert,
    AlertKind,
    Capabilities,
    Host,
    PlatformError,
    ScheduledChat,
)
from bot.platforms.discord.access import check_channels
from bot.platforms.discord.config import read_config
from bot.platforms.discord.endpoint import Endpoint
from bot.platforms.discord.errors import guarded
from bot.platforms.discord.events import EventListing
from bot.platforms.discord.gateway import Gateway, content_granted
from bot.platforms.discord.lib import discord
from bot.platforms.discord.reader import Reader
from bot.platforms.discord.slash import SlashCommands, command_descriptions
from bot.platforms.discord.text import (
    escape,
    is_conversation,
    nonce,
    split,
    thread_name,
    to_incoming,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_TIMEOUT = timedelta(days=28)  # Discord's longest member timeout
THREAD_EXISTS = 160004  # a retried question whose thread was opened the first time


def from_config(
    config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
) -> DiscordPlatform:
    setup = read_config(config, env)
    return DiscordPlatform(
        setup.token,
        clock=clock,
        channels=setup.channels,
        thread_per_question=[int(c) for c in setup.options.thread_per_question],
        moderator_roles=[int(r) for r in setup.options.moderator_roles],
        slash_commands=setup.options.slash_commands,
        api_url=setup.options.api_url,
    )


class DiscordPlatform:
    name = "discord"
    capabilities = Capabilities(
        max_text_length=TEXT_LIMITS["discord"],
        threads=True,
        delete=True,
        restrict=True,
        edit_events=True,
        delete_events=True,
        history=True,
        idempotent_send=True,
        slow_mode=True,
        scheduled_events=True,
    )

    def __init__(
        self,
        token: str,
        *,
        clock: Clock,
        channels: Iterable[int],
        thread_per_question: Iterable[int] = (),
        moderator_roles: Iterable[int] = (),
        slash_commands: bool = True,
        ready_timeout: float = 30.0,
        request_timeout: float = 30.0,
        identify_delay: float = 5.0,
        api_url: str | None = None,
    ) -> None:
        self._token = token
        self.clock = clock
        self.channels = frozenset(channels)
        self.thread_per_question = frozenset(thread_per_question)
        self.moderator_roles = frozenset(moderator_roles)
        self.ready_timeout = ready_timeout
        self.request_timeout = request_timeout
        self.identify_delay = identify_delay
        self.bot_names: frozenset[str] = frozenset()
        self._endpoint = Endpoint(api_url)
        self._client: Gateway | None = None
        self._tree: discord.app_commands.CommandTree | None = None
        self._runner: asyncio.Task[None] | None = None
        self._host: Host | None = None
        self._ready = asyncio.Event()
        self._synced = False
        self._checking: asyncio.Task[None] | None = None
        self._listing = asyncio.Lock()  # one sync at a time reads and writes its cursor
        self._reader = Reader(
            channels=self.channels,
            clock=clock,
            client=self._require_client,
            ready=self._ready,
            ready_timeout=ready_timeout,
        )
        self._slash = SlashCommands(command_descriptions, self._reader.where)
        self._use_slash = slash_commands

    def __repr__(self) -> str:  # never the token
        return f"DiscordPlatform(channels={sorted(self.channels)})"

    # connection --------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        self._host = host
        self._reader.open(host)
        self._ready.clear()  # set again once the servers have arrived
        self._synced = False
        client = await self._login(read_content=True)
        if not content_granted(client.application_flags):
            await client.close()
            await self._cannot_read()
            client = await self._login(read_content=False)
        self._runner = asyncio.create_task(self._run(), name="discord-gateway")
        try:
            async with asyncio.timeout(self.ready_timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("Discord has not sent the servers yet; going on without waiting")

    async def _login(self, *, read_content: bool) -> Gateway:
        client = Gateway(self, read_content=read_content, identify_delay=self.identify_delay)
        if self._use_slash:
            self._tree = self._slash.attach(client, self._reader.put_command)
        self._endpoint.point()
        try:
            await client.login(self._token)
            await self._endpoint.find_gateway(client.http)
        except discord.LoginFailure as exc:
            await client.close()
            raise PlatformError("Discord refused the bot token; check DISCORD token_env") from exc
        except (
            discord.HTTPException,
            discord.GatewayNotFound,
            aiohttp.ClientError,
            OSError,
        ) as exc:
            await client.close()
            where = self._endpoint.api_url or "Discord"
            raise PlatformError(f"could not reach {where}: {exc}", retryable=True) from exc
        self._client = client
        user = client.user
        if user is not None:
            self.bot_names = frozenset({user.name, str(user.id)})
        return client

    async def _run(self) -> None:
        while self._client is not None:
            client = self._client
            try:
                await client.connect(reconnect=True)
                return
            except discord.PrivilegedIntentsRequired:
                await client.close()
                await self._cannot_read()
                await self._login(read_content=False)
            except Exception:
                log.exception("the Discord gateway connection ended")
                return

    async def _cannot_read(self) -> None:
        log.error("the bot's Message Content intent is off: Discord hides what people write")
        if self._host is not None:
            await self._host.alert(Alert(AlertKind.CANNOT_READ))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        for task in (self._runner, self._checking):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._runner = self._checking = None
        self._reader.close()
        self._endpoint.restore()

    def _require_client(self) -> Gateway:
        if self._client is None:
            raise PlatformError("the Discord adapter is not started", retryable=True)
        return self._client

    # gateway listener ------------------------------------------------------------------

    def take_raw(self, data: dict[str, Any]) -> bool:
        return self._reader.take_raw(data)

    def received(
        self,
        item: discord.Message | discord.RawMessageUpdateEvent | discord.RawMessageDeleteEvent,
    ) -> None:
        self._reader.put(item)

    def thread_seen(self, thread: discord.Thread) -> None:
        self._reader.learn_thread(thread)

    def connected(self) -> None:
        self._ready.clear()
        self._reader.catch_up()

    def resumed(self) -> None:
        self._reader.catch_up()

    def guild_available(self) -> None:
        client = self._client
        if client is None or any(g.unavailable for g in client.guilds):
            return
        if not self._ready.is_set():
            self._ready.set()
            self._checking = asyncio.create_task(self._check_access(client), name="discord-access")

    async def _check_access(self, client: Gateway) -> None:
        """Tell the moderators what the bot cannot do where it is meant to run."""
        guilds = await check_channels(client, self.channels, self.thread_per_question, self._alert)
        if self._tree is not None and not self._synced:
            self._synced = True
            try:
                await self._slash.sync(self._tree, guilds)
            except discord.HTTPException as exc:
                log.error("could not offer the slash commands: %s", exc)
                detail = "applications.commands (invite the bot with this scope)"
                await self._alert(Alert(AlertKind.MISSING_PERMISSION, None, detail))

    async def _alert(self, alert: Alert) -> None:
        if self._host is not None:
            await self._host.alert(alert)

    # reading ---------------------------------------------------------------------------

    def events(self) -> AsyncIterator[PlatformEvent]:
        return self._reader.events()

    async def caught_up(self) -> None:
        await self._reader.caught_up()  # the history read at READY is handled

    async def acknowledge(self, event: PlatformEvent) -> None:
        await self.acknowledge_all((event,))

    async def acknowledge_all(self, events: Sequence[PlatformEvent]) -> None:
        await self._reader.acknowledge_all(events)
        if self._slash.waiting:
            for event in events:
                if self._slash.pending(event.ref.id):
                    await self._slash.finish(event.ref.id)

    async def acknowledged(
        self, message_id: str, kind: type[PlatformEvent] = IncomingMessage
    ) -> None:
        """Wait until that event is stored (tests and tools use it)."""
        await self._reader.acknowledged(message_id, kind)

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        client = self._require_client()
        target = client.get_partial_messageable(int(channel.thread or channel.id))
        bot_id = client.user.id if client.user else None

        # From ``since`` itself on: discord.py would start after its last snowflake.
        after = discord.Object(discord.utils.time_snowflake(since) - 1)

        async def read() -> list[IncomingMessage]:
            return [
                to_incoming(message, channel, bot_id=bot_id)
                async for message in target.history(after=after, oldest_first=True, limit=None)
                if message.author.id != bot_id and is_conversation(message)
            ]

        return await self._call(read(), mutation=False)

    # writing ---------------------------------------------------------------------------

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        if self._slash.pending(reply_to):
            assert reply_to is not None
            return await self._call(self._slash.answer(reply_to, channel, escape(text)))
        target = await self._channel(int(channel.thread or channel.id))
        first: discord.Message | None = None
        # Without a key a nonce still guards discord.py's own retries after a 5xx.
        once = uuid.uuid4().hex
        for i, part in enumerate(split(escape(text))):
            reference = None
            if i == 0 and reply_to is not None and reply_to.isdigit():
                reference = discord.MessageReference(
                    message_id=int(reply_to), channel_id=target.id, fail_if_not_exists=False
                )
            sent = await self._call(
                target.send(
                    part,
                    nonce=nonce(idempotency_key or once, i),
                    allowed_mentions=discord.AllowedMentions.none(),
                    reference=reference,  # type: ignore[arg-type]
                )
            )
            first = first or sent
        assert first is not None
        if thread_title and channel.thread is None and int(channel.id) in self.thread_per_question:
            await self._open_thread(first, channel, thread_title)
        return MessageRef(channel, str(first.id), url=first.jump_url)

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """A direct message; Discord refuses (50007) when the person allows none from
        server members, and the caller says so instead."""
        client = self._require_client()
        person = client.get_user(int(user.id))
        if person is None:
            person = await self._call(client.fetch_user(int(user.id)), mutation=False)
        channel = await self._call(person.create_dm())
        first: discord.Message | None = None
        for part in split(escape(text)):
            sent = await self._call(
                channel.send(part, allowed_mentions=discord.AllowedMentions.none())
            )
            first = first or sent
        assert first is not None
        return MessageRef(ChannelRef(self.name, str(channel.id)), str(first.id), url=first.jump_url)

    async def _open_thread(self, message: discord.Message, channel: ChannelRef, title: str) -> None:
        """The question's own thread; without it answers still count by tag and reply."""
        try:
            thread = await self._call(
                message.create_thread(name=thread_name(title), auto_archive_duration=1440)
            )
        except PlatformError as exc:
            cause = exc.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == THREAD_EXISTS:
                return
            log.error("could not open a thread for the question in %s: %s", channel, exc)
            if isinstance(cause, discord.Forbidden):
                detail = "Create Public Threads"
                await self._alert(Alert(AlertKind.MISSING_PERMISSION, channel, detail))
            return
        self._reader.learn_thread(thread)

    async def delete(self, message: MessageRef) -> None:
        channel = message.channel
        target = await self._channel(int(channel.thread or channel.id))
        await self._call(target.get_partial_message(int(message.id)).delete())

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        if user.platform != self.name or not user.id.isdigit():
            return False
        place = await self._channel(int(channel.thread or channel.id))
        member = place.guild.get_member(int(user.id))
        if member is None:
            try:
                member = await self._call(place.guild.fetch_member(int(user.id)), mutation=False)
            except PlatformError as exc:
                if isinstance(exc.__cause__, discord.NotFound):
                    return False  # not (or no longer) in the server
                raise
        if any(role.id in self.moderator_roles for role in member.roles):
            return True
        return place.permissions_for(member).manage_messages

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        """A member timeout: Discord's way to stop someone posting (server-wide, 28 days at
        most; a mute "for good" is renewed by nobody, so it lasts those 28 days)."""
        guild = (await self._channel(int(channel.id))).guild
        member = guild.get_member(int(user.id))
        if member is None:
            member = await self._call(guild.fetch_member(int(user.id)), mutation=False)
        now = self.clock.now()
        lifted = until is not None and until <= now
        end = None if lifted else min(until or now + MAX_TIMEOUT, now + MAX_TIMEOUT)
        await self._call(member.timeout(end))

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        place = await self._channel(int(channel.thread or channel.id))
        if isinstance(place, discord.TextChannel | discord.Thread):
            await self._call(place.edit(slowmode_delay=max(0, min(seconds, 21600))))

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        if self._host is None:
            raise PlatformError("the Discord adapter is not started", retryable=True)
        place = await self._channel(int(channel.id))
        if not isinstance(place, discord.TextChannel):
            raise PlatformError(f"{channel} is not a text channel")
        async with self._listing:
            await self._call(EventListing(self._host, self.clock).sync(place, chats))

    # plumbing ----------------------------------------------------------------------------

    async def _channel(self, channel_id: int) -> discord.TextChannel | discord.Thread:
        client = self._require_client()
        found = client.get_channel(channel_id)
        if found is None:
            found = await self._call(client.fetch_channel(channel_id), mutation=False)
        if not isinstance(found, discord.TextChannel | discord.Thread):
            raise PlatformError(f"Discord channel {channel_id} is not a text channel or thread")
        return found

    async def _call(self, request: Awaitable[T], *, mutation: bool = True) -> T:
        return await guarded(request, seconds=self.request_timeout, mutation=mutation)
