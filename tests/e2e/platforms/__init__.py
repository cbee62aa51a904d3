"""The platforms the end-to-end suite runs over: one driver module per platform.

Adding a platform is a module here that defines ``make_driver() -> Driver`` (see
``tests/e2e/driver.py``) plus its name in ``NAMES``. Modules are imported only when a
test asks for them; a name in ``NAMES`` without its module is an error, never a
silently smaller suite.
"""

from __future__ import annotations

import importlib

from tests.e2e.driver import Driver

NAMES = ("local", "telegram", "discord", "mastodon", "bluesky")


def make_driver(name: str) -> Driver:
    """A fresh driver (no process started yet) from ``tests/e2e/platforms/<name>.py``."""
    if name not in NAMES:
        raise LookupError(f"no end-to-end platform {name!r}: the platforms are {NAMES}")
    module = importlib.import_module(f"{__name__}.{name}")
    made: Driver = module.make_driver()
    return made
