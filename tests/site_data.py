"""A community with chats in its store, written through the store's own write paths, for
the site's tests (home, search, numbers, links and feeds all read the same data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.store import MessageWriter, Store, StoredMessage
from bot.store.participation import HostRota
from bot.timeline import QuestionPlan, SessionPlan, plan_steps

PARIS = ZoneInfo("Europe/Paris")

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def site_config(tmp: Path, *, settings: str = "", locale: str = "en") -> Config:
    """One community, #hcsmeu in Paris; ``settings`` go into its table."""
    (tmp / "agenda.toml").write_text('title = "T"\n[[questions]]\ntext = "Q"\nat = "10m"\n')
    text = f"""
[bot]
database = "chat.db"
transcripts_dir = "pages"
public_url = "http://127.0.0.1:1"

[[communities]]
id = "hcsmeu"
name = "Healthcare social media Europe"
hashtag = "#hcsmeu"
locale = "{locale}"
timezone = "Europe/Paris"
channels = ["local:main"]
{settings}
"""
    (tmp / "hashchat.toml").write_text(text, encoding="utf-8")  # for the commands' tests
    return parse_config(text, source=str(tmp / "hashchat.toml"), base_dir=tmp)


@dataclass(frozen=True, slots=True)
class Said:
    author: str  # the user id on the local platform; the name is its capitalised form
    text: str
    questions: frozenset[int] = field(default_factory=frozenset)


def chat_plan(
    starts_at: datetime,
    *,
    title: str = "Patients as partners",
    topic: str = "",
    community: str = "hcsmeu",
    series: str = "monthly",
    locale: str = "en",
    questions: Sequence[str] = ("What does partnership mean to you?", "Which tool helped?"),
) -> SessionPlan:
    # The local day, as the planner names a chat (bot/planning.py): a UTC day made the
    # home page's calendar link name another day than the feed between 23:00 and 24:00 UTC.
    day = starts_at.astimezone(PARIS).date().isoformat()
    return SessionPlan(
        community=community,
        series=series,
        slug=f"{community}/{day}",
        title=title,
        topic=topic,
        hashtag=f"#{community}",
        locale=locale,
        timezone="Europe/Paris",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        channels=("local:main",),
        questions=tuple(
            QuestionPlan(n, text, timedelta(minutes=10 * n)) for n, text in enumerate(questions, 1)
        ),
    )


class Seeder:
    """Writes chats as the bot would: the session planned, messages through the writer,
    closed, its transcript link stored."""

    def __init__(self, store: Store, writer: MessageWriter) -> None:
        self.store = store
        self.writer = writer
        self._ids = 0

    async def past(self, plan: SessionPlan, said: Sequence[Said] = ()) -> int:
        session_id = await self.store.ensure_session(plan, plan_steps(plan), NOW)
        for i, s in enumerate(said):
            self._ids += 1
            sent = plan.starts_at + timedelta(minutes=1 + i)
            self.writer.submit(
                StoredMessage(
                    session_id=session_id,
                    platform="local",
                    channel="main",
                    thread=None,
                    platform_id=str(self._ids),
                    author_key=f"local:{s.author}",
                    author_name=s.author.capitalize(),
                    text=s.text,
                    sent_at=sent,
                    reply_to=None,
                    url=None,
                    questions=s.questions,
                    received_at=sent,
                )
            )
        await self.writer.flush()
        await self.store.set_state(session_id, "closed")
        await self.store.set_transcript_url(session_id, f"http://127.0.0.1:1/{plan.slug}/")
        return session_id

    async def coming(self, plan: SessionPlan, host: str | None = None) -> int:
        session_id = await self.store.ensure_session(plan, plan_steps(plan), NOW)
        if host is not None:
            await HostRota(self.store.db).assign(session_id, host)
        return session_id


@asynccontextmanager
async def seeded_store(config: Config) -> AsyncIterator[Seeder]:
    database = config.resolve(config.bot.database)
    store = await Store.open(database)
    writer = MessageWriter(database)
    await writer.start()
    try:
        yield Seeder(store, writer)
    finally:
        await writer.close()
        await store.close()


class Source:
    """What the site mount reads, without a whole App."""

    def __init__(self, config: Config, store: Store, now: datetime = NOW) -> None:
        self.config = config
        self.store = store
        self.clock = ManualClock(now)
        self.transcripts_root = config.resolve(config.bot.transcripts_dir)
