"""The community site's home: its next and past chats, its description and channels,
served with a strict CSP; rendered from plain data with every outside text escaped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.config import parse_config
from bot.errors import ConfigError
from bot.site.channels import channel_links
from bot.site.home import HomeView, NextChat, PastChat, render_home
from bot.site.mount import CSP, SiteMount
from bot.web import WebServer
from tests.site_data import NOW, Said, Seeder, Source, chat_plan, seeded_store, site_config

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeder]:
    async with seeded_store(site_config(tmp_path)) as seeder:
        yield seeder


class Served:
    def __init__(self, seeder: Seeder, tmp: Path) -> None:
        source = Source(site_config(tmp), seeder.store)
        self.server = WebServer(tmp / "pages", "127.0.0.1", 0, mounts=[SiteMount(source)])

    async def __aenter__(self) -> Served:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    async def get(self, path: str) -> tuple[int, str, str]:
        url = f"http://127.0.0.1:{self.server.port}{path}"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            return r.status, await r.text(), r.headers.get("Content-Security-Policy", "")


async def test_the_home_page_lists_the_next_chat_and_the_past_ones_with_a_strict_csp(
    seeded: Seeder, tmp_path: Path
) -> None:
    await seeded.past(
        chat_plan(datetime(2026, 5, 6, 11, 0, tzinfo=UTC), title="Data in May"),
        [Said("ann", "A1 consent", frozenset({1})), Said("bob", "hello")],
    )
    soon = chat_plan(NOW + timedelta(days=2), title="Patients in June", topic="Co-design")
    await seeded.coming(soon, host="local:ann")
    later = chat_plan(NOW + timedelta(days=30), title="Patients in July")
    await seeded.coming(later, host="local:12345")  # never wrote: no name to show
    async with Served(seeded, tmp_path) as site:
        status, body, csp = await site.get("/hcsmeu/")
        css_status, css, css_csp = await site.get("/_site/site.css")
    assert status == 200
    assert csp == CSP
    assert "unsafe-inline" not in csp
    assert "Patients in June" in body
    assert "Co-design" in body
    assert "Hosted by Ann" in body  # the name Ann wrote under
    assert "Patients in July" in body
    assert "12345" not in body
    assert 'datetime="2026-06-03T09:00:00Z"' in body  # the reader's zone comes from this
    assert 'href="calendar/monthly-2026-06-03@hcsmeu.hashchat.ics"' in body
    assert 'href="calendar.ics"' in body
    assert "Data in May" in body
    assert 'href="2026-05-06/"' in body
    assert "<style" not in body
    assert "style=" not in body
    assert "<script>" not in body.replace('<script src="../_site/site.js" defer></script>', "")
    assert (css_status, css_csp) == (200, CSP)
    assert "prefers-color-scheme: dark" in css


async def test_past_chats_show_their_participants_and_answers_newest_first(
    seeded: Seeder, tmp_path: Path
) -> None:
    said = [
        Said("ann", "A1 one", frozenset({1})),
        Said("ann", "A2 two", frozenset({2})),
        Said("bob", "just chatting"),
        Said("cy", "A1 three", frozenset({1})),
    ]
    await seeded.past(chat_plan(datetime(2026, 4, 1, 11, tzinfo=UTC), title="April"), said)
    await seeded.past(chat_plan(datetime(2026, 5, 6, 11, tzinfo=UTC), title="May"), said[:1])
    async with Served(seeded, tmp_path) as site:
        _, body, _ = await site.get("/hcsmeu/")
    assert body.index("May") < body.index("April")
    april = body[body.index("April") :].split("</tr>")[0]
    assert '>3</td><td class="n" data-label="Answers">3</td>' in april  # 3 people, 3 answers


async def test_older_chats_are_paginated_twenty_per_page(seeded: Seeder, tmp_path: Path) -> None:
    first = datetime(2025, 1, 1, 11, tzinfo=UTC)
    for n in range(45):
        await seeded.past(chat_plan(first + timedelta(days=7 * n), title=f"Chat number {n:02d}"))
    async with Served(seeded, tmp_path) as site:
        _, home, _ = await site.get("/hcsmeu/")
        _, two, _ = await site.get("/hcsmeu/past/2/")
        _, three, _ = await site.get("/hcsmeu/past/3/")
        missing = [(await site.get(p))[0] for p in ("/hcsmeu/past/4/", "/hcsmeu/past/1/")]
        missing.append((await site.get("/hcsmeu/past/02/"))[0])
    assert "Chat number 44" in home
    assert "Chat number 25" in home
    assert "Chat number 24" not in home
    assert 'href="past/2/"' in home
    assert "Chat number 24" in two
    assert "Chat number 05" in two
    assert 'href="../../"' in two  # newer: back to the home
    assert 'href="../3/"' in two
    assert "Chat number 04" in three
    assert "Chat number 00" in three
    assert "Page 3 of 3" in three
    assert missing == [404, 404, 404]


def view(tmp: Path, *, locale: str = "en", settings: str = "", title: str = "May") -> HomeView:
    community = site_config(tmp, locale=locale, settings=settings).communities[0]
    start = datetime(2026, 5, 6, 11, tzinfo=UTC)
    return HomeView(
        community=community,
        channels=(),
        coming=(
            NextChat(
                title=title,
                topic=title,
                host=title,
                starts_at=start + timedelta(days=30),
                ends_at=start + timedelta(days=30, hours=1),
                uid="monthly-2026-06-05@hcsmeu.hashchat",
            ),
        ),
        past=(
            PastChat(
                title=title, slug="hcsmeu/2026-05-06", starts_at=start, participants=1234, answers=5
            ),
        ),
        page=1,
        pages=1,
    )


def test_hostile_titles_topics_and_descriptions_are_shown_as_text(tmp_path: Path) -> None:
    description = f'description = """{HOSTILE}"""'
    html = render_home(view(tmp_path, settings=description, title=HOSTILE))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 5  # description, 3 x next, past


@pytest.mark.parametrize(
    ("locale", "day", "number", "heading"),
    [
        ("en", "May 6, 2026", "1,234", "Past chats"),
        ("fr", "6 mai 2026", "1\u202f234", "Chats passés"),
        ("de", "06.05.2026", "1.234", "Vergangene Chats"),
        ("nl", "6 mei 2026", "1.234", "Eerdere chats"),
        ("es", "6 may 2026", "1.234", "Chats anteriores"),
    ],
)
def test_dates_numbers_and_texts_follow_the_communitys_language(
    tmp_path: Path, locale: str, day: str, number: str, heading: str
) -> None:
    html = render_home(view(tmp_path, locale=locale))
    assert f'lang="{locale}"' in html
    assert f">{day}</time>" in html
    assert f'">{number}</td>' in html
    assert heading in html


def test_channels_link_where_the_platform_has_public_addresses(tmp_path: Path) -> None:
    (tmp_path / "agenda.toml").write_text("")
    config = parse_config(
        """
