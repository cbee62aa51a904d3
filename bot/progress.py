"""How far a session's steps have got: pure decisions over its stored posts.

The runner asks these before it posts the transcript link and closes the chat, so the
rules of "done" live in one place and can be tested without a platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.store import PostState, StepRow
from bot.store.store import PostRow

Posts = Mapping[tuple[str, str], PostRow]


def done(posts: Posts, key: str, channel: str) -> bool:
    """A step is done with in a channel once sent, uncertain or skipped: not while it
    waits for a retry (no row) or for its answer (``sending``)."""
    post = posts.get((key, channel))
    return post is not None and post.state is not PostState.SENDING


def done_everywhere(posts: Posts, step: StepRow, channels: Iterable[str]) -> bool:
    return all(done(posts, step.key, channel) for channel in channels)


def settled(
    posts: Posts, steps: Sequence[StepRow], until: StepRow, channels: Sequence[str]
) -> bool:
    """True once every step before ``until`` is done with in every channel: a closing
    refused just before the transcript link would otherwise never be retried, as the
    chat closes with the link."""
    return all(done_everywhere(posts, s, channels) for s in steps if s.seq < until.seq)


def undone(posts: Posts, step: StepRow, channels: Iterable[str]) -> list[str]:
    """The channels where ``step`` has no final state yet (never tried, or in flight)."""
    return [c for c in channels if not done(posts, step.key, c)]
