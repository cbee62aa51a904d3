"""The numbers page: a community's figures across chats on a seeded store, and the page
that shows them as SVG charts with the same numbers in tables."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import CommunityConfig
from bot.site.stats import render_stats
from bot.store import MessageWriter, Store
from bot.store.backend import Location
from bot.store.backend.sqlite import SqliteDatabase
from bot.store.migrations import migrate
from bot.store.privacy import PrivacyStore
from bot.store.site_figures import SiteFigures
from bot.store.site_stats import CommunityFigures, SiteStatsStore
from bot.store.writer import MessageEdit, MessageHide, MessageRemoval
from tests.site_seed import Said, seed_chat

NOW = datetime(2026, 6, 1, tzinfo=UTC)
A1, A2 = frozenset({1}), frozenset({2})

# Seven weekly chats. gus comes back five chats later: outside the window of four.
CHATS: list[list[Said]] = [
    [
        Said("local:ann", "A1 yes", A1),
        Said("local:ann", "A2 sure", A2),
        Said("local:bob", "A2 me too", A2),
        Said("telegram:cat", "A2 from telegram", A2),
        Said("local:gus", "hi"),
    ],
    [Said("local:ann", "A1 again", A1), Said("discord:dan", "A1 from discord", A1)],
    [Said("mastodon:eve", "kept"), Said("mastodon:eve", "regretted"), Said("local:hid", "spam")],
    [Said("local:fay", "first time")],
    [Said("local:bob", "back")],
    [Said("local:ann", "still here"), Said("local:gus", "back after five")],
    [Said("local:ann", "A1 last", A1), *[Said("local:zed", f"zed {i}") for i in range(6)]],
]


def community(locale: str = "en") -> CommunityConfig:
    return CommunityConfig(
        id="c", hashtag="#c", locale=locale, timezone="Europe/Paris", channels=["local:main"]
    )


@pytest.fixture
async def store(db_location: Location) -> AsyncIterator[Store]:
    """On each backend: SQLite, and PostgreSQL's tallies kept by its own triggers."""
    store = await Store.open(db_location)
    ids = [await seed_chat(store, "c", n, said) for n, said in enumerate(CHATS)]
    await seed_chat(store, "c", 9, [Said("local:ann", "not closed yet")], closed=False)
    await seed_chat(store, "other", 0, [Said("local:ann", "another community")])
    writer = MessageWriter(store.path)
    await writer.start()
    for w in (
        MessageRemoval(platform="mastodon", channel="main", platform_id="2-1", deleted_at=NOW),
        MessageHide(platform="local", channel="main", platform_id="2-2", hidden_at=NOW),
    ):
        writer.submit(w)
    await writer.flush()
    await writer.close()
    await SiteFigures(store.db).follow(ids[2])  # as rewriting its page does (write_page)
    await PrivacyStore(store.db).opt_out("local:zed", NOW)
    try:
        yield store
    finally:
        await store.close()


async def test_first_timers_returning_and_retention_within_the_next_four_chats(
    store: Store,
) -> None:
    f = await SiteStatsStore(store.db).figures("c")
    assert [c.title for c in f.chats] == [f"Chat {n}" for n in range(1, 8)]
    assert [c.messages for c in f.chats] == [5, 2, 1, 1, 1, 2, 7]  # hidden, deleted left out
    assert [c.participants for c in f.chats] == [4, 2, 1, 1, 1, 2, 2]
    assert [c.first_timers for c in f.chats] == [4, 1, 1, 1, 0, 0, 1]
    assert [c.returning for c in f.chats] == [0, 1, 0, 0, 1, 2, 1]
    # chat 1: ann (chat 2) and bob (chat 5) came back; gus only six chats later.
    assert [c.returned for c in f.chats] == [2, 1, 0, 0, 0, 1, 0]
    assert [c.later for c in f.chats] == [4, 4, 4, 3, 2, 1, 0]


async def test_questions_platforms_and_most_active_without_the_opted_out(store: Store) -> None:
    f = await SiteStatsStore(store.db).figures("c")
    assert _questions(f) == [
        ("Chat 1", 2, 3),
        ("Chat 2", 1, 2),
        ("Chat 1", 1, 1),
        ("Chat 7", 1, 1),
    ]
    assert [(p.platform, p.messages, p.participants) for p in f.platforms] == [
        ("local", 16, 5),
        ("discord", 1, 1),
        ("mastodon", 1, 1),
        ("telegram", 1, 1),
    ]
    # zed said most, but opted out: counted in the totals, never named.
    assert f.total_messages == 19
    assert [p.name for p in f.most_active] == ["Ann", "Bob", "Gus", "Dan", "Cat", "Fay", "Eve"]
    assert [(p.messages, p.answers, p.chats) for p in f.most_active[:2]] == [(5, 4, 4), (2, 1, 2)]


async def test_the_figures_follow_edits_deletions_and_forgetme(store: Store) -> None:
    stats = SiteStatsStore(store.db)
    await stats.figures("c")  # cached from here on, until something changes
    writer = MessageWriter(store.path)
    await writer.start()
    writer.submit(
        MessageEdit(
            platform="local",
            channel="main",
            platform_id="4-0",
            text="A1 now an answer",
            questions=A1,
            edited_at=NOW,
        )
    )
    await writer.flush()
    await writer.close()
    f = await stats.figures("c")
    assert ("Chat 5", 1, 1) in _questions(f)
    await PrivacyStore(store.db).forget("local:ann")
    f = await stats.figures("c")
    assert [c.participants for c in f.chats] == [3, 1, 1, 1, 1, 1, 1]
    assert "Ann" not in [p.name for p in f.most_active]


