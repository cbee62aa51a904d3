"""Acknowledgements by the batch: a platform hears about a message only once the batch that
holds it is committed, read cursors travel with the writer's batches, and the Mastodon
cursor moves past exactly the acknowledged statuses whatever order they are stored in."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.attribution import attribute, may_tag
from bot.clock import ManualClock
from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef
from bot.live import LiveIndex, LiveSession
from bot.platforms.local.platform import LocalPlatform
from bot.platforms.mastodon import text as mastodon_text
from bot.platforms.mastodon.intake import Source, newer, order
from bot.platforms.telegram.intake import OFFSET
from bot.store import MessageWriter, Store, StoredMessage
from bot.timeline import plan_steps
from bot.tracker import Tracker
from tests.fakes.telegram_api import GROUP, Person, telegram_rig
from tests.test_store import START, plan

ANNE = UserRef("local", "ann", "Ann")

ANN = Person(5001, "Ann", "ann_k")
REFUSE = (
    "CREATE TRIGGER refuse BEFORE INSERT ON messages"
    " BEGIN SELECT RAISE(ABORT, 'the disk says no'); END"
)


async def until(condition: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_batch_whose_commit_fails_is_acknowledged_to_nobody_then_stored_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_rig(tmp_path) as rig:
        api, chat = rig.api, rig.chat
        await chat.at(10)
        first = api.post(ANN, GROUP, "A1: stored before the trouble")
        await rig.delivered(first)
        assert chat.app is not None
        store = chat.app.store
        saved = await store.cursor("telegram", OFFSET)
        assert saved == str(first["update_id"] + 1)
        await store.db.execute(REFUSE)
        await store.db.commit()

        caplog.set_level(logging.ERROR)
        lost = [api.post(ANN, GROUP, f"A1: point {i}") for i in range(3)]
        await until(lambda: "could not store" in caplog.text)
        await chat.app.writer.flush()
        # Nothing of the batch is acknowledged: Telegram is never told to drop it, and
        # the stored offset has not moved past it.
        assert all(o <= lost[0]["update_id"] for o in api.offsets)
        assert await store.cursor("telegram", OFFSET) == saved

        await chat.stop()
        fresh = await Store.open(chat.config.resolve(chat.config.bot.database))
        await fresh.db.execute("DROP TRIGGER refuse")
        await fresh.db.commit()
        await fresh.close()
        await chat.boot()
        await rig.delivered(*lost)  # read again after the restart, stored this time
        await chat.at(61)
        path = tmp_path / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
        data = json.loads(path.read_text(encoding="utf-8"))
    assert [m["text"] for m in data["messages"]] == [
        "A1: stored before the trouble",
        "A1: point 0",
        "A1: point 1",
        "A1: point 2",
    ]


async def test_a_failed_batch_reaches_no_reader_and_keeps_the_cursors_it_carried(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "chat.db")
    writer = MessageWriter(store.path)
    await writer.start()
    told: list[object] = []
    try:
        await store.db.execute(REFUSE)
        await store.db.commit()
        # A cursor moved for an earlier batch, then a message, in the same batch.
        writer.save_cursor("telegram", "offset", "8")
        writer.enqueue(stored_message(), told.extend, "the message")
        await writer.flush()
        assert told == []  # not acknowledged
        assert await store.cursor("telegram", "offset") is None
        # The cursor went down with the batch, and waits for the next commit that works.
        await store.db.execute("DROP TRIGGER refuse")
        await store.db.commit()
        writer.enqueue(None, told.extend, "an event with nothing to store")
        await writer.flush()
        assert told == ["an event with nothing to store"]
        assert await store.cursor("telegram", "offset") == "8"
    finally:
        await writer.close()
        await store.close()


def stored_message() -> StoredMessage:
    at = datetime(2026, 3, 4, 12, 11, tzinfo=UTC)
    return StoredMessage(
        session_id=1,
        platform="telegram",
        channel=str(GROUP),
        thread=None,
        platform_id="1",
        author_key="telegram:5001",
        author_name="Ann",
        text="A1: lost",
        sent_at=at,
        reply_to=None,
        url=None,
        questions=frozenset({1}),
        received_at=at,
    )


# Mastodon: the cursor passes exactly the acknowledged statuses ----------------------------


def reference_advance(
    items: dict[str, str | None], position: str, saved: str | None, acked: set[str]
) -> str | None:
    """The cursor by its definition: the last item, in id order up to ``position``,
    before the first whose status is not acknowledged."""
    best: str | None = position
    previous = saved
    for item in sorted(items, key=order):
        if newer(item, position):
            break
        status = items[item]
        if status is not None and status not in acked:
            best = previous
            break
        previous = item
    return best if best is not None and newer(best, saved) else None


@given(
    st.integers(min_value=1, max_value=60).flatmap(
        lambda n: st.tuples(
            st.permutations(list(range(n))),  # the order acknowledgements come in
            st.lists(st.booleans(), min_size=n, max_size=n),  # items with nothing to store
            st.permutations(list(range(n))),  # the order items arrive in (streamed)
        )
    )
)
def test_the_mastodon_cursor_passes_only_acknowledged_statuses_in_any_order(
    case: tuple[list[int], list[bool], list[int]],
) -> None:
    acks, empty, arrival = case
    ids = [str(95 + i) for i in range(len(acks))]  # 95..: ids of growing length
    status = {ids[i]: None if empty[i] else f"s{ids[i]}" for i in range(len(ids))}
    source = Source("tag:hcsmeu", saved="90")
    model: dict[str, str | None] = {}
    saved: str | None = "90"
    acked: set[str] = set()
    # Items arrive out of order (a stream ahead of its backfill), then a poll catches up.
    for i in arrival:
        source.add(ids[i], status[ids[i]], contiguous=False)
        model[ids[i]] = status[ids[i]]
    source.add(ids[-1], status[ids[-1]], contiguous=True)
    for i in acks:
        if status[ids[i]] is not None:
            acked.add(str(status[ids[i]]))
        expected = reference_advance(model, ids[-1], saved, acked)
        assert source.advance(acked) == expected
        if expected is not None:
            saved = expected
            model = {k: v for k, v in model.items() if newer(k, expected)}
        assert source.saved == saved
        assert set(source.items) == set(model)  # what the cursor passed is forgotten
    assert source.saved == ids[-1]
    assert source.items == {}


# the common message's fast path ----------------------------------------------------------


@given(st.text(max_size=80))
def test_a_message_without_any_number_answers_nothing_unless_it_replies(text: str) -> None:
    """The tracker skips attribution for such a message: that must change nothing."""
    if not may_tag(text):
        assert attribute(text, posted={1, 2, 3}, locale=("en", "fr")) == frozenset()


# Mastodon's HTML: the quick reading gives what the full parser gives ------------------------

_WORDS = st.sampled_from(
    ["A1:", "patients", "&amp;", "&lt;b&gt;", "caf&eacute;", "&#128512;", " ", "  ", "\n", "x<y",
     "a > b", "&", "5 < 6", "l'avis", '"quoted"', "&nbsp;", "&amp"]
)  # fmt: skip
_TAGS = st.sampled_from(
    ["p", "br", "span", "a", "li", "ul", "div", "blockquote", "P", "BR", "script", "h1"]
)
_ATTRS = st.sampled_from(
    ["", ' class="mention hashtag"', " href='https://x.example/?a=1&amp;b=2'", " rel=tag",
     ' translate="no" class="h-card"', ' title="a > b"', " data-x=1/"]
)  # fmt: skip


@st.composite
def mastodon_html(draw: st.DrawFn) -> str:
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 4))
        tag, attrs = draw(_TAGS), draw(_ATTRS)
        if kind == 0:
            pieces.append(f"<{tag}{attrs}>")
        elif kind == 1:
            pieces.append(f"</{tag}>")
        elif kind == 2:
            pieces.append(f"<{tag}{attrs} />")
        else:
            pieces.append(draw(_WORDS))
    return "".join(pieces)


@given(mastodon_html())
def test_the_quick_html_reading_matches_the_full_parser(html: str) -> None:
    parser = mastodon_text._Text()
    parser.feed(html)
    parser.close()
    full = "".join(parser.parts)
    full = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", full)).strip()
    assert mastodon_text.html_to_text(html) == full


# one acknowledgement per committed batch --------------------------------------------------


class CheckedLocal(LocalPlatform):
    """Told once per committed batch; checks, from another connection, that every
    message it hears of is already committed at that moment."""

    def __init__(self, clock: ManualClock, store: Store) -> None:
        super().__init__(clock)
        self.store = store
        self.calls: list[int] = []
        self.uncommitted: list[str] = []

    async def acknowledge_all(self, events: Sequence[PlatformEvent]) -> None:
        async with self.store.db.execute("SELECT platform_id FROM messages") as cur:
            stored = {row[0] for row in await cur.fetchall()}
        self.uncommitted += [e.ref.id for e in events if e.ref.id not in stored]
        self.calls.append(len(events))
        await super().acknowledge_all(events)


@asynccontextmanager
async def batch_rig(
    tmp_path: Path, **writer_options: Any
) -> AsyncIterator[tuple[Store, LiveSession, CheckedLocal, MessageWriter]]:
    """A chat under way, a batch-acknowledging local platform and the real tracker and
    writer reading it; everything is stopped (and committed) when the block ends."""
    store = await Store.open(tmp_path / "chat.db")
    main = plan()
    session_id = await store.ensure_session(main, plan_steps(main), START)
    live = LiveIndex()
    session = live.open(session_id, main)
    clock = ManualClock(START + timedelta(minutes=11))
    platform = CheckedLocal(clock, store)
    writer = MessageWriter(store.path, **writer_options)
    await writer.start()
    tracker = Tracker(store=store, writer=writer, live=live, clock=clock)
    consuming = asyncio.create_task(tracker.consume(platform))
    try:
        yield store, session, platform, writer
    finally:
        await platform.close()
        await consuming
        await writer.close()
        await store.close()


async def test_a_burst_is_acknowledged_by_the_batch_each_message_only_once_committed(
    tmp_path: Path,
) -> None:
    async with batch_rig(tmp_path, max_batch=100) as (store, session, platform, _writer):
        session.settled(1, "local:main", shown=True)
        said = [platform.say(ANNE, "local:main", f"A1: point {i}").id for i in range(450)]
        said += [platform.say(ANNE, "local:main", "no tag at all").id]
        await until(lambda: len(platform.acknowledged) == len(said))
        async with store.db.execute("SELECT platform_id, questions FROM messages") as cur:
            stored = dict(await cur.fetchall())  # acknowledged, so committed

    assert platform.acknowledged == said  # every one, once, in the order said
    assert platform.uncommitted == []  # none before its batch was committed
    assert 0 < len(platform.calls) < len(said)  # told by the batch, not message by message
    assert stored == dict.fromkeys(said[:-1], "1") | {said[-1]: ""}


async def test_a_failed_commit_acknowledges_none_of_its_batch_to_a_batch_platform(
    tmp_path: Path,
) -> None:
    async with batch_rig(tmp_path, attempts=1) as (store, _session, platform, writer):
        await store.db.execute(REFUSE)
        await store.db.commit()
        for i in range(20):
            platform.say(ANNE, "local:main", f"lost {i}")
        await platform.drained()
        await writer.flush()
        await store.db.execute("DROP TRIGGER refuse")
        await store.db.commit()
        kept = platform.say(ANNE, "local:main", "stored").id
        await until(lambda: platform.acknowledged != [])
    assert platform.acknowledged == [kept]
    assert platform.uncommitted == []


# the common message's row ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply_to", "hidden", "questions"),
    [
        ("A1: a tag", None, False, "1"),
        ("no tag, no number", None, False, ""),
        ("a reply to the question", "q1-post", False, "1"),
        ("A1: hidden by a rule", None, True, "1"),
    ],
)
async def test_a_new_message_is_stored_as_the_row_the_transcript_reads(
    tmp_path: Path, text: str, reply_to: str | None, hidden: bool, questions: str
) -> None:
    """The tracker makes each new message's row itself (no ``StoredMessage`` between):
    every column is what the message says, with its answers and the times to the
    microsecond, a whole second included."""
    main = plan()
    live = LiveIndex()
    session = live.open(7, main)
    session.settled(
        1, "local:main", shown=True, ref=MessageRef(ChannelRef("local", "main"), "q1-post")
    )
    clock = ManualClock(START + timedelta(minutes=11, microseconds=250))
    writer = MessageWriter(tmp_path / "unused.db")
    tracker = Tracker(store=None, writer=writer, live=live, clock=clock)  # type: ignore[arg-type]
    sent = START + timedelta(minutes=10, seconds=59)  # before it is received
    msg = IncomingMessage(
        ref=MessageRef(ChannelRef("local", "main"), "42", url="local://main/42"),
        author=UserRef("local", "ann", "Ann"),
        text=text,
        sent_at=sent,
        reply_to=reply_to,
    )
    received = "2026-03-04T12:11:00.000250+00:00"
    assert tracker._row(session, msg, hidden) == (
        7,
        "local",
        "main",
        "",  # (no thread: NULL, which the insert writes for '', see new_row)
        "42",
        "local:ann",
        "Ann",
        text,
        "2026-03-04T12:10:59.000000+00:00",
        reply_to or "",
        "local://main/42",
        questions,
        received,
        received if hidden else "",
    )
