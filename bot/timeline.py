"""A session's plan and its steps: pure data from which every due time is computed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# A post this much after its due time says it is late; a wake-up a few seconds behind is not.
LATE_AFTER = timedelta(seconds=60)


class StepKind(StrEnum):
    REMINDER = "reminder"
    WELCOME = "welcome"
    QUESTION = "question"
    CLOSING = "closing"
    TRANSCRIPT = "transcript"


class Timing(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class QuestionPlan:
    number: int
    text: str
    offset: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPlan:
    """Everything needed to run one session, snapshotted so later config edits can't break it."""

    community: str
    series: str
    slug: str
    title: str
    topic: str = ""
    hashtag: str
    locale: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    channels: tuple[str, ...]
    moderator_channels: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    welcome: str = ""
    rules: str = ""
    closing: str = ""
    questions: tuple[QuestionPlan, ...] = ()
    reminders: tuple[timedelta, ...] = field(default=())
    slow_mode_seconds: int = 0
    second_locale: str | None = None
    # The texts in the second language: "title", "welcome", "rules", "closing", "q1", ...
    translated: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        def encode(value: object) -> object:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, timedelta):
                return value.total_seconds()
            raise TypeError(type(value))

        return json.dumps(asdict(self), default=encode, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SessionPlan:
        data: dict[str, Any] = json.loads(text)
        data["starts_at"] = datetime.fromisoformat(data["starts_at"])
        data["ends_at"] = datetime.fromisoformat(data["ends_at"])
        data["channels"] = tuple(data["channels"])
        data["moderator_channels"] = tuple(data["moderator_channels"])
        data["moderators"] = tuple(data["moderators"])
        data["reminders"] = tuple(timedelta(seconds=s) for s in data["reminders"])
        data["questions"] = tuple(
            QuestionPlan(q["number"], q["text"], timedelta(seconds=q["offset"]))
            for q in data["questions"]
        )
        return cls(**data)

    def in_second_language(self) -> SessionPlan | None:
        """The same chat as its second-language readers see it, if it has one."""
        if self.second_locale is None:
            return None
        t = self.translated
        return replace(
            self,
            locale=self.second_locale,
            second_locale=None,
            translated={},
            title=t.get("title", self.title),
            topic=t.get("topic", self.topic),
            welcome=t.get("welcome", self.welcome),
            rules=t.get("rules", self.rules),
            closing=t.get("closing", self.closing),
            questions=tuple(replace(q, text=t.get(f"q{q.number}", q.text)) for q in self.questions),
        )

    def question(self, number: int) -> QuestionPlan:
        for q in self.questions:
            if q.number == number:
                return q
        raise KeyError(number)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    key: str
    kind: StepKind
    due_at: datetime
    seq: int
    question: int | None = None


def reminder_key(before: timedelta) -> str:
    return f"reminder:{int(before.total_seconds())}s"


def reminder_offset(key: str) -> timedelta:
    return timedelta(seconds=int(key.removeprefix("reminder:").removesuffix("s")))


def plan_steps(plan: SessionPlan) -> list[PlannedStep]:
    """The session's timeline; ``seq`` orders steps that fall due at the same moment."""
    steps: list[PlannedStep] = []

    def add(key: str, kind: StepKind, due: datetime, question: int | None = None) -> None:
        steps.append(PlannedStep(key, kind, due, len(steps), question))

    for before in sorted(plan.reminders, reverse=True):
        add(reminder_key(before), StepKind.REMINDER, plan.starts_at - before)
    add("welcome", StepKind.WELCOME, plan.starts_at)
    for q in plan.questions:
        add(f"q{q.number}", StepKind.QUESTION, plan.starts_at + q.offset, q.number)
    add("closing", StepKind.CLOSING, plan.ends_at)
    add("transcript", StepKind.TRANSCRIPT, plan.ends_at)
    return steps


def timing(kind: StepKind, due: datetime, now: datetime, grace: timedelta) -> Timing:
    """Whether a step still worth posting is on time, late, or missed beyond the grace window.

    The transcript link is never missed: publishing the record is the point of the chat.
    """
    behind = now - due
    if behind <= LATE_AFTER:
        return Timing.ON_TIME
    if behind <= grace or kind is StepKind.TRANSCRIPT:
        return Timing.LATE
    return Timing.MISSED
