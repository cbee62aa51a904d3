"""The ``driver`` fixture: a platform's stand-in started in the test's directory, as its
own process, and stopped after the test.

It runs a test once per platform in ``platforms.NAMES``; a module about one platform
narrows it with ``pytest.mark.parametrize("driver", ["<name>"], indirect=True)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e import platforms
from tests.e2e.driver import Driver


@pytest.fixture(params=platforms.NAMES)
async def driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Driver]:
    made = platforms.make_driver(request.param)
    await made.start(tmp_path)
    try:
        yield made
    finally:
        await made.stop()
