"""A chat does not close over a step that is still waiting for its retry."""

from __future__ import annotations

import pytest

from tests.conftest import Chat

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends


async def test_a_refused_closing_is_retried_before_the_link_and_the_close(chat: Chat) -> None:
    chat.local.refuse = lambda channel, text: channel.id == "main" and text.startswith("Thanks")
    await chat.at(60)
    assert not any("transcript of" in p for p in chat.posts("local:main"))
    assert chat.app is not None
    assert [s.state for s in await chat.app.store.open_sessions()] == ["live"]
    chat.local.refuse = None  # the outage is over: the retry posts the closing, then the link
    await chat.at(60.5)
    main = chat.posts("local:main")
    assert main[-2].startswith("Thanks all.")
    assert main[-1].startswith("The transcript of today's")
    assert [p for p in main if p.startswith("Thanks all.")] == [main[-2]]
    assert await chat.app.store.open_sessions() == []
