"""Which sessions are live in which channels, and which question each posted message is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import ChannelRef, MessageRef
from bot.own_posts import question_of_post
from bot.store import PostState, StepRow
from bot.store.store import PostRow
from bot.texts import Texts
from bot.timeline import SessionPlan

# How long after a chat's end a message sent during it is still added to its transcript:
# answers sent in the last seconds can reach the bot late (a restart, a slow platform).
LATE_WINDOW = timedelta(hours=1)


@dataclass(slots=True)
class LiveSession:
    id: int
    plan: SessionPlan
    channels: frozenset[ChannelRef]
    # Questions whose number was announced, or may have been (a send whose outcome is
    # not known): answers to them count.
    announced: set[int] = field(default_factory=set)
    # (question, channel) of each send under way: a tag that arrives while the question
    # is being posted answers it, as participants may see it before the bot hears back.
    in_flight: set[tuple[int, str]] = field(default_factory=set)
    # (platform, channel id, message id) of each question's post, to attribute replies.
    question_posts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # The transcript is (being) written: a message stored from now on has it rebuilt.
    built: bool = False
    # Set once the chat has closed: the span of time whose messages belong to it.
    started_at: datetime | None = None
    ended_at: datetime | None = None
    # ``posted`` as last worked out: read for every message, changed by a send.
    _posted: frozenset[int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def posted(self) -> frozenset[int]:
        """The questions a message may answer. Change them through ``claimed`` and
        ``settled`` only: the answer is kept until one of them is called."""
        posted = self._posted
        if posted is None:
            posted = frozenset(self.announced.union(number for number, _ in self.in_flight))
            self._posted = posted
        return posted

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

    def unconfirmed_question(self, channel: ChannelRef, bot_text: str) -> int | None:
        """The question whose post ``bot_text`` (the bot's own post a reply names) is,
        when its post in ``channel`` counts as posted but its id is not known: the
        send was cut off, so only this evidence can tie replies to it."""
        texts = Texts(self.plan)
        number = question_of_post(
            bot_text, {q.number: texts.question(q.number) for q in self.plan.questions}
        )
        if number is None or number not in self.posted:
            return None
        known = (channel.platform, channel.id)
        if any(key[:2] == known and n == number for key, n in self.question_posts.items()):
            return None  # its id is known: a reply to another post is not to it
        return number

    def post_channel(self, channel: ChannelRef) -> str | None:
        """The configured channel (as posts are stored) where ``channel``'s messages are."""
        for c in sorted(self.channels, key=lambda c: c.thread is None):
            same = c.platform == channel.platform and c.id == channel.id
            if same and (c.thread is None or c.thread == channel.thread):
                return str(c)
        return None

    def claimed(self, number: int, channel: str) -> None:
        self.in_flight.add((number, channel))
        self._posted = None

    def settled(
        self, number: int, channel: str, *, shown: bool, ref: MessageRef | None = None
    ) -> None:
        """The send in ``channel`` is over: ``shown`` if the question was (or may have
        been) posted, not if the platform refused it."""
        self.in_flight.discard((number, channel))
        if shown:
            self.announced.add(number)
        self._posted = None
        if ref is not None:
            self.question_posts[(ref.channel.platform, ref.channel.id, ref.id)] = number

    def takes_late(self, sent_at: datetime, now: datetime) -> bool:
        """Whether a message that arrives after the close still belongs to this chat."""
        if self.ended_at is None or now > self.ended_at + LATE_WINDOW:
            return False
        return (self.started_at is None or sent_at >= self.started_at) and sent_at <= self.ended_at


def replay_posts(live: LiveSession, steps: Iterable[StepRow], posts: Iterable[PostRow]) -> None:
    """Restore which questions count, from the stored posts, after a restart."""
    by_key = {s.key: s for s in steps}
    for post in posts:
        step = by_key.get(post.step_key)
        if step is None or step.question is None:
            continue
        if post.state is PostState.SENDING:
            live.claimed(step.question, post.channel)
        elif post.state in (PostState.SENT, PostState.UNCERTAIN):
            ref = None
            if post.message_id:
                ref = MessageRef(ChannelRef.parse(post.channel), post.message_id)
            live.settled(step.question, post.channel, shown=True, ref=ref)


_CACHED_CHANNELS = 10_000


class LiveIndex:
    """Read by the tracker on every message, so lookups stay in memory."""

    def __init__(self) -> None:
        self._sessions: dict[int, LiveSession] = {}
        self._closed: dict[int, LiveSession] = {}  # closed within LATE_WINDOW
        # for_channel's answers (asked twice per message: by the gate and the tracker),
        # forgotten whenever a session opens or closes.
        self._by_channel: dict[ChannelRef, LiveSession | None] = {}
        # The open sessions in each room (platform, channel id, any thread), in the order
        # they opened: a lookup the cache has forgotten reads its room's, not them all
        # (a thousand chats opening and closing made each such lookup scan a thousand).
        self._by_room: dict[tuple[str, str], list[LiveSession]] = {}

    def open(self, session_id: int, plan: SessionPlan) -> LiveSession:
        live = self._sessions.get(session_id)
        if live is None:
            channels = frozenset(ChannelRef.parse(c) for c in plan.channels)
            live = self._sessions[session_id] = LiveSession(session_id, plan, channels)
            for room in {(c.platform, c.id) for c in channels}:
                self._by_room.setdefault(room, []).append(live)
            self._by_channel.clear()
        return live

    def close(
        self,
        session_id: int,
        *,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
    ) -> None:
        """Stop recording the session; with ``ended_at``, messages sent until then that
        arrive late are still taken for it, for :data:`LATE_WINDOW`."""
        live = self._sessions.pop(session_id, None)
        self._by_channel.clear()
        if live is not None:
            for room in {(c.platform, c.id) for c in live.channels}:
                rest = [other for other in self._by_room[room] if other is not live]
                if rest:
                    self._by_room[room] = rest
                else:
                    del self._by_room[room]
        if live is not None and ended_at is not None:
            live.started_at, live.ended_at = started_at, ended_at
            live.built = True
            self._closed[session_id] = live

    def closed_recently(
        self, session_id: int, plan: SessionPlan, started_at: datetime, ended_at: datetime
    ) -> LiveSession:
        """A session closed before a restart, still taking late messages."""
        self.open(session_id, plan)
        self.close(session_id, started_at=started_at, ended_at=ended_at)
        return self._closed[session_id]

    def get(self, session_id: int) -> LiveSession | None:
        return self._sessions.get(session_id)

    def get_closed(self, session_id: int, now: datetime) -> LiveSession | None:
        """A closed session whose transcript still takes late edits and deletions."""
        live = self._closed.get(session_id)
        if live is None or live.ended_at is None or now > live.ended_at + LATE_WINDOW:
            self._closed.pop(session_id, None)
            return None
        return live

    def has_closed(self, now: datetime) -> bool:
        """Whether any chat still takes late edits and deletions."""
        for session_id in list(self._closed):
            self.get_closed(session_id, now)
        return bool(self._closed)

    def for_channel(self, channel: ChannelRef) -> LiveSession | None:
        try:
            return self._by_channel[channel]
        except KeyError:
            pass
        room = self._by_room.get((channel.platform, channel.id), ())
        found = next((live for live in room if live.covers(channel)), None)
        if len(self._by_channel) >= _CACHED_CHANNELS:
            self._by_channel.clear()
        self._by_channel[channel] = found
        return found

    def late_for(self, channel: ChannelRef, sent_at: datetime, now: datetime) -> LiveSession | None:
        """The closed session a late message in ``channel`` belongs to, if any."""
        for session_id, live in list(self._closed.items()):
            if live.ended_at is not None and now > live.ended_at + LATE_WINDOW:
                del self._closed[session_id]
            elif live.covers(channel) and live.takes_late(sent_at, now):
                return live
        return None

    def transcript_built(self, session_id: int) -> None:
        live = self._sessions.get(session_id)
        if live is not None:
            live.built = True

    def question_claimed(self, session_id: int, number: int, channel: str) -> None:
        live = self._sessions.get(session_id)
        if live is not None:
            live.claimed(number, channel)

    def question_settled(
        self,
        session_id: int,
        number: int,
        channel: str,
        *,
        shown: bool,
        ref: MessageRef | None = None,
    ) -> None:
        live = self._sessions.get(session_id)
        if live is not None:
            live.settled(number, channel, shown=shown, ref=ref)
