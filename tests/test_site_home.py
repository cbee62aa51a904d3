"""The community site's home: its next and past chats, served with a strict CSP and
exported by the static build with the same render functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.site.mount import CSP, SiteMount
from bot.web import WebServer
from tests.site_data import NOW, Said, Seeder, Source, chat_plan, seeded_store, site_config


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[tuple[Seeder, Path]]:
    config = site_config(tmp_path)
    async with seeded_store(config) as seeder:
        yield seeder, tmp_path


async def serve(seeder: Seeder, tmp: Path) -> tuple[WebServer, str]:
    config = site_config(tmp)
    server = WebServer(
        tmp / "pages", "127.0.0.1", 0, mounts=[SiteMount(Source(config, seeder.store))]
    )
    await server.start()
    return server, f"http://127.0.0.1:{server.port}"


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.text(), r.headers.get("Content-Security-Policy", "")


async def test_the_home_page_lists_the_next_chat_and_the_past_ones_with_a_strict_csp(
    seeded: tuple[Seeder, Path],
) -> None:
    seeder, tmp = seeded
    await seeder.past(
        chat_plan(datetime(2026, 5, 6, 11, 0, tzinfo=UTC), title="Data in May"),
        [Said("ann", "A1 consent", frozenset({1})), Said("bob", "hello")],
    )
    await seeder.coming(
        chat_plan(NOW + timedelta(days=2), title="Patients in June", topic="Co-design")
    )
    server, base = await serve(seeder, tmp)
    try:
        status, body, csp = await get(f"{base}/hcsmeu/")
    finally:
        await server.close()
    assert status == 200
    assert csp == CSP
    assert "Patients in June" in body
    assert "Co-design" in body
    assert "Data in May" in body
    assert 'href="2026-05-06/"' in body
    assert "<style" not in body
    assert "style=" not in body
