"""A chat's steps as the console lists them: when, what, and the exact text posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.i18n import Messages
from bot.store import StepRow
from bot.texts import Texts
from bot.timeline import SessionPlan


@dataclass(frozen=True, slots=True)
class StepView:
    key: str
    label: str  # "Q2", "welcome", ...
    when: str  # local date and time, with the zone
    due_at: datetime
    text: str  # exactly as posted (participants' and agenda texts are escaped by the page)
    done: bool


def post_text(plan: SessionPlan, step: StepRow, m: Messages) -> str:
    """The post the runner will send for ``step`` (the transcript link is known only then)."""
    planned = Texts(plan).planned(step.kind, step.key, step.question)
    return planned or m.gettext("The link to the transcript, once it is published.")


def local_time(when: datetime, plan: SessionPlan, locale: str) -> str:
    local = when.astimezone(ZoneInfo(plan.timezone))
    return f"{format_datetime(local, format='medium', locale=locale)} ({plan.timezone})"


def step_views(
    plan: SessionPlan, steps: list[StepRow], done: set[str], m: Messages
) -> list[StepView]:
    return [
        StepView(
            key=s.key,
            label=Texts(plan).step_label(s.key),
            when=local_time(s.due_at, plan, m.locale),
            due_at=s.due_at,
            text=post_text(plan, s, m),
            done=s.key in done,
        )
        for s in sorted(steps, key=lambda s: (s.due_at, s.seq))
    ]
