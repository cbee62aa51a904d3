"""Closed chats with messages written straight into a store, for the site's numbers and
links (tests and bench/): a chat is a list of (author key, name, text, questions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.store import Store, StoredMessage
from bot.store.connection import transaction
from bot.store.writer import insert_row, insert_sql
from bot.timeline import QuestionPlan, SessionPlan, plan_steps

FIRST = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Said:
    author: str  # "platform:user-id"
    text: str = "hello"
    questions: frozenset[int] = field(default_factory=frozenset)
    name: str = ""  # defaults to the user id, capitalised


def chat_plan(community: str, n: int, questions: Sequence[str]) -> SessionPlan:
    start = FIRST + timedelta(weeks=n)
    return SessionPlan(
        community=community,
        series="weekly",
        slug=f"{community}/{start:%Y-%m-%d}",
        title=f"Chat {n + 1}",
        hashtag=f"#{community}",
        locale="en",
        timezone="Europe/Paris",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        channels=("local:main",),
        questions=tuple(
            QuestionPlan(i + 1, text, timedelta(minutes=5 + 10 * i))
            for i, text in enumerate(questions)
        ),
    )


async def seed_chat(
    store: Store,
    community: str,
    n: int,
    said: Sequence[Said],
    *,
    questions: Sequence[str] = ("First question?", "Second question?"),
    closed: bool = True,
) -> int:
    """The ``n``-th weekly chat (from 0), with its messages one second apart."""
    plan = chat_plan(community, n, questions)
    session_id = await store.ensure_session(plan, plan_steps(plan), plan.starts_at)
    rows = []
    for i, s in enumerate(said):
        platform, user = s.author.split(":", 1)
        at = plan.starts_at + timedelta(minutes=1, seconds=i)
        rows.append(
            insert_row(
                StoredMessage(
                    session_id=session_id,
                    platform=platform,
                    channel="main",
                    thread=None,
                    platform_id=f"{n}-{i}",
                    author_key=s.author,
                    author_name=s.name or user.capitalize(),
                    text=s.text,
                    sent_at=at,
                    reply_to=None,
                    url=None,
                    questions=s.questions,
                    received_at=at,
                )
            )
        )
    async with transaction(store.db):
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            await store.db.execute(insert_sql(len(chunk)), [v for r in chunk for v in r])
    if closed:
        await store.set_state(session_id, "closed")
        await store.set_transcript_url(session_id, f"http://127.0.0.1/{plan.slug}/")
    return session_id
