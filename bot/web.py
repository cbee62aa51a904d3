"""The built-in web server: published transcripts under their stable slugs, and a health check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiohttp import web

from bot.errors import StartError
from bot.platforms.base import WebhookReceiver

_TYPES = {
    ".html": "text/html",
    ".md": "text/markdown",
    ".json": "application/json",
}


class WebMount(Protocol):
    """A part of the site with routes of its own (the community site, the moderators'
    console, the operator's endpoints): it adds them before the catch-all for files, so
    each part lives in its own package and the server stays one small module."""

    def mount(self, app: web.Application) -> None: ...


def make_app(
    root: Path, webhooks: Sequence[WebhookReceiver] = (), mounts: Sequence[WebMount] = ()
) -> web.Application:
    root = root.resolve()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def page(request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if path.startswith("/") or "//" in path:
            raise web.HTTPNotFound()  # an absolute path, or a redirect to another host
        try:
            target = (root / path).resolve()
            if not target.is_relative_to(root):
                raise web.HTTPNotFound()
            if target.is_dir():
                if not request.path.endswith("/"):
                    raise web.HTTPFound(request.path + "/")
                target = target / "index.html"
            if not target.is_file() or target.suffix not in _TYPES:
                raise web.HTTPNotFound()
            body = target.read_bytes()
        except (OSError, ValueError):  # a NUL, or a name over 255 bytes: no such page
            raise web.HTTPNotFound() from None
        return web.Response(
            body=body,
            content_type=_TYPES[target.suffix],
            charset="utf-8",
            headers={
                # A transcript's own inline style, and the site's stylesheet.
                "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app = web.Application()
    app.router.add_get("/health", health)
    for receiver in webhooks:
        assert receiver.webhook_path is not None
        app.router.add_post(receiver.webhook_path, _webhook(receiver))
    for part in mounts:
        part.mount(app)
    app.router.add_get("/{path:.*}", page)
    return app


def _webhook(receiver: WebhookReceiver) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def receive(request: web.Request) -> web.Response:
        status = await receiver.receive_webhook(request.headers, await request.read())
        return web.Response(status=status)

    return receive


class WebServer:
    def __init__(
        self,
        root: Path,
        host: str,
        port: int,
        webhooks: Sequence[WebhookReceiver] = (),
        mounts: Sequence[WebMount] = (),
    ) -> None:
        # No access log: a webhook path may hold a secret.
        self._runner = web.AppRunner(make_app(root, webhooks, mounts), access_log=None)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise StartError(
                f"cannot listen on {self.host}:{self.port} (bot.listen_host, bot.listen_port):"
                f" {exc.strerror or exc}"
            ) from None
        if self.port == 0:  # an ephemeral port: report the one the system chose
            self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        await self._runner.cleanup()
