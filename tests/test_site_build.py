"""``hashchat site build``: the whole site as files whose links all resolve inside the
export, and transcripts that link to the chats before and after them."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from click.testing import CliRunner

from bot.cli import main
from bot.privacy import purge_expired
from bot.publishing import Publisher
from bot.site import urls
from bot.site.pages import PAGES
from tests.site_data import NOW, Said, chat_plan, seeded_store, site_config

MAY = datetime(2026, 5, 6, 11, tzinfo=UTC)
HREF = re.compile(r'(?:href|src)="([^"]*)"')


def others_pages(community: str) -> set[str]:
    """Addresses of the URL map whose pages other parts of the site add (search, numbers,
    links, feeds): a link to one of them only has to resolve once its page is registered."""
    registered = {f"/{community}/{p.pattern}" for p in PAGES}
    planned = {
        urls.search(community),
        urls.stats(community),
        urls.links(community),
        urls.calendar(community),
        urls.atom(community),
        urls.chats_json(community),
        urls.event(community, "{uid}"),
    }
    return planned - registered


def local_targets(out: Path) -> dict[Path, list[str]]:
    """Every page's links that stay on the site (neither absolute URLs nor anchors)."""
    found: dict[Path, list[str]] = {}
    for page in out.rglob("*.html"):
        links = [
            h
            for h in HREF.findall(page.read_text(encoding="utf-8"))
            if not urlsplit(h).scheme and not h.startswith("#")
        ]
        found[page] = links
    return found


def resolve(out: Path, page: Path, link: str) -> Path:
    target = (page.parent / unquote(urlsplit(link).path)).resolve()
    return target / "index.html" if link.endswith("/") or target.is_dir() else target


async def seed(tmp: Path) -> None:
    async with seeded_store(site_config(tmp)) as seeder:
        for n in range(22):  # two pages of past chats
            said = [Said("ann", f"A1 answer {n}", frozenset({1})), Said(f"p{n}", "hi")]
            await seeder.past(chat_plan(MAY - timedelta(days=7 * n), title=f"Chat {n}"), said)
        soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)  # the build's clock
        await seeder.coming(chat_plan(soon, title="Next one"))


