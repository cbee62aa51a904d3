"""Which sessions are live in which channels, and which question each posted message is."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import ChannelRef, MessageRef
from bot.timeline import SessionPlan


@dataclass(slots=True)
class LiveSession:
    id: int
    plan: SessionPlan
    channels: frozenset[ChannelRef]
    posted: set[int] = field(default_factory=set)
    # (platform, channel id, message id) of each question's post, to attribute replies.
    question_posts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def locales(self) -> tuple[str, ...]:
        """Whose answer tags count: both languages of a bilingual community."""
        second = self.plan.second_locale
        return (self.plan.locale,) if second is None else (self.plan.locale, second)

    def covers(self, channel: ChannelRef) -> bool:
        return any(
            c.platform == channel.platform
            and c.id == channel.id
            and (c.thread is None or c.thread == channel.thread)
            for c in self.channels
        )

    def question_for(self, channel: ChannelRef, reply_to: str | None) -> int | None:
        """The question replied to, or whose thread the message is in (a thread often
        shares its starting message's id, as on Discord)."""
        for target in (reply_to, channel.thread):
            if target is not None:
                number = self.question_posts.get((channel.platform, channel.id, target))
                if number is not None:
                    return number
        return None


class LiveIndex:
    """Read by the tracker on every message, so lookups stay in memory."""

    def __init__(self) -> None:
        self._sessions: dict[int, LiveSession] = {}

    def open(self, session_id: int, plan: SessionPlan) -> LiveSession:
        live = self._sessions.get(session_id)
        if live is None:
            channels = frozenset(ChannelRef.parse(c) for c in plan.channels)
            live = self._sessions[session_id] = LiveSession(session_id, plan, channels)
        return live

    def close(self, session_id: int) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: int) -> LiveSession | None:
        return self._sessions.get(session_id)

    def for_channel(self, channel: ChannelRef) -> LiveSession | None:
        for live in self._sessions.values():
            if live.covers(channel):
                return live
        return None

    def question_posted(self, session_id: int, number: int, ref: MessageRef) -> None:
        live = self._sessions.get(session_id)
        if live is not None:
            live.posted.add(number)
            live.question_posts[(ref.channel.platform, ref.channel.id, ref.id)] = number
