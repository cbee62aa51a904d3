"""The local platform with the faults unit tests arrange: sends that fail (before or after
the message went out), hooks around a send, and alerts found at start-up.

One subclass of ``LocalPlatform`` for every test that needs a platform misbehaving, so
the port's ``send`` signature and its pass-through to the real implementation are
written once; a test says what goes wrong as data (``fail``) or by overriding a hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import ChannelRef, MessageRef, UserRef
from bot.platforms.base import Alert, Host
from bot.platforms.local.platform import LocalPlatform

Match = Callable[[ChannelRef, str], bool]


def question_in(number: int, channel_id: str = "main") -> Match:
    """Sends of question ``number`` in the channel ``channel_id``."""
    return lambda channel, text: channel.id == channel_id and text.startswith(f"Q{number}:")


def anything_in(channel_id: str) -> Match:
    return lambda channel, text: channel.id == channel_id


@dataclass
class Fault:
    """Sends that ``match`` raise ``error``. ``posted``: the message went out first (a
    timeout after sending); ``times``: how many sends fail (None: every one, until the
    test clears ``FaultyLocal.faults``)."""

    match: Match
    error: Exception
    posted: bool = False
    times: int | None = 1


class FaultyLocal(LocalPlatform):
    """The local platform whose sends fail as the test's ``faults`` say, with hooks a
    subclass overrides to watch or hold a send."""

    def __init__(self, clock: Clock, *, admins: Iterable[UserRef] = ()) -> None:
        super().__init__(clock, admins=admins)
        self.faults: list[Fault] = []

    def fail(
        self, match: Match, error: Exception, *, posted: bool = False, times: int | None = 1
    ) -> Fault:
        fault = Fault(match, error, posted, times)
        self.faults.append(fault)
        return fault

    async def before_send(self, channel: ChannelRef, text: str, thread_title: str | None) -> None:
        """Called before every send, faulty or not."""

    async def after_send(self, channel: ChannelRef, text: str, ref: MessageRef) -> None:
        """Called after every send that succeeded."""

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        await self.before_send(channel, text, thread_title)
        fault = next(
            (f for f in self.faults if f.times != 0 and f.match(channel, text)),
            None,
        )
        if fault is None or fault.posted:
            ref = await super().send(
                channel,
                text,
                reply_to=reply_to,
                idempotency_key=idempotency_key,
                thread_title=thread_title,
            )
        if fault is not None:
            if fault.times is not None:
                fault.times -= 1
            raise fault.error
        await self.after_send(channel, text, ref)
        return ref


class AlertingLocal(LocalPlatform):
    """Finds the same problems at every start-up and reports them to the host."""

    def __init__(
        self, clock: Clock, alerts: Sequence[Alert], *, admins: Iterable[UserRef] = ()
    ) -> None:
        super().__init__(clock, admins=admins)
        self.alerts = list(alerts)

    async def start(self, host: Host) -> None:
        for alert in self.alerts:
            await host.alert(alert)
