"""The resources page: links shared in chats, normalised and merged, listed with where
they were shared; never fetched, and inert whatever a participant wrote."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.site.context import SiteContext
from bot.site.links import links, links_view
from bot.site.mount import CSP, SiteMount
from bot.site.urlnorm import extract, normalise
from bot.store import MessageWriter, Store
from bot.store.privacy import PrivacyStore
from bot.store.site_figures import SiteFigures
from bot.store.writer import MessageHide, MessageRemoval
from bot.web import WebServer
from tests.site_data import Source, site_config
from tests.site_seed import Said, seed_chat

NOW = datetime(2026, 6, 1, tzinfo=UTC)
A1, A2 = frozenset({1}), frozenset({2})


@pytest.mark.parametrize(
    ("shared", "listed"),
    [
        ("HTTP://Example.COM:80/a/b/?utm_source=x&b=2&a=1#top", "http://example.com/a/b?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x/", "https://example.com:8443/x"),
        (
            "https://ex.org/p?fbclid=1&gclid=2&mc_eid=3&igshid=4&si=5&ref=6&q=1",
            "https://ex.org/p?q=1",
        ),
        ("https://ex.org/p?UTM_Medium=mail&utm_campaign=x", "https://ex.org/p"),
        ("https://ex.org/caf%c3%a9", "https://ex.org/caf%C3%A9"),
        ("https://ex.org/café", "https://ex.org/caf%C3%A9"),
        ("https://user:secret@ex.org/", "https://ex.org/"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("ftp://ex.org/file", None),
        ("https://ex.org:99999/", None),
        ("https:///nohost", None),
    ],
)
def test_links_are_written_one_way(shared: str, listed: str | None) -> None:
    assert normalise(shared) == listed


def test_links_are_found_in_text_without_the_punctuation_around_them() -> None:
    text = (
        "See (https://en.wikipedia.org/wiki/Foo_(bar)), https://x.org/a. "
        'or "https://y.org/b"! <https://z.org/> and www.not-a-link.org, https://x.org/a again'
    )
    assert extract(text) == [
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://x.org/a",
        "https://y.org/b",
        "https://z.org/",
    ]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any outgoing connection or name lookup is recorded and refused."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("the links page must not reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


async def seeded(tmp: Path) -> Store:
    """hcsmeu's chats: one link shared three ways, and links that must not be listed."""
    config = site_config(tmp)
    store = await Store.open(config.resolve(config.bot.database))
    first = await seed_chat(
        store,
        "hcsmeu",
        0,
        [
            Said("local:ann", "A1 read https://Example.org/guide/?utm_source=tw#intro", A1),
            Said("local:bob", "A2 yes, https://example.org/guide and https://other.net", A2),
            Said("local:hid", "A1 https://hidden.example/", A1),
            Said("local:del", "A1 https://deleted.example/", A1),
            Said("local:zed", "A1 https://opted-out.example/", A1),
        ],
    )
    await seed_chat(
        store, "hcsmeu", 1, [Said("telegram:cat", "https://EXAMPLE.org:443/guide/?fbclid=abc")]
    )
    writer = MessageWriter(store.path)
    await writer.start()
    writer.submit(MessageHide(platform="local", channel="main", platform_id="0-2", hidden_at=NOW))
    writer.submit(
        MessageRemoval(platform="local", channel="main", platform_id="0-3", deleted_at=NOW)
    )
    await writer.flush()
    await writer.close()
    await SiteFigures(store.db).follow(first)  # as rewriting its page does (write_page)
    await PrivacyStore(store.db).opt_out("local:zed", NOW)
    return store


def context(tmp: Path, store: Store) -> SiteContext:
    config = site_config(tmp)
    return SiteContext(
        config=config,
        community=config.communities[0],
        store=store,
        now=NOW,
        transcripts_root=tmp / "pages",
    )


