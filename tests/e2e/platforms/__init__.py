"""The platforms the end-to-end suite runs over: one driver module per platform.

Adding a platform is a module here that defines ``make_driver() -> Driver`` (see
``tests/e2e/driver.py``) plus its name in ``NAMES``. Modules are imported only when a
test asks for them, and a name whose module does not exist (yet) is simply not listed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect

from tests.e2e.driver import Driver

NAMES = ("local", "telegram", "discord", "mastodon")


def available() -> list[str]:
    """The platforms that have a driver module, in ``NAMES`` order."""
    return [n for n in NAMES if importlib.util.find_spec(f"{__name__}.{n}") is not None]


def make_driver(name: str) -> Driver:
    """A fresh driver (no process started yet) from ``tests/e2e/platforms/<name>.py``.

    The module's ``make_driver()`` is preferred; a module that instead defines
    ``driver()`` or one class whose name ends in ``Driver`` works too.
    """
    module = importlib.import_module(f"{__name__}.{name}")
    for factory in ("make_driver", "driver"):
        if callable(made := getattr(module, factory, None)):
            return made()  # type: ignore[no-any-return]
    classes = [
        c
        for n, c in inspect.getmembers(module, inspect.isclass)
        if n.endswith("Driver") and c.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise LookupError(f"{module.__name__} defines no make_driver() and no single *Driver class")
    return classes[0]()  # type: ignore[no-any-return]
