"""The numbers kept per chat (bot/store/site_figures.py) equal the numbers counted from
scratch over every chat's tallies, after each way a community's chats change: chats
published one by one, one published between others, a message hidden and shown again, a
deletion, forgetme, opt-out and a retention purge; on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.store import MessageWriter, Store
from bot.store.backend import Location
from bot.store.console_moderation import unhide
from bot.store.privacy import PrivacyStore
from bot.store.site_figures import SiteFigures
from bot.store.site_stats import SiteStatsStore
from bot.store.writer import MessageHide, MessageRemoval
from tests.site_figures_reference import Figures, from_scratch
from tests.site_seed import Said, seed_chat

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PEOPLE = [f"{p}:u{i}" for i in range(9) for p in ("local", "telegram", "discord")][:14]


def chat(rng: random.Random) -> list[Said]:
    """A few of the people, some coming often, some rarely; some answers."""
    regulars = PEOPLE[: rng.randint(2, 6)]
    some = regulars + rng.sample(PEOPLE, rng.randint(0, 4))
    said = []
    for i in range(rng.randint(1, 12)):
        answer = frozenset({rng.randint(1, 2)}) if rng.random() < 0.5 else frozenset()
        said.append(Said(rng.choice(some), f"m{i}", answer))
    return said


async def kept(store: Store) -> Figures:
    f = await SiteStatsStore(store.db).figures("c", cached=False)
    return (
        [(c.messages, c.participants, c.first_timers, c.returned) for c in f.chats],
        [(p.platform, p.messages, p.participants) for p in f.platforms],
        [(p.author_key, p.messages, p.answers, p.chats) for p in f.most_active],
    )


async def same(store: Store) -> Figures:
    figures = await kept(store)
    assert figures == await from_scratch(store.db, "c", chats=len(figures[0]))
    return figures


@pytest.fixture
async def store(db_location: Location) -> AsyncIterator[Store]:
    store = await Store.open(db_location)
    try:
        yield store
    finally:
        await store.close()


async def _writes(store: Store, *writes: MessageHide | MessageRemoval) -> None:
    writer = MessageWriter(store.path)
    await writer.start()
    for w in writes:
        writer.submit(w)
    await writer.flush()
    await writer.close()


async def test_kept_figures_equal_a_count_from_scratch_after_every_change(store: Store) -> None:
    rng = random.Random(5)
    ids = []
    for n in range(0, 24, 2):  # published one by one, each read at once: nothing to sync
        ids.append(await seed_chat(store, "c", n, chat(rng)))
        await same(store)
    await seed_chat(store, "other", 0, [Said("local:u0", "elsewhere")])
    await same(store)

    # A chat published between two others: every rank after it moves.
    ids.insert(3, await seed_chat(store, "c", 5, chat(rng)))
    await same(store)

    # A moderator hides a message of a published chat and its page is written again;
    # then a deletion on the platform; then the hide undone.
    (p1, i1), (p2, i2) = await store.db.fetchall(
        "SELECT platform, platform_id FROM messages WHERE session_id = ? ORDER BY id LIMIT 2",
        (ids[4],),
    )
    await _writes(
        store,
        MessageHide(platform=p1, channel="main", platform_id=i1, hidden_at=NOW),
        MessageRemoval(platform=p2, channel="main", platform_id=i2, deleted_at=NOW),
    )
    await SiteFigures(store.db).follow(ids[4])  # what write_page does after writing it
    hidden = await same(store)
    row = await store.db.fetchone("SELECT id FROM messages WHERE hidden_at IS NOT NULL")
    assert row is not None
    await unhide(store.db, "c", int(row[0]))
    await SiteFigures(store.db).follow(ids[4])
    assert await same(store) != hidden

    # The most active person forgets: they leave every chat's figures at once.
    top = (await kept(store))[2][0][0]
    await PrivacyStore(store.db).forget(top)
    after = await same(store)
    assert top not in [p[0] for p in after[2]]

    # Opting out keeps the counts and names nobody who opted out.
    second = after[2][0][0]
    await PrivacyStore(store.db).opt_out(second, NOW)
    opted = await same(store)
    assert second not in [p[0] for p in opted[2]]
    assert opted[0] == after[0]

    # Retention takes the oldest chat down: the ranks of all the others move.
    await PrivacyStore(store.db).purge(ids[0])
    purged = await same(store)
    assert len(purged[0]) == len(after[0]) - 1


async def test_a_chat_published_without_the_figures_following_is_taken_in_when_read(
    store: Store,
) -> None:
    """A chat published by other means (an older hashchat, a copy of the database) is
    counted on the next read."""
    await seed_chat(store, "c", 0, [Said("local:ann"), Said("local:bob")])
    session = await seed_chat(store, "c", 1, [Said("local:ann")], closed=False)
    async with store.db.transaction():
        await store.db.execute(
            "UPDATE sessions SET state = 'closed', transcript_url = 'http://x/' WHERE id = ?",
            (session,),
        )
    figures = await same(store)
    assert figures[0] == [(2, 2, 2, 1), (1, 1, 0, 0)]


async def test_hiding_someone_s_only_message_of_their_first_chat_makes_the_next_their_first(
    store: Store,
) -> None:
    first = await seed_chat(store, "c", 0, [Said("local:ann"), Said("local:bob")])
    await seed_chat(store, "c", 1, [Said("local:ann"), Said("local:cat")])
    assert (await same(store))[0] == [(2, 2, 2, 1), (2, 2, 1, 0)]
    await _writes(
        store, MessageHide(platform="local", channel="main", platform_id="0-0", hidden_at=NOW)
    )
    await SiteFigures(store.db).follow(first)
    assert (await same(store))[0] == [(1, 1, 1, 0), (2, 2, 2, 0)]


async def test_a_count_that_fails_never_undoes_a_publication_and_is_redone_when_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_chat(store, "c", 0, [Said("local:ann"), Said("local:bob")])

    async def broken(*args: object) -> None:
        raise RuntimeError("a fault while counting")

    with monkeypatch.context() as m:
        m.setattr(SiteFigures, "_chat", broken)
        session = await seed_chat(store, "c", 1, [Said("local:ann")])  # no error raised
    assert (await store.session(session)).transcript_url is not None
    assert (await same(store))[0] == [(2, 2, 2, 1), (1, 1, 0, 0)]


async def test_people_are_named_as_the_latest_published_transcript_shows_them(
    store: Store,
) -> None:
    await seed_chat(store, "c", 0, [Said("local:ann", name="Ann")])
    second = await seed_chat(store, "c", 1, [Said("local:ann", name="Ann B."), Said("local:bob")])
    f = await SiteStatsStore(store.db).figures("c", cached=False)
    assert [p.name for p in f.most_active] == ["Ann B.", "Bob"]
    await _writes(
        store, MessageHide(platform="local", channel="main", platform_id="1-0", hidden_at=NOW)
    )
    await SiteFigures(store.db).follow(second)
    f = await SiteStatsStore(store.db).figures("c", cached=False)
    assert [p.name for p in f.most_active] == ["Ann", "Bob"]
