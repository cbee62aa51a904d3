"""``hashchat site build`` after the real ``hashchat run`` published a chat: the export's
transcript is the published page itself (copied, not rendered again: its stamp says it
is current), and the build says so."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from tests.e2e.driver import Driver
from tests.e2e.harness import Chat
from tests.e2e.process import python_module

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("driver", ["local"], indirect=True)]


async def test_the_export_copies_the_page_the_running_bot_published(
    driver: Driver, tmp_path: Path
) -> None:
    async with Chat(driver, tmp_path).running() as chat:
        await chat.wait_posted("q1", within=chat.until("q1"))
        await driver.say("ann", "A1: <b>shared</b> decisions first")
        await chat.wait_posted("transcript", within=chat.until("transcript"))
        await chat.wait_transcript_file()
        out = tmp_path / "export"
        built = await asyncio.to_thread(
            subprocess.run,
            python_module(
                "bot", "-v", "site", "build", "--config", str(chat.config), "--out", str(out)
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert await chat.stop() == 0
    assert built.returncode == 0, built.stdout + built.stderr
    assert "e2e: 1 transcripts copied from" in built.stderr
    assert ", 0 rendered" in built.stderr
    day = chat.start.date().isoformat()
    published = tmp_path / "transcripts" / "e2e" / day
    exported = out / "e2e" / day
    for name in ("index.html", "transcript.md", "transcript.json"):
        assert (exported / name).read_bytes() == (published / name).read_bytes(), name
    page = (exported / "index.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;shared&lt;/b&gt; decisions first" in page
    assert 'href="../../_site/site.css"' in page  # inside the exported site
