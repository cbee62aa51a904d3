"""What the store hands the transcript builder: a closed session, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionRecord:
    number: int
    text: str
    posted_at: datetime | None  # None when the question was skipped
    confirmed: bool = True  # False when the platform never confirmed the post


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRecord:
    """One stored participant message; ``questions`` is empty for general discussion."""

    id: int
    platform: str
    channel: str
    author_key: str  # "platform:user-id", stable across display-name changes
    author_name: str
    text: str
    sent_at: datetime
    edited_at: datetime | None
    link: str | None
    questions: frozenset[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    community: str
    hashtag: str
    title: str
    locale: str
    timezone: str  # IANA name; times are stored in UTC and shown in this zone
    slug: str  # "<community>/<yyyy-mm-dd>"
    starts_at: datetime
    ends_at: datetime
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptSource:
    session: SessionRecord
    questions: tuple[QuestionRecord, ...]
    messages: tuple[MessageRecord, ...]  # deleted and hidden messages are already left out
