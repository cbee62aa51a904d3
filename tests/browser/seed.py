"""Past chats put into a store through its normal APIs, and their transcripts published,
so the real ``hashchat run`` started on that store serves a community with a history.

Running a whole chat per past date would take minutes; the store's own writes (a
session, its question posts, the participants' messages, closing, publishing) give the
same rows the bot leaves behind, in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.publishing import Publisher
from bot.store import MessageWriter, PostState, Store, StoredMessage
from bot.timeline import QuestionPlan, SessionPlan, StepKind, plan_steps


@dataclass(frozen=True, slots=True)
class Said:
    """One participant's message, ``minute`` minutes after the start."""

    author: str  # the display name; the author key is derived from it
    text: str
    minute: float
    questions: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class PastChat:
    community: str
    hashtag: str
    timezone: str
    starts_at: datetime
    title: str
    topic: str = ""
    locale: str = "en"
    series: str = "weekly"
    questions: tuple[str, ...] = ()  # question n is asked 10 * n minutes in
    said: tuple[Said, ...] = ()
    channel: str = "local:main"

    def plan(self) -> SessionPlan:
        return SessionPlan(
            community=self.community,
            series=self.series,
            slug=f"{self.community}/{self.starts_at.date().isoformat()}",
            title=self.title,
            topic=self.topic,
            hashtag=self.hashtag,
            locale=self.locale,
            timezone=self.timezone,
            starts_at=self.starts_at,
            ends_at=self.starts_at + timedelta(hours=1),
            channels=(self.channel,),
            questions=tuple(
                QuestionPlan(n, text, timedelta(minutes=10 * n))
                for n, text in enumerate(self.questions, 1)
            ),
        )


async def seed(database: Path, root: Path, public_url: str, chats: Sequence[PastChat]) -> list[str]:
    """Store and publish ``chats``; returns their transcript URLs."""
    store = await Store.open(database)
    writer = MessageWriter(store.path)
    await writer.start()
    urls = []
    try:
        for chat in chats:
            urls.append(await _one(store, writer, root, public_url, chat))
    finally:
        await writer.close()
        await store.close()
    return urls


async def _one(
    store: Store, writer: MessageWriter, root: Path, public_url: str, chat: PastChat
) -> str:
    plan = chat.plan()
    steps = plan_steps(plan)
    session_id = await store.ensure_session(plan, steps, plan.starts_at - timedelta(days=7))
    for step in steps:
        if step.kind is StepKind.REMINDER:
            continue
        await store.claim_post(session_id, step.key, chat.channel, step.due_at)
        await store.finish_post(
            session_id,
            step.key,
            chat.channel,
            PostState.SENT,
            step.due_at,
            message_id=f"bot-{step.key}",
        )
    platform, channel = chat.channel.split(":", 1)
    for n, said in enumerate(chat.said):
        sent = chat.starts_at + timedelta(minutes=said.minute)
        writer.submit(
            StoredMessage(
                session_id=session_id,
                platform=platform,
                channel=channel,
                thread=None,
                platform_id=f"m{n}",
                author_key=f"{platform}:{said.author.casefold().replace(' ', '-')}",
                author_name=said.author,
                text=said.text,
                sent_at=sent,
                reply_to=None,
                url=None,
                questions=said.questions,
                received_at=sent,
            )
        )
    await writer.flush()
    publisher = Publisher(store=store, writer=writer, root=root, public_url=public_url)
    url = await publisher(session_id)
    await store.set_state(session_id, "closed")
    await store.set_transcript_url(session_id, url)
    return url
