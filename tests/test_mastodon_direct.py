"""A direct message on Mastodon (the console's login link), through Mastodon.py."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.domain import UserRef
from bot.platforms.mastodon.text import html_to_text
from tests.fakes.mastodon_harness import Host, Pacer, adapter
from tests.fakes.mastodon_server import MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]


async def test_a_direct_status_mentions_the_person_alone(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    pacer = Pacer()
    platform = adapter(server.base_url, clock, pacer=pacer)
    await platform.start(Host())
    try:
        await pacer.waiting()
        await platform.send_direct(UserRef("mastodon", "alice@mock.local"), "Your link: x")
    finally:
        await platform.close()
    status = server.statuses_of("hashchat")[-1]
    assert status["visibility"] == "direct"
    assert [m["acct"] for m in status["mentions"]] == ["alice"]
    assert html_to_text(status["content"]) == "@alice Your link: x"
