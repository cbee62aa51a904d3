"""The Mastodon stand-in as its own OS process on 127.0.0.1, for the end-to-end suite:

    python -m tests.fakes.mastodon_process --port 0 --ready-file F [--domain D]

Once it answers, F holds ``{"base_url", "port", "pid", "bot_token"}`` (written whole,
then renamed, so a reader never sees half of it). Participants act and tests look through
the loopback control API (tests/fakes/mastodon_control.py) or, with their own tokens,
through the real API. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from tests.fakes.mastodon_control import control_app
from tests.fakes.mastodon_server import BOT_TOKEN, DOMAIN, TOKENS, stand_in


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--domain", default=DOMAIN, help="the server's name in accounts")
    parser.add_argument("--seed", type=int, default=10, help="for the refused share of posts")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with stand_in(domain=args.domain, port=args.port) as server:
        server.controls.control = control_app(server.controls, TOKENS)
        server.controls._random.seed(args.seed)
        port = int(server.base_url.rsplit(":", 1)[1])
        ready = {"base_url": server.base_url, "port": port, "pid": os.getpid(),
                 "bot_token": BOT_TOKEN}  # fmt: skip
        partial = args.ready_file.with_name(args.ready_file.name + ".part")
        partial.write_text(json.dumps(ready), encoding="utf-8")
        partial.replace(args.ready_file)
        stop.wait()


if __name__ == "__main__":
    main()