[platforms.mastodon]
token_env = "M"
api_base_url = "https://mastodon.example/"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "Europe/Paris"
channels = [
  "mastodon:hcsmeu", "telegram:@hcsmeu_chat/42", "telegram:-1001234", "discord:123", "local:main"
]
channel_links = { "discord:123" = "https://discord.gg/hcsmeu" }
""",
        source=str(tmp_path / "hashchat.toml"),
        base_dir=tmp_path,
    )
    links = [(c.platform, c.label, c.url) for c in channel_links(config, config.communities[0])]
    assert links == [
        ("Mastodon", "#hcsmeu", "https://mastodon.example/tags/hcsmeu"),
        ("Telegram", "@hcsmeu_chat", "https://t.me/hcsmeu_chat/42"),
        ("Telegram", "-1001234", None),  # a private group: no address to give
        ("Discord", "123", "https://discord.gg/hcsmeu"),
        ("hashchat", "main", None),
    ]


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        (
            'channel_links = { "local:main" = "javascript:alert(1)" }',
            "channel_links",
            "not a web address",
        ),
        (f'description = "{"x" * 1001}"', "description", "at most 1000 characters"),
    ],
)
def test_bad_site_settings_are_refused_by_name(
    tmp_path: Path, settings: str, field: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        site_config(tmp_path, settings=settings)
    (problem,) = caught.value.problems
    assert field in str(problem.field)
    assert says in problem.message