def _questions(f: CommunityFigures) -> list[tuple[str, int, int]]:
    return [(q.chat_title, q.number, q.answers) for q in f.top_questions]


def _svgs(body: str) -> dict[str, ET.Element]:
    found = {}
    for text in re.findall(r"<svg .*?</svg>", body, re.S):
        root = ET.fromstring(text)  # well-formed XML, or this raises
        if root.attrib.get("class") == "chart":  # not a legend's colour key
            found[root.attrib["id"]] = root
    return found


SVG = "{http://www.w3.org/2000/svg}"


def _chart_values(svg: ET.Element, series: int = 0) -> list[int]:
    groups = [g for g in svg.iter(f"{SVG}g") if g.attrib.get("class", "").startswith("chart-s")]
    return [int(r.attrib["data-value"]) for r in groups[series].iter(f"{SVG}rect")]


def _column(body: str, chart: str) -> list[int]:
    cells = re.findall(rf'<td class="n" data-chart="{chart}">([^<]*)</td>', body)
    return [int(re.sub(r"\D", "", c)) for c in cells]


async def test_the_page_draws_charts_whose_numbers_are_those_of_its_tables(store: Store) -> None:
    f = await SiteStatsStore(store.db).figures("c")
    body = render_stats(community(), f)
    svgs = _svgs(body)
    assert set(svgs) >= {
        "chart-messages",
        "chart-people",
        "chart-retention",
        "chart-questions",
        "chart-platforms",
        "chart-active",
    }
    for ident, svg in svgs.items():
        assert svg.attrib["role"] == "img"
        assert svg.find(f"{SVG}title") is not None, ident
        assert svg.find(f"{SVG}desc") is not None, ident
        assert "style" not in svg.attrib
    assert "style=" not in body  # the site's CSP forbids inline style
    assert _chart_values(svgs["chart-messages"]) == _column(body, "chart-messages")
    people = _column(body, "chart-people")
    assert _chart_values(svgs["chart-people"], 0) == people[0::2]  # first-timers
    assert _chart_values(svgs["chart-people"], 1) == people[1::2]  # returning
    assert _chart_values(svgs["chart-questions"]) == _column(body, "chart-questions")
    assert _chart_values(svgs["chart-platforms"]) == _column(body, "chart-platforms")
    assert _chart_values(svgs["chart-active"]) == _column(body, "chart-active")
    assert _chart_values(svgs["chart-retention"]) == [50, 50, 0, 0, 0, 50]
    assert "Zed" not in body


async def test_the_page_speaks_the_community_language(store: Store) -> None:
    body = render_stats(community("fr"), await SiteStatsStore(store.db).figures("c"))
    assert '<html lang="fr">' in body
    assert "Messages par discussion" in body
    assert "7 janv. 2026" in body  # Babel's French date


XSS = [
    "<script>document.title='pwned'</script>",
    '"><img src=x onerror=alert(1)>',
    "</svg><svg onload=alert(1)>",
    "]]><!--",
]


async def test_names_titles_and_questions_from_outside_stay_text(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "x.db")
    try:
        for n, payload in enumerate(XSS):
            await seed_chat(
                store,
                "c",
                n,
                [Said("local:p", "A1 x", A1, name=payload), Said("local:q", "hi", name=payload)],
                questions=[payload],
            )
        body = render_stats(community(), await SiteStatsStore(store.db).figures("c"))
    finally:
        await store.close()
    _svgs(body)  # still well-formed
    for payload in XSS:
        assert payload not in body
    assert "<img" not in body
    assert re.search(r"<svg[^>]*onload", body) is None
    assert "<script>" not in body


async def test_a_database_from_before_the_numbers_is_counted_once_upgraded(
    tmp_path: Path,
) -> None:
    """Migration 6 counts the messages already stored; the triggers count the rest; the
    first read after migration 12 keeps the figures of the chats published before it."""
    path = tmp_path / "old.db"
    db = await SqliteDatabase.open(path)  # a database of the hashchat before migration 6
    await migrate(db, upto=5)
    store = Store(db, path)
    old = await seed_chat(store, "c", 0, CHATS[0], closed=False)
    await db.execute(  # published by that hashchat: no figures kept yet (migration 12)
        "UPDATE sessions SET state = 'closed', transcript_url = 'http://127.0.0.1/c/' WHERE id = ?",
        (old,),
    )
    await db.commit()
    await store.close()
    store = await Store.open(path)  # migrates from 5 on
    try:
        await seed_chat(store, "c", 1, CHATS[1])
        f = await SiteStatsStore(store.db).figures("c")
    finally:
        await store.close()
    assert [c.messages for c in f.chats] == [5, 2]
    assert [c.first_timers for c in f.chats] == [4, 1]
    assert _questions(f)[0] == ("Chat 1", 2, 3)


async def test_a_community_without_chats_says_so(store: Store) -> None:
    f = await SiteStatsStore(store.db).figures("nobody")
    assert (f.chats, f.most_active, f.top_questions) == ((), (), ())
    body = render_stats(community(), f)
    assert "No chat has been published yet." in body
    assert _svgs(body) == {}
