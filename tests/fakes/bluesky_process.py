"""The Bluesky stand-in as its own OS process on 127.0.0.1:

    python -m tests.fakes.bluesky_process --port 0 --ready-file F

One server plays the three services the adapter talks to: the PDS that holds the bot's
account (sessions, records), the AppView behind it (profiles, threads, hashtag search)
and Jetstream (the JSON event stream at ``/subscribe``), plus a loopback control API
(tests/fakes/bluesky_control.py). Once it answers, F holds ``{"base_url", "port",
"pid", "handle", "app_password"}``. SIGTERM or SIGINT stops it.

Why not a real PDS from npm (``@atproto/pds`` or ``@atproto/dev-env``): tried first.
``@atproto/pds`` does install here (4 minutes; better-sqlite3 builds against the local
Node headers) and loads, but it cannot be the stand-in: (1) creating the bot's account
registers a did:plc at a PLC directory, and plc.directory is not reachable (only package
registries are) and ``@did-plc/server`` needs a Postgres server, which a fresh clone's
CI does not have; (2) the methods the adapter
reads with, ``app.bsky.feed.searchPosts`` (hashtag search), ``getPosts`` and
``actor.getProfile``, are the AppView's, which a PDS only proxies to api.bsky.app;
(3) Jetstream is a separate service (Go) that a PDS does not provide. dev-env's full
network needs Postgres and Redis, and the AppView's own services, too. So two of the
three services would be ours anyway; one stand-in for all three is what a fresh clone
can start in a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path

from aiohttp import web

from tests.fakes.bluesky_control import add_control
from tests.fakes.bluesky_server import xrpc_app
from tests.fakes.bluesky_world import APP_PASSWORD, BOT_HANDLE, World


async def serve(port: int, ready_file: Path) -> None:
    world = World()
    app = xrpc_app(world)
    add_control(app, world)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    real = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ready = {"base_url": f"http://127.0.0.1:{real}", "port": real, "pid": os.getpid(),
             "handle": BOT_HANDLE, "app_password": APP_PASSWORD}  # fmt: skip
    partial = ready_file.with_name(ready_file.name + ".part")
    partial.write_text(json.dumps(ready), encoding="utf-8")
    partial.replace(ready_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    world.reset()  # ends every subscriber
    with contextlib.suppress(Exception):
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.ready_file))


if __name__ == "__main__":
    main()
