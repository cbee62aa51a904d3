"""The agenda editor's form: from a chat's plan, to TOML, checked by the agenda validator.

Form fields are named as the validator names its fields (``title``,
``questions[2].text``, ``translations.fr.questions``), so each problem it reports is
shown at the field it is about with no mapping table to keep in step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.agenda import Agenda
from bot.config import CommunityConfig
from bot.durations import format_duration
from bot.errors import ConfigError
from bot.planning import agenda_from_text
from bot.timeline import SessionPlan

TEXTS = ("title", "topic", "welcome", "rules", "closing")
SPARE_ROWS = 1  # empty question rows offered for adding one


@dataclass(frozen=True, slots=True)
class QuestionRow:
    number: int
    text: str
    at: str


@dataclass(slots=True)
class AgendaForm:
    texts: dict[str, str]
    questions: list[QuestionRow]
    second: str | None  # the community's second language, if bilingual
    translated: dict[str, str]  # title, ... and "questions": one per line

    def rows(self) -> list[QuestionRow]:
        """The questions, and spare empty rows to add one."""
        spare = [QuestionRow(len(self.questions) + i, "", "") for i in range(1, SPARE_ROWS + 1)]
        return [*self.questions, *spare]


@dataclass(slots=True)
class Checked:
    """What the validator said: problems by form field, and those about the whole."""

    agenda: Agenda | None
    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def from_plan(plan: SessionPlan, community: CommunityConfig) -> AgendaForm:
    t = plan.translated
    return AgendaForm(
        texts={name: getattr(plan, name) for name in TEXTS},
        questions=[
            QuestionRow(q.number, q.text, format_duration(q.offset)) for q in plan.questions
        ],
        second=community.second_locale,
        translated={
            **{name: t.get(name, "") for name in TEXTS},
            "questions": "\n".join(t.get(f"q{q.number}", "") for q in plan.questions),
        },
    )


def from_post(form: Mapping[str, str], community: CommunityConfig) -> AgendaForm:
    """What was submitted; a question row left with neither text nor time is dropped."""
    rows: list[tuple[str, str]] = []
    n = 1
    while f"questions[{n}].text" in form or f"questions[{n}].at" in form:
        text, at = form.get(f"questions[{n}].text", ""), form.get(f"questions[{n}].at", "")
        if text.strip() or at.strip():
            rows.append((text, at))
        n += 1
    second = community.second_locale
    prefix = f"translations.{second}."
    return AgendaForm(
        texts={name: form.get(name, "") for name in TEXTS},
        questions=[QuestionRow(i, text, at) for i, (text, at) in enumerate(rows, 1)],
        second=second,
        translated={
            name: form.get(prefix + name, "") if second else "" for name in (*TEXTS, "questions")
        },
    )


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value.replace("\r\n", "\n"), ensure_ascii=False)


def to_toml(form: AgendaForm) -> str:
    # An empty text is left out, as in a file: "title" always, so its absence is reported.
    kept = [name for name in TEXTS if form.texts[name] or name == "title"]
    lines = [f"{name} = {_string(form.texts[name])}" for name in kept]
    for q in form.questions:
        lines += ["", "[[questions]]", f"text = {_string(q.text)}"]
        if q.at.strip():
            lines.append(f"at = {_string(q.at.strip())}")
    if form.second:
        lines += ["", f"[translations.{form.second}]"]
        for name in TEXTS:
            if form.translated.get(name, "").strip():
                lines.append(f"{name} = {_string(form.translated[name])}")
        questions = [q.strip() for q in form.translated.get("questions", "").splitlines()]
        lines.append(f"questions = [{', '.join(_string(q) for q in questions if q)}]")
    return "\n".join(lines) + "\n"


def check(
    form: AgendaForm, community: CommunityConfig, *, source: str, duration: timedelta
) -> Checked:
    """Run the agenda validator of ``hashchat check`` on the form's agenda."""
    try:
        agenda = agenda_from_text(community, to_toml(form), source=source, duration=duration)
    except ConfigError as exc:
        found = Checked(None)
        fields = {*TEXTS, "questions"} | {
            f"questions[{q.number}].{part}" for q in form.questions for part in ("text", "at")
        }
        if form.second:
            fields |= {f"translations.{form.second}.{n}" for n in (*TEXTS, "questions")}
        for problem in exc.problems:
            where = problem.field or ""
            if where == f"translations.{form.second}":
                where = f"translations.{form.second}.questions"
            if where in fields:
                found.by_field.setdefault(where, []).append(problem.message)
            else:
                found.general.append(problem.message)
        return found
    return Checked(agenda)
