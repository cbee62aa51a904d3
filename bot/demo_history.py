"""The demo community's earlier chats: written through the store's own write paths and
published like any chat, before the live one, so the site has several chats to show."""

from __future__ import annotations

import random
import tomllib
from datetime import datetime, timedelta
from importlib import resources

from bot.config import Config
from bot.publishing import Publisher
from bot.store import MessageWriter, PostState, Store, StoredMessage
from bot.timeline import QuestionPlan, SessionPlan, plan_steps

CHATS = 5
WEEK = timedelta(days=7)


def _plan(config: Config, title: str, questions: list[str], start: datetime) -> SessionPlan:
    c = config.communities[0]
    local_day = start.date().isoformat()  # ``start`` is in the community's zone
    return SessionPlan(
        community=c.id,
        series="demo-history",
        slug=f"{c.id}/{local_day}",
        title=title,
        topic="",
        hashtag=c.hashtag,
        locale=c.locale,
        timezone=c.timezone,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        channels=tuple(c.channels),
        questions=tuple(
            QuestionPlan(i, text, timedelta(minutes=5 + 15 * (i - 1)))
            for i, text in enumerate(questions, 1)
        ),
    )


async def seed_history(config: Config, live_start: datetime, *, seed: int = 7) -> int:
    """``CHATS`` weekly chats before ``live_start``, oldest first; returns how many.

    Each has its own crowd: a few regulars come back every week, newcomers join, so the
    numbers page has returning and first-time participants to tell apart.
    """
    community = config.communities[0]
    data = tomllib.loads(
        (resources.files("bot") / "demo_data" / "history.toml").read_text("utf-8")
    )[community.locale]
    names = tomllib.loads(
        (resources.files("bot") / "demo_data" / "people.toml").read_text("utf-8")
    )["names"]
    rng = random.Random(seed)
    database = config.database
    store = await Store.open(database)
    writer = MessageWriter(database)
    await writer.start()
    try:
        publisher = Publisher(
            store=store,
            writer=writer,
            root=config.resolve(config.bot.transcripts_dir),
            public_url=config.bot.public_url,
        )
        channel = community.channels[0].partition(":")[2]
        for k in range(CHATS, 0, -1):
            start = live_start - k * WEEK
            plan = _plan(config, data["titles"][CHATS - k], data["questions"], start)
            session_id = await store.ensure_session(plan, plan_steps(plan), start - WEEK)
            for q in plan.questions:  # posted, as the runner records its posts
                for key in community.channels:
                    await store.claim_post(session_id, f"q{q.number}", key, start + q.offset)
                    await store.finish_post(
                        session_id,
                        f"q{q.number}",
                        key,
                        PostState.SENT,
                        start + q.offset,
                        message_id=f"history-{k}-q{q.number}",
                    )

            def say(person: int, question: int, text: str, sent: datetime) -> None:
                writer.submit(
                    StoredMessage(
                        session_id=session_id,  # noqa: B023 (used before the loop moves on)
                        platform="local",
                        channel=channel,
                        thread=None,
                        platform_id=f"history-{k}-{person}-{question}",  # noqa: B023
                        author_key=f"local:u{person + 1}",  # the live chat's people
                        author_name=names[person],
                        text=text,
                        sent_at=sent,
                        reply_to=None,
                        url=None,
                        questions=frozenset({question}) if question else frozenset(),
                        received_at=sent,
                    )
                )

            regulars = list(range(4))
            newcomers = rng.sample(range(4, len(names)), 3 + k % 3)
            for i, person in enumerate(regulars + newcomers):
                if i % 3 == 0:
                    say(person, 0, rng.choice(data["chatter"]), start + timedelta(minutes=2))
                for q in plan.questions:
                    if rng.random() < 0.7:
                        sent = start + q.offset + timedelta(seconds=20 + 7 * i)
                        say(person, q.number, f"A{q.number}: {rng.choice(data['answers'])}", sent)
            await writer.flush()
            await store.set_state(session_id, "closed")
            await store.set_transcript_url(session_id, await publisher(session_id))
    finally:
        await writer.close()
        await store.close()
    return CHATS