def test_the_export_holds_every_page_and_its_links_resolve_inside_it(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path))
    out = tmp_path / "export"
    result = CliRunner().invoke(
        main, ["site", "build", "--config", str(tmp_path / "hashchat.toml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "hcsmeu" / "index.html").is_file()
    assert (out / "hcsmeu" / "past" / "2" / "index.html").is_file()
    assert (out / "hcsmeu" / "2026-05-06" / "index.html").is_file()
    assert (out / "hcsmeu" / "2026-05-06" / "transcript.json").is_file()
    assert (out / "_site" / "site.css").is_file()
    assert (out / "hcsmeu" / "index.html").as_uri() in result.output
    home = (out / "hcsmeu" / "index.html").read_text(encoding="utf-8")
    assert "Next one" in home
    assert "Chat 0" in home
    pending = others_pages("hcsmeu")
    broken, checked = [], 0
    for page, links in local_targets(out).items():
        for link in links:
            checked += 1
            target = resolve(out, page, link)
            site_path = "/" + str(PurePosixPath(target.relative_to(out.resolve())))
            site_path = site_path.removesuffix("index.html")
            if any(re.fullmatch(p.replace("{uid}", ".+"), site_path) for p in pending):
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(out)}: {link}")
    assert broken == []
    assert checked > 24 * 3  # stylesheet, breadcrumb and chats on every page
    assert len(list(out.glob("hcsmeu/2*/index.html"))) == 22  # every transcript


async def test_transcripts_link_to_the_chats_before_and_after_them(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    root = tmp_path / "pages"
    async with seeded_store(config) as seeder:
        publisher = Publisher(
            store=seeder.store, writer=seeder.writer, root=root, public_url="http://x.test"
        )
        ids = []
        for n, title in enumerate(["April <b>chat</b>", "May chat", "June chat"]):
            plan = chat_plan(MAY + timedelta(days=30 * (n - 1)), title=title)
            session_id = await seeder.store.ensure_session(plan, [], NOW)
            await seeder.store.set_state(session_id, "closed")
            # As the runner does: publish, then store the link.
            await seeder.store.set_transcript_url(session_id, await publisher(session_id))
            ids.append(session_id)
    april, may, june = (
        (root / "hcsmeu" / day / "index.html").read_text(encoding="utf-8")
        for day in ("2026-04-06", "2026-05-06", "2026-06-05")
    )
    assert 'rel="next" href="../2026-05-06/"' in april  # written again when May came
    assert 'rel="prev"' not in april
    assert 'rel="prev" href="../2026-04-06/"' in may
    assert "Previous chat: April &lt;b&gt;chat&lt;/b&gt;" in may
    assert 'rel="next" href="../2026-06-05/"' in may
    assert 'rel="prev" href="../2026-05-06/"' in june
    assert 'rel="next"' not in june
    assert '<a href="../">#hcsmeu</a>' in may  # the breadcrumb back to the community
    assert 'href="../../_site/site.css"' in may


def test_a_build_without_a_database_says_so_without_a_traceback(tmp_path: Path) -> None:
    site_config(tmp_path)
    (tmp_path / "hashchat.toml").write_text(
        '[[communities]]\nid = "c"\nhashtag = "#c"\ntimezone = "UTC"\nchannels = ["local:c"]\n'
    )
    result = CliRunner().invoke(
        main, ["site", "build", "--config", str(tmp_path / "hashchat.toml"), "--out", "x"]
    )
    assert result.exit_code == 2
    assert "no database yet (bot.database): run the bot first" in result.output
    assert "Traceback" not in result.output


def test_a_build_from_a_file_that_is_no_database_says_which_file(tmp_path: Path) -> None:
    site_config(tmp_path)
    (tmp_path / "chat.db").write_text("these are notes, not a database\n" * 100)
    result = CliRunner().invoke(
        main, ["site", "build", "--config", str(tmp_path / "hashchat.toml"), "--out", "x"]
    )
    assert result.exit_code == 2
    assert f"cannot read {tmp_path / 'chat.db'} (bot.database)" in result.output
    assert "Traceback" not in result.output


async def test_without_a_public_url_transcripts_link_to_each_others_files(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    root = tmp_path / "pages"
    async with seeded_store(config) as seeder:
        publisher = Publisher(store=seeder.store, writer=seeder.writer, root=root, public_url=None)
        for n in range(2):
            plan = chat_plan(MAY + timedelta(days=30 * n), title=f"Chat {n}")
            session_id = await seeder.store.ensure_session(plan, [], NOW)
            await seeder.store.set_state(session_id, "closed")
            await seeder.store.set_transcript_url(session_id, await publisher(session_id))
    first = (root / "hcsmeu" / "2026-05-06" / "index.html").read_text(encoding="utf-8")
    assert 'rel="next" href="../2026-06-05/index.html"' in first  # opens from the disk
    assert "_site/site.css" not in first  # no site around it
    assert 'class="site"' not in first


async def test_a_chat_purged_after_the_retention_period_is_no_longer_linked(
    tmp_path: Path,
) -> None:
    config = site_config(tmp_path, settings='retention = "30d"')
    root = config.resolve(config.bot.transcripts_dir)
    async with seeded_store(config) as seeder:
        publisher = Publisher(
            store=seeder.store, writer=seeder.writer, root=root, public_url="http://x.test"
        )
        for n in range(2):  # April 6 and May 6
            plan = chat_plan(MAY + timedelta(days=30 * (n - 1)), title=f"Chat {n}")
            session_id = await seeder.store.ensure_session(plan, [], NOW)
            await seeder.store.set_state(session_id, "closed")
            await seeder.store.set_transcript_url(session_id, await publisher(session_id))
        may = root / "hcsmeu" / "2026-05-06" / "index.html"
        assert 'rel="prev" href="../2026-04-06/"' in may.read_text(encoding="utf-8")
        assert await purge_expired(config, seeder.store, root, MAY + timedelta(days=10)) == 1
    assert not (root / "hcsmeu" / "2026-04-06").exists()
    assert 'rel="prev"' not in may.read_text(encoding="utf-8")
