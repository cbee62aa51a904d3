"""Groups and counts a closed session once, so every renderer shows the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.transcript.model import MessageRecord, SessionRecord, TranscriptSource

_MINUTE = timedelta(minutes=1)

Counts = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionSection:
    number: int
    text: str
    posted_at: datetime | None  # None when the question was skipped
    confirmed: bool = True  # posted, but the platform never confirmed it ("uncertain")
    answers: tuple[MessageRecord, ...]  # by sent_at, then id

    @property
    def answer_count(self) -> int:
        return len(self.answers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    author_key: str
    name: str  # the latest non-blank display name; people rename themselves mid-chat
    message_count: int
    answer_count: int  # messages answering at least one question
    first_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """Everything a transcript page shows; ``participants`` is most active first."""

    session: SessionRecord
    questions: tuple[QuestionSection, ...]
    general: tuple[MessageRecord, ...]
    messages: tuple[MessageRecord, ...]
    participants: tuple[Participant, ...]
    most_active: tuple[Participant, ...]
    answers_per_question: Counts  # (question number, answer count)
    duration: timedelta
    activity: Counts  # (minute from start, messages), every minute including empty ones
    total_messages: int
    total_answers: int  # distinct messages answering at least one question
    total_participants: int


@dataclass(slots=True)
class _Tally:
    first_seen: datetime
    name: str = ""
    messages: int = 0
    answers: int = 0


def _chronological(m: MessageRecord) -> tuple[datetime, int]:
    return (m.sent_at, m.id)


def _activity_rank(p: Participant) -> tuple[int, int, str, str]:
    return (-p.message_count, -p.answer_count, p.name.casefold(), p.author_key)


def build_transcript(source: TranscriptSource, *, top: int = 10) -> Transcript:
    """Answers to question numbers the session never had count as general discussion.

    That keeps a stray "A7" in a five-question chat visible instead of silently dropped.
    """
    if top < 0:
        raise ValueError(f"top must be >= 0, got {top}")
    session = source.session
    questions = {q.number: q for q in sorted(source.questions, key=lambda q: q.number)}
    messages = tuple(sorted(source.messages, key=_chronological))

    answers: dict[int, list[MessageRecord]] = {n: [] for n in questions}
    general: list[MessageRecord] = []
    tallies: dict[str, _Tally] = {}
    total_answers = 0
    for m in messages:
        answered = [n for n in m.questions if n in answers]
        for n in answered:
            answers[n].append(m)
        if answered:
            total_answers += 1
        else:
            general.append(m)
        tally = tallies.get(m.author_key)
        if tally is None:
            tally = tallies[m.author_key] = _Tally(first_seen=m.sent_at)
        if m.author_name.strip():
            tally.name = m.author_name
        tally.messages += 1
        tally.answers += bool(answered)

    participants = tuple(
        sorted(
            (
                Participant(
                    author_key=key,
                    name=t.name or key,
                    message_count=t.messages,
                    answer_count=t.answers,
                    first_seen=t.first_seen,
                )
                for key, t in tallies.items()
            ),
            key=_activity_rank,
        )
    )
    sections = tuple(
        QuestionSection(
            number=n,
            text=q.text,
            posted_at=q.posted_at,
            confirmed=q.confirmed,
            answers=tuple(answers[n]),
        )
        for n, q in questions.items()
    )
    return Transcript(
        session=session,
        questions=sections,
        general=tuple(general),
        messages=messages,
        participants=participants,
        most_active=participants[:top],
        answers_per_question=tuple((s.number, s.answer_count) for s in sections),
        duration=session.ends_at - session.starts_at,
        activity=_per_minute(session, messages),
        total_messages=len(messages),
        total_answers=total_answers,
        total_participants=len(participants),
    )


def _per_minute(session: SessionRecord, messages: tuple[MessageRecord, ...]) -> Counts:
    """Early and late messages are clamped so the chart's totals match the message count."""
    span = session.ends_at - session.starts_at
    buckets = max(1, -((-span) // _MINUTE))
    counts = [0] * buckets
    last = buckets - 1
    for m in messages:
        index = (m.sent_at - session.starts_at) // _MINUTE
        counts[0 if index < 0 else last if index > last else index] += 1
    return tuple(enumerate(counts))
