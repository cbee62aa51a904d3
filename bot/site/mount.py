"""Serves the community site from the bot's web server (a ``bot.web.WebMount``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Protocol

from aiohttp import web

from bot.clock import Clock
from bot.config import Config
from bot.site.context import Rendered, SiteContext
from bot.site.pages import PAGES, Page
from bot.store import Store

# No inline script or style anywhere on the site: its CSS and JS are files under /_site/.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSET_TYPES = {".css": "text/css", ".js": "text/javascript"}


class SiteSource(Protocol):
    """What the site reads at each request (the App): a reload swaps ``config``."""

    config: Config
    store: Store
    clock: Clock
    transcripts_root: Path


def asset_names() -> list[str]:
    root = resources.files("bot.site") / "assets"
    return sorted(p.name for p in root.iterdir() if Path(p.name).suffix in ASSET_TYPES)


def asset(name: str) -> str:
    return (resources.files("bot.site") / "assets" / name).read_text(encoding="utf-8")


def respond(page: Rendered) -> web.Response:
    return web.Response(
        text=page.body, content_type=page.content_type, charset="utf-8", headers=HEADERS
    )


class SiteMount:
    """Each community's pages under ``/<community>/``, and the assets under ``/_site/``."""

    def __init__(self, source: SiteSource) -> None:
        self.source = source

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/_site/{name}", self._asset)
        for community in self.source.config.communities:
            for page in PAGES:
                path = f"/{community.id}/{page.pattern}"
                app.router.add_get(path, self._handler(community.id, page))

    def context(self, community_id: str) -> SiteContext | None:
        source = self.source
        community = next((c for c in source.config.communities if c.id == community_id), None)
        if community is None:
            return None
        return SiteContext(
            config=source.config,
            community=community,
            store=source.store,
            now=source.clock.now(),
            transcripts_root=source.transcripts_root,
        )

    def _handler(
        self, community_id: str, page: Page
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            ctx = self.context(community_id)
            params = {**request.query, **request.match_info}  # the path's own win
            rendered = None if ctx is None else await page.render(ctx, params)
            if rendered is None:
                raise web.HTTPNotFound(headers=HEADERS)
            return respond(rendered)

        return handle

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in asset_names():
            raise web.HTTPNotFound(headers=HEADERS)
        return web.Response(
            text=asset(name),
            content_type=ASSET_TYPES[Path(name).suffix],
            charset="utf-8",
            headers=HEADERS,
        )
