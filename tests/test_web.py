"""The built-in web server: transcripts under their stable slugs, and nothing outside them."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from yarl import URL

from bot.errors import StartError
from bot.web import WebServer

PAGE = "<!doctype html><title>#hcsmeu</title><p>Patients as partners</p>"
MARKDOWN = "# #hcsmeu, 4 March 2026\n\nQ1: What does partnership mean to you?\n"
JSON = '{"session": {"slug": "hcsmeu/2026-03-04"}, "messages": []}'
CSP = "Content-Security-Policy"


class Site:
    def __init__(self, root: Path, server: WebServer, http: aiohttp.ClientSession) -> None:
        self.root = root
        self.server = server
        self.http = http

    def url(self, path: str) -> URL:
        # encoded=True sends the path exactly as written: no client-side clean-up of
        # '..' or '%2f', as a hostile client would not do any.
        return URL(f"http://127.0.0.1:{self.server.port}{path}", encoded=True)

    async def get(self, path: str) -> tuple[int, str, CIMultiDictProxy[str]]:
        async with self.http.get(self.url(path), allow_redirects=False) as response:
            return response.status, await response.text(), response.headers


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    root = tmp_path / "pages"
    folder = root / "hcsmeu" / "2026-03-04"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    (folder / "transcript.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / "transcript.json").write_text(JSON, encoding="utf-8")
    # Files a traversal would reach, with types the server would happily serve.
    (tmp_path / "private.html").write_text("<p>not published</p>", encoding="utf-8")
    (tmp_path / "hashchat.json").write_text('{"secret": true}', encoding="utf-8")
    server = WebServer(root, "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(root, server, http)
    finally:
        await server.close()


async def test_the_server_reports_the_port_the_system_chose(site: Site) -> None:
    assert site.server.port != 0
    assert site.server.host == "127.0.0.1"


async def test_a_session_page_is_served_as_utf8_html_with_a_content_security_policy(
    site: Site,
) -> None:
    async with site.http.get(site.url("/hcsmeu/2026-03-04/")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in response.headers[CSP]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.text() == PAGE


async def test_a_session_url_without_the_trailing_slash_redirects_to_it(site: Site) -> None:
    status, _, headers = await site.get("/hcsmeu/2026-03-04")
    assert status == 302
    assert headers["Location"] == "/hcsmeu/2026-03-04/"
    async with site.http.get(site.url("/hcsmeu/2026-03-04")) as response:
        assert response.status == 200
        assert await response.text() == PAGE


@pytest.mark.parametrize(
    ("name", "content_type", "body"),
    [
        ("transcript.md", "text/markdown; charset=utf-8", MARKDOWN),
        ("transcript.json", "application/json; charset=utf-8", JSON),
        ("index.html", "text/html; charset=utf-8", PAGE),
    ],
)
async def test_transcript_files_are_served_with_their_types(
    site: Site, name: str, content_type: str, body: str
) -> None:
    status, text, headers = await site.get(f"/hcsmeu/2026-03-04/{name}")
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert CSP in headers
    assert text == body


async def test_the_health_check_answers_ok(site: Site) -> None:
    async with site.http.get(site.url("/health")) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2fetc/passwd",
        "/..%2fprivate.html",
        "/%2e%2e/private.html",
        "/hcsmeu/../../x",
        "/hcsmeu/../../private.html",
        "/hcsmeu/2026-03-04/..%2f..%2f..%2fhashchat.json",
        "/hcsmeu/2026-03-04/%2e%2e/%2e%2e/%2e%2e/hashchat.json",
    ],
)
async def test_a_path_outside_the_transcripts_folder_is_not_found(site: Site, path: str) -> None:
    status, text, _ = await site.get(path)
    assert status == 404
    assert "not published" not in text
    assert "secret" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/otherchat/2026-03-04/",
        "/hcsmeu/2026-03-05/",
        "/hcsmeu/2026-03-04/transcript.txt",
        "/hcsmeu/",  # a folder without a page
        "/",
    ],
)
async def test_an_unknown_page_is_not_found(site: Site, path: str) -> None:
    status, _, _ = await site.get(path)
    assert status == 404


async def test_a_file_of_another_type_in_the_folder_is_not_served(site: Site) -> None:
    (site.root / "hcsmeu" / "2026-03-04" / "notes.txt").write_text("draft", encoding="utf-8")
    status, text, _ = await site.get("/hcsmeu/2026-03-04/notes.txt")
    assert status == 404
    assert "draft" not in text


async def test_a_doubled_slash_never_redirects_to_another_host(site: Site) -> None:
    absolute = site.root.resolve() / "hcsmeu" / "2026-03-04"
    status, _, headers = await site.get(f"/{absolute}")
    assert status == 404, headers.get("Location")


@pytest.mark.parametrize(
    "path",
    [
        "/%00",
        "/hcsmeu/2026-03-04/%00index.html",
        "/" + "a" * 300,
        "/hcsmeu/" + "b" * 256 + "/index.html",
        "/hcsmeu/2026-03-04/" + "c" * 4000 + ".html",
    ],
    ids=["nul", "nul-in-a-file-name", "long-name", "long-folder", "very-long-file"],
)
async def test_a_path_the_file_system_refuses_is_not_found_without_a_traceback(
    site: Site, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, text, _ = await site.get(path)
    assert status == 404
    assert "Traceback" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_port_already_taken_is_reported_with_its_settings(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = WebServer(tmp_path, "127.0.0.1", port)
        with pytest.raises(StartError, match=rf"127\.0\.0\.1:{port} \(bot\.listen_host"):
            await server.start()
        await server.close()


class _Greeting:
    """A part of the site with a route of its own, as the site and the console have."""

    def mount(self, app: web.Application) -> None:
        async def hello(_: web.Request) -> web.Response:
            return web.Response(text="hello from a mounted part")

        app.router.add_get("/hcsmeu/hello", hello)


async def test_a_mounted_part_answers_its_route_and_files_are_served_beside_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "hcsmeu" / "2026-03-04"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    server = WebServer(tmp_path, "127.0.0.1", 0, mounts=[_Greeting()])
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{server.port}"
            async with http.get(f"{base}/hcsmeu/hello") as response:
                assert await response.text() == "hello from a mounted part"
            async with http.get(f"{base}/hcsmeu/2026-03-04/") as response:
                assert "Patients as partners" in await response.text()
    finally:
        await server.close()
