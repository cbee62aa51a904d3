"""``/ready`` and ``/metrics``: what a load balancer and Prometheus ask of an instance.

``/health`` (in bot/web.py) says the process answers; ``/ready`` also says whether its
database answers and whether it runs the chats (leader) or waits (standby), so a balancer
can send pages to any ready instance and an operator can see which one leads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.ops.metrics import Metrics

Ping = Callable[[], Awaitable[None]]


class OpsMount:
    """The operator's endpoints, mounted on the built-in web server."""

    def __init__(self, metrics: Metrics, ping: Ping, role: Callable[[], str]) -> None:
        self._metrics = metrics
        self._ping = ping
        self._role = role

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._serve_metrics)

    async def _ready(self, _: web.Request) -> web.Response:
        try:
            await self._ping()
        except (sqlite3.Error, OSError, ValueError) as exc:
            return web.json_response(
                {"status": "unavailable", "database": type(exc).__name__}, status=503
            )
        return web.json_response({"status": "ready", "database": "ok", "role": self._role()})

    async def _serve_metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=self._metrics.text(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
