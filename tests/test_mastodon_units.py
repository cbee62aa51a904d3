"""The Mastodon adapter's pure parts: reading HTML, fitting posts, the request budget, the
read positions, and the config section."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.domain import ChannelRef
from bot.errors import ConfigError
from bot.platforms.mastodon.config import mastodon_channels
from bot.platforms.mastodon.intake import Recent, Source
from bot.platforms.mastodon.pace import Budget, poll_interval
from bot.platforms.mastodon.platform import MastodonPlatform
from bot.platforms.mastodon.text import (
    as_command_or_answer,
    html_to_text,
    inert,
    split_to_fit,
    weighted_length,
    without_chat_tags,
)
from bot.platforms.registry import build_platforms
from tests.conftest import START
from tests.fakes.mastodon_harness import mastodon_config

COMMANDS = {"end", "hide", "help", "pause"}


def test_html_becomes_plain_text_with_its_line_breaks_and_nothing_runs() -> None:
    html = (
        '<p>A1: <span class="h-card"><a href="https://x.social/@bob" class="u-url mention">'
        "@<span>bob</span></a></span> said &lt;script&gt; &amp; more<br />second line</p>"
        '<p>See <a href="https://example.org/a/long/path"><span class="invisible">https://'
        '</span><span class="ellipsis">example.org/a/lo</span><span class="invisible">ng/path'
        '</span></a> <a href="https://x.social/tags/hcsmeu" class="mention hashtag">#<span>'
        "hcsmeu</span></a></p><script>alert(1)</script>"
    )
    assert html_to_text(html) == (
        "A1: @bob said <script> & more\nsecond line\n\nSee https://example.org/a/long/path #hcsmeu"
    )


@pytest.mark.parametrize(
    ("text", "addressed", "expected"),
    [
        ("@hashchat end", True, "@hashchat end"),
        ("@ann @hashchat hide", True, "@hashchat hide"),
        ("@hashchat /pause", True, "@hashchat /pause"),
        ("@hashchat co-design from day one", True, "co-design from day one"),
        ("@hashchat sharing decisions", True, "sharing decisions"),
        ("@hashchat@evil.example end", False, "end"),  # another server's hashchat
        ("@bob end of story", False, "end of story"),
        ("A1 with @hashchat inside", True, "A1 with @hashchat inside"),
    ],
)
def test_a_command_is_told_from_an_answer_that_replies_to_the_bot(
    text: str, addressed: bool, expected: str
) -> None:
    found = as_command_or_answer(
        text, bot_username="hashchat", bot_addressed=addressed, commands=COMMANDS
    )
    assert found == expected


def test_repeated_words_ping_nobody_but_links_and_the_chat_tag_survive() -> None:
    text = "@bob see https://x.social/@bob/1#top and #spam, not #HCSMEU; mail a@b.org"
    out = inert(text, {"hcsmeu"})
    assert "@bob see" not in out
    assert "https://x.social/@bob/1#top" in out
    assert "#spam" not in out
    assert "#HCSMEU" in out
    assert "a@b.org" in out
    assert out.replace("\u200b", "") == text


@pytest.mark.parametrize(
    ("text", "recorded"),
    [
        ("A1 shared decisions #hcsmeu", "A1 shared decisions"),
        ("A1 shared decisions #HCSMEU #hcsmeu ", "A1 shared decisions"),
        ("A1 first line\n#hcsmeu", "A1 first line"),
        ("A1 shared decisions #hcsmeu #health", "A1 shared decisions #hcsmeu #health"),
        ("I love #hcsmeu chats", "I love #hcsmeu chats"),
        ("A1 in C#hcsmeu", "A1 in C#hcsmeu"),
        ("#hcsmeu", "#hcsmeu"),
    ],
)
def test_the_chats_hashtag_at_the_end_is_how_a_post_joins_not_what_it_says(
    text: str, recorded: str
) -> None:
    assert without_chat_tags(text, {"hcsmeu"}) == recorded


def test_links_count_as_23_and_a_mentions_server_as_nothing() -> None:
    assert weighted_length("see https://example.org/" + "x" * 100) == len("see ") + 23
    assert weighted_length("@ann@very.long.example.social hi") == len("@ann hi")


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="abcdefghij", min_size=1, max_size=30),
            st.just("https://example.org/" + "p" * 60),
            st.sampled_from(["\n", "\n\n"]),
        ),
        max_size=60,
    ),
    st.integers(min_value=30, max_value=120),
)
def test_every_part_fits_and_together_they_say_everything(words: list[str], limit: int) -> None:
    text = " ".join(words).strip()
    parts = split_to_fit(text, limit)
    assert all(weighted_length(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
    links = [w for w in text.split() if w.startswith("https://")]
    assert [w for p in parts for w in p.split() if w.startswith("https://")] == links


async def test_the_budget_holds_back_background_reads_before_posts() -> None:
    now = [0.0]
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    budget = Budget(limit=10, window=100, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(8):
        await budget.acquire(background=True)
    assert waited == []
    await budget.acquire(background=True)  # 80% used: a read waits for the window to move
    assert waited == [100]
    for _ in range(2):
        await budget.acquire()
    assert len(waited) == 1  # a post still finds room


def test_polling_is_paced_to_half_the_budget() -> None:
    assert poll_interval(1) == 5
    assert poll_interval(5) == 10
    assert poll_interval(10) > poll_interval(5)


def test_the_cursor_passes_only_acknowledged_statuses() -> None:
    source = Source("tag:hcsmeu", saved="10")
    source.add("11", "11", contiguous=True)
    source.add("12", None, contiguous=True)  # the bot's own post: nothing to wait for
    source.add("13", "13", contiguous=True)
    source.add("15", "15", contiguous=False)  # streamed before the backfill caught up
    assert source.advance(set()) is None
    assert source.advance({"11"}) == "12"
    assert source.advance({"11", "13", "15"}) == "13"  # not past what was never fetched
    source.add("14", "14", contiguous=True)
    source.add("15", "15", contiguous=True)
    assert source.advance({"14", "15"}) == "15"
    assert source.items == {}


def test_statuses_handed_over_are_remembered_lately_not_for_the_whole_chat() -> None:
    handed = Recent(3)
    for sid in ("1", "2", "3", "3", "4"):
        handed.add(sid)
    assert {"2", "3", "4"} == {sid for sid in "1234" if sid in handed}  # the oldest let go
    assert len(handed) == 3


async def test_the_config_section_builds_the_adapter(tmp_path: Path) -> None:
    config = mastodon_config(tmp_path, "https://mastodon.example/")
    platforms = build_platforms(config, ManualClock(START), env={"MASTODON_TOKEN": "t0k"})
    platform = platforms["mastodon"]
    assert isinstance(platform, MastodonPlatform)
    assert platform.options.api_base_url == "https://mastodon.example"
    assert platform.capabilities.reply_chain
    assert platform.capabilities.idempotent_send
    await platform.close()


@pytest.mark.parametrize("server", ["127.0.0.1:8000", "localhost:3000", "social.example:8443"])
def test_accounts_on_a_server_with_a_port_are_moderators_and_channels(
    tmp_path: Path, server: str
) -> None:
    config = mastodon_config(
        tmp_path,
        "http://127.0.0.1:8000",
        change=("alice@mock.local", f"alice@{server}"),
        moderator_channels=(f"mastodon:@alice@{server}",),
    )
    channels = mastodon_channels(config)
    assert ChannelRef("mastodon", f"@alice@{server}") in channels


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("mastodon:hcsmeu", "mastodon:#hcsmeu"), "communities[0].channels[0]", "without '#'"),
        (("alice@mock.local", "alice"), "communities[0].moderators[1]", "user@server"),
        (
            ('api_base_url = "', 'visibility = "private"\napi_base_url = "'),
            "visibility",
            "'public'",
        ),
        (('token_env = "MASTODON_TOKEN"', 'token_env = "NOPE"'), "token_env", "NOPE is not set"),
    ],
)
def test_config_mistakes_are_pointed_at(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    config = mastodon_config(tmp_path, "https://mastodon.example", change=change)
    with pytest.raises(ConfigError) as failed:
        build_platforms(config, ManualClock(START), env={"MASTODON_TOKEN": "t0k"})
    problem = failed.value.problems[0]
    assert field in (problem.field or "")
    assert message in problem.message
