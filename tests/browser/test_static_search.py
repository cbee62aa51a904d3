"""The exported site's search: ``hashchat site build`` writes the pages and Pagefind's
index; served as plain files on loopback, a word searched in Chromium leads to the
answer's anchor in its transcript page, found by the browser alone."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from bot.site.pagefind import pagefind_binary
from tests.browser.conftest import COMMUNITY, OpenPage, Site


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def exported(showcase: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The showcase community exported and served by a static file server."""
    if pagefind_binary() is None:
        pytest.fail("node_modules/.bin/pagefind is missing: `make test` installs it (npm ci)")
    out = tmp_path_factory.mktemp("export") / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "site",
            "build",
            "--config",
            "hashchat.toml",
            "--out",
            str(out),
        ],
        cwd=showcase.workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "pagefind" / "pagefind.js").is_file(), done.stdout
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_word_searched_in_the_export_leads_to_the_answer(
    exported: str, showcase: Site, open_page: OpenPage
) -> None:
    page = open_page(f"{exported}/{COMMUNITY}/search/")
    page.get_by_label("Words").fill("notebook")
    page.get_by_role("button", name="Search").click()
    hit = page.locator("ol.hits > li").filter(has_text="part 2")
    expect(hit).to_contain_text("notebook")
    hit.get_by_role("link").first.click()
    # The same transcript page as the running site serves, here a file of the export.
    page.wait_for_url(showcase.transcript_urls[1].replace(showcase.base_url, exported) + "#m*")
    answer = page.locator(":target")
    expect(answer).to_contain_text("A2: a shared notebook, honestly")
    expect(answer).to_be_in_viewport()