async def test_a_link_shared_three_ways_is_listed_once_with_its_chats_and_questions(
    tmp_path: Path,
) -> None:
    store = await seeded(tmp_path)
    try:
        view = await links_view(context(tmp_path, store), 1)
    finally:
        await store.close()
    assert view is not None
    found = view.links
    assert [(link.url, link.shared) for link in found] == [
        ("https://example.org/guide", 3),
        ("https://other.net/", 1),
    ]
    guide = found[0]
    assert [c.title for c in guide.chats] == ["Chat 1", "Chat 2"]
    assert [(q.chat.title, q.number) for q in guide.questions] == [("Chat 1", 1), ("Chat 1", 2)]


async def test_a_link_whose_scheme_a_phone_capitalised_is_listed(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    store = await Store.open(config.resolve(config.bot.database))
    try:
        await seed_chat(store, "hcsmeu", 0, [Said("local:ann", "A1 Https://Example.org/guide", A1)])
        view = await links_view(context(tmp_path, store), 1)
    finally:
        await store.close()
    assert view is not None
    assert [link.url for link in view.links] == ["https://example.org/guide"]


async def test_the_page_lists_links_without_ever_fetching_one(
    tmp_path: Path, no_network: list[Any]
) -> None:
    store = await seeded(tmp_path)
    try:
        page = await links(context(tmp_path, store), {})
    finally:
        await store.close()
    assert no_network == []
    assert page is not None
    body = page.body
    assert (
        '<a class="url" href="https://example.org/guide" rel="nofollow ugc noopener noreferrer">'
        in body
    )
    assert "shared 3 times" in body
    assert 'href="../2026-01-07/#q1"' in body  # under Q1 of the first chat
    for hidden in ("hidden.example", "deleted.example", "opted-out.example"):
        assert hidden not in body


XSS_TEXTS = [
    "https://ex.org/\"><script>document.title='pwned'</script>",
    "https://ex.org/'onmouseover='alert(1)",
    "javascript:alert(1)//https://ex.org/",
    '<a href="javascript:alert(1)">https://ex.org/x</a>',
    "https://ex.org/<img src=x onerror=alert(1)>",
]


async def test_links_and_texts_from_participants_stay_inert(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    store = await Store.open(config.resolve(config.bot.database))
    await seed_chat(
        store,
        "hcsmeu",
        0,
        [Said("local:p", text, A1) for text in XSS_TEXTS],
        questions=["<script>alert('q')</script>"],
    )
    server = WebServer(
        tmp_path / "pages", "127.0.0.1", 0, mounts=[SiteMount(Source(config, store))]
    )
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.port}/hcsmeu/links/") as r,
        ):
            body, csp = await r.text(), r.headers["Content-Security-Policy"]
    finally:
        await server.close()
        await store.close()
    assert csp == CSP
    assert "<script>" not in body
    assert "<img" not in body
    assert "javascript:" not in body.lower()
    for href in re.findall(r'href="([^"]*)"', body):
        assert href.startswith(("https://", "http://", "../", "./", "#")) or "/" not in href[:1]
    assert re.search(r"""<a [^>]*on\w+=""", body) is None


async def test_the_links_come_fifty_a_page_most_shared_first(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    store = await Store.open(config.resolve(config.bot.database))
    said = [Said("local:ann", f"see https://ex.org/{i}") for i in range(60)]
    await seed_chat(store, "hcsmeu", 0, said)
    await seed_chat(store, "hcsmeu", 1, [Said("local:bob", "again https://ex.org/59")])
    server = WebServer(
        tmp_path / "pages", "127.0.0.1", 0, mounts=[SiteMount(Source(config, store))]
    )
    await server.start()
    base = f"http://127.0.0.1:{server.port}/hcsmeu/links/"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(base) as r:
                first = await r.text()
            async with http.get(f"{base}2/") as r:
                second = await r.text()
            async with http.get(f"{base}3/") as r:
                assert r.status == 404
    finally:
        await server.close()
        await store.close()
    listed = re.findall(r'class="url" href="https://ex.org/(\d+)"', first)
    assert listed == ["59", *map(str, range(49))]  # shared twice, then in order shared
    assert re.findall(r'class="url" href="https://ex.org/(\d+)"', second) == [
        str(i) for i in range(49, 59)
    ]
    assert 'href="2/"' in first
    assert 'rel="next"' in first
    assert '<ol class="links" start="51">' in second
    assert 'rel="prev"' in second
