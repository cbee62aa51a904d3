"""The search page as a reader uses it: served by the web server, and exported with its
Pagefind index by ``hashchat site build``."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from bot.i18n import Messages
from bot.site.mount import SiteMount
from bot.store import search as store_search
from bot.store.search import SearchFilters
from bot.transcript.build import build_transcript
from bot.transcript.render import render_html
from bot.web import WebServer
from tests.site_data import Said, Seeder, Source, chat_plan, seeded_store, site_config

MAY = datetime(2026, 5, 6, 11, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, 11, 0, tzinfo=UTC)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)> lantern'


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeder]:
    async with seeded_store(site_config(tmp_path)) as seeder:
        await seeder.past(
            chat_plan(APRIL, title="Tools in April"),
            [Said("ann", "A1: a lantern for the night shift", frozenset({1}))],
        )
        await seeder.past(
            chat_plan(MAY, title="Data in May"),
            [
                Said("bob", XSS, frozenset({2})),
                Said("cat", "l'éducation thérapeutique"),
            ],
        )
        yield seeder


@pytest.fixture
async def base(seeded: Seeder, tmp_path: Path) -> AsyncIterator[str]:
    mount = SiteMount(Source(site_config(tmp_path), seeded.store))
    server = WebServer(tmp_path / "pages", "127.0.0.1", 0, mounts=[mount])
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}/hcsmeu/search/"
    finally:
        await server.close()


async def get(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        assert r.status == 200, url
        assert "script-src 'self';" in r.headers["Content-Security-Policy"]
        return await r.text()


def results(page: str) -> list[str]:
    return re.findall(r'<p class="where"><a href="([^"]+)"', page)


async def test_a_result_shows_its_chat_question_author_and_links_to_its_anchor(base: str) -> None:
    page = await get(base + "?q=lantern")
    assert results(page) == ["../2026-05-06/#m2", "../2026-04-01/#m1"] or results(page) == [
        "../2026-04-01/#m1",
        "../2026-05-06/#m2",
    ]
    assert "Q1 What does partnership mean to you?" in page
    assert "Q2 Which tool helped?" in page
    assert '<strong class="author">Ann</strong>' in page
    assert "<mark>lantern</mark>" in page


async def test_a_message_with_markup_is_shown_as_text(base: str) -> None:
    page = await get(base + "?q=" + quote("alert onerror"))
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;img src=x <mark>onerror</mark>=<mark>alert</mark>(1)&gt;" in page


async def test_filters_narrow_the_results(base: str) -> None:
    assert results(await get(base + "?q=lantern&chat=2026-04-01")) == ["../2026-04-01/#m1"]
    assert results(await get(base + "?q=lantern&question=2")) == ["../2026-05-06/#m2"]
    assert results(await get(base + "?q=lantern&author=BOB")) == ["../2026-05-06/#m2"]
    assert results(await get(base + "?q=lantern&from=2026-05-01")) == ["../2026-05-06/#m2"]
    assert results(await get(base + "?q=lantern&to=2026-04-30")) == ["../2026-04-01/#m1"]
    assert results(await get(base + "?q=educations")) == []
    assert results(await get(base + "?q=EDUCATION")) == ["../2026-05-06/#m3"]
    # The chat filter lists the published chats, newest first.
    page = await get(base)
    assert page.index("Data in May") < page.index("Tools in April")


async def test_an_empty_or_hostile_query_shows_the_form(base: str) -> None:
    page = await get(base)
    assert 'name="q"' in page
    assert "Results" not in page
    for hostile in [
        '"',
        "*",
        "NEAR(",
        "-",
        "a:b",
        "((",
        "%00",
        "&page=zz&question=x&from=1",
        'lantern&author=*"_:',
    ]:
        page = await get(base + "?q=" + hostile)
        assert 'name="q"' in page


async def test_results_come_in_pages(seeded: Seeder, base: str) -> None:
    await seeded.past(
        chat_plan(datetime(2026, 5, 20, 11, 0, tzinfo=UTC), title="Busy"),
        [Said(f"p{i}", f"busy answer {i}") for i in range(25)],
    )
    first = await get(base + "?q=busy+answer")
    assert len(results(first)) == 20
    assert 'rel="next" href="?q=busy+answer&amp;page=2"' in first
    second = await get(base + "?q=busy+answer&page=2")
    assert len(results(second)) == 5
    assert set(results(first)).isdisjoint(results(second))
    assert 'rel="prev"' in second


async def test_the_static_build_carries_a_pagefind_index_and_the_anchors(
    seeded: Seeder, tmp_path: Path
) -> None:
    (tmp_path / "hashchat.toml").write_text(
        '[bot]\ndatabase = "chat.db"\n[[communities]]\nid = "hcsmeu"\nhashtag = "#hcsmeu"\n'
        'timezone = "Europe/Paris"\nchannels = ["local:main"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "site"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "site",
        "build",
        "--config",
        str(tmp_path / "hashchat.toml"),
        "--out",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert f"search index written to {out / 'pagefind'}" in stdout.decode()
    assert (out / "pagefind" / "pagefind.js").is_file()
    assert (out / "pagefind" / "pagefind-entry.json").is_file()
    assert len(list((out / "pagefind" / "fragment").iterdir())) == 2  # one per transcript
    transcript = (out / "hcsmeu" / "2026-05-06" / "index.html").read_text("utf-8")
    assert "data-pagefind-body" in transcript
    assert 'id="m2"' in transcript
    search = (out / "hcsmeu" / "search" / "index.html").read_text("utf-8")
    assert "'wasm-unsafe-eval'" in html.unescape(search)
    assert 'data-bundle="../../pagefind/"' in search
    assert (out / "_site" / "search.js").is_file()


async def test_a_message_under_two_questions_has_one_anchor(seeded: Seeder) -> None:
    session = await seeded.past(
        chat_plan(datetime(2026, 5, 27, 11, 0, tzinfo=UTC), title="Both"),
        [Said("dan", "A1 A2: one answer for both", frozenset({1, 2}))],
    )
    source = await seeded.store.transcript_source(session)
    page = render_html(build_transcript(source), Messages("en"))
    (message,) = source.messages
    assert page.count(f'id="m{message.id}"') == 1
    assert page.count(f'id="m{message.id}-q2"') == 1


async def test_a_common_word_ranks_the_newest_matches_but_never_another_communitys(
    seeded: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_search, "RANKED_AT_MOST", 1)
    alone = SearchFilters(community="hcsmeu")
    hits, _ = await store_search.search(seeded.store.db, "lantern", alone, offset=0, limit=9)
    assert [h.slug for h in hits] == ["hcsmeu/2026-05-06"]  # the newest match only
    await seeded.past(
        chat_plan(datetime(2026, 5, 30, 11, 0, tzinfo=UTC), community="other"),
        [Said("zed", f"lantern {i}") for i in range(3)],
    )
    hits, _ = await store_search.search(seeded.store.db, "lantern", alone, offset=0, limit=9)
    assert sorted(h.slug for h in hits) == ["hcsmeu/2026-04-01", "hcsmeu/2026-05-06"]


async def test_a_filter_finds_a_match_ranked_below_hundreds_of_others(seeded: Seeder) -> None:
    await seeded.past(
        chat_plan(datetime(2026, 5, 13, 11, 0, tzinfo=UTC), title="Crowded"),
        [Said("ida", "A1: crowded", frozenset({1}))]
        + [Said(f"p{i}", "crowded") for i in range(300)],
    )
    filters = SearchFilters(community="hcsmeu", question=1)
    hits, more = await store_search.search(seeded.store.db, "crowded", filters, offset=0, limit=20)
    assert [h.author_name for h in hits] == ["Ida"]
    assert not more
