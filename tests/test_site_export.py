"""The static export's transcripts are the published pages where those are current, and
fresh renders where the store changed since; the home's counts are the transcript's."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.publishing import write_page
from bot.site.build import build_site
from bot.site.context import SiteContext
from bot.site.home import home_view
from bot.store.writer import MessageEdit, MessageHide, MessageRemoval
from bot.transcript.build import build_transcript
from tests.site_data import NOW, Said, chat_plan, seeded_store, site_config

MAY = datetime(2026, 5, 6, 11, tzinfo=UTC)
FILES = ("index.html", "transcript.md", "transcript.json")


async def test_current_pages_are_exported_as_published_and_a_chat_edited_since_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = site_config(tmp_path)
    root = config.resolve(config.bot.transcripts_dir)
    async with seeded_store(config) as seeder:
        ids = []
        for n in range(3):  # platform ids 1-2, 3-4, 5-6
            said = [Said("ann", f"A1 answer {n}", frozenset({1})), Said("bob", f"chat {n}")]
            ids.append(await seeder.past(chat_plan(MAY + timedelta(days=7 * n)), said))
        for session_id in ids:  # as the bot leaves them: each page current when written
            await write_page(seeder.store, root, config.bot.public_url, session_id)
        # After publishing, the last chat changes without its page being written again.
        seeder.writer.submit(
            MessageEdit(
                platform="local",
                channel="main",
                platform_id="6",
                text="chat 2, edited later",
                questions=frozenset(),
                edited_at=NOW,
            )
        )
        await seeder.writer.flush()
    out = tmp_path / "export"
    with caplog.at_level(logging.INFO, logger="bot.site.build"):
        await build_site(config, out, NOW)
    assert "hcsmeu: 2 transcripts copied from" in caplog.text
    assert ", 1 rendered" in caplog.text
    for day in ("2026-05-06", "2026-05-13"):
        for name in FILES:
            published = (root / "hcsmeu" / day / name).read_bytes()
            assert (out / "hcsmeu" / day / name).read_bytes() == published, (day, name)
    edited = out / "hcsmeu" / "2026-05-20"
    assert "chat 2, edited later" in (edited / "index.html").read_text(encoding="utf-8")
    assert "chat 2, edited later" in (edited / "transcript.json").read_text(encoding="utf-8")
    assert 'rel="prev" href="../2026-05-13/"' in (edited / "index.html").read_text("utf-8")
    assert not list(out.rglob(".hashchat-stamp"))  # the export carries pages only


async def test_a_page_published_without_a_site_is_rendered_with_the_sites_links(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = site_config(tmp_path)
    root = config.resolve(config.bot.transcripts_dir)
    async with seeded_store(config) as seeder:
        session_id = await seeder.past(chat_plan(MAY), [Said("ann", "hello")])
        await write_page(seeder.store, root, None, session_id)  # no public_url then
    out = tmp_path / "export"
    with caplog.at_level(logging.INFO, logger="bot.site.build"):
        await build_site(config, out, NOW)
    assert "0 transcripts copied" in caplog.text
    page = (out / "hcsmeu" / "2026-05-06" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../_site/site.css"' in page  # inside the site, not a lone file


async def test_the_homes_counts_are_the_transcripts_after_hiding_and_deleting(
    tmp_path: Path,
) -> None:
    config = site_config(tmp_path)
    async with seeded_store(config) as seeder:
        said = [
            Said("ann", "A1 one", frozenset({1})),  # platform id 1
            Said("ann", "A2 two", frozenset({2})),
            Said("bob", "just chatting"),
            Said("cy", "A1 hidden later", frozenset({1})),  # 4: cy's only message
            Said("dee", "A2 deleted later", frozenset({2})),  # 5: dee's only message
            Said("bob", "A1 and A2 together", frozenset({1, 2})),
        ]
        session_id = await seeder.past(chat_plan(MAY), said)
        seeder.writer.submit(
            MessageHide(platform="local", channel="main", platform_id="4", hidden_at=NOW)
        )
        seeder.writer.submit(
            MessageRemoval(platform="local", channel="main", platform_id="5", deleted_at=NOW)
        )
        await seeder.writer.flush()
        transcript = build_transcript(await seeder.store.transcript_source(session_id))
        ctx = SiteContext(
            config=config,
            community=config.communities[0],
            store=seeder.store,
            now=NOW,
            transcripts_root=config.resolve(config.bot.transcripts_dir),
        )
        view = await home_view(ctx, 1)
    assert view is not None
    [chat] = view.past
    assert (chat.participants, chat.answers) == (2, 3)  # ann and bob; three answers
    assert chat.participants == transcript.total_participants
    assert chat.answers == transcript.total_answers
