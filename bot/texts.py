"""What the bot says at each step, composed from the catalog in the community's locale."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta

from bot.attribution import answer_letters
from bot.i18n import Messages
from bot.timeline import SessionPlan, StepKind, reminder_offset


def question_post(number: int, text: str, hashtag: str, second: str | None = None) -> str:
    """A question as posted, in one or two languages; agendas are checked against
    platform limits in this form."""
    if second is None:
        return f"Q{number}: {text} {hashtag}"
    return f"Q{number}: {text}\nQ{number}: {second} {hashtag}"


class Texts:
    """Every post of one session; participants' words never pass through a format string.

    A bilingual community's posts come in its first language, then in its second.
    """

    def __init__(self, plan: SessionPlan) -> None:
        self.plan = plan
        self.m = Messages(plan.locale)
        second = plan.in_second_language()
        self.second = None if second is None else Texts(second)

    def _both(self, compose: Callable[[Texts], str]) -> str:
        text = compose(self)
        return text if self.second is None else f"{text}\n\n{compose(self.second)}"

    def _when(self) -> str:
        local = self.plan.starts_at.astimezone(ZoneInfo(self.plan.timezone))
        day = format_date(local, format="full", locale=self.plan.locale)
        hour = format_time(local, format="short", locale=self.plan.locale)
        return f"{day}, {hour} ({self.plan.timezone})"

    def reminder(self, before: timedelta) -> str:
        return self._both(lambda t: t._reminder(before))

    def _reminder(self, before: timedelta) -> str:
        return self.m.gettext(
            "Reminder: the {hashtag} chat “{title}” starts in {delay}, on {when}.",
            hashtag=self.plan.hashtag,
            title=self.plan.title,
            delay=format_timedelta(before, locale=self.plan.locale),
            when=self._when(),
        )

    def welcome(self) -> str:
        return self._both(Texts._welcome)

    def _welcome(self) -> str:
        parts = [
            self.m.gettext(
                "Welcome to the {hashtag} chat: {title}",
                hashtag=self.plan.hashtag,
                title=self.plan.title,
            )
        ]
        parts += [p for p in (self.plan.welcome, self.plan.rules) if p]
        if not self._rules_say_how_to_answer():  # said once, not in two wordings
            parts.append(
                self.m.gettext(
                    "Answer with A1, A2, … or reply to a question, and use {hashtag}.",
                    hashtag=self.plan.hashtag,
                )
            )
        return "\n\n".join(parts)

    def _rules_say_how_to_answer(self) -> bool:
        """Whether the agenda's rules already show the answer tag ("A1", "R1"...)."""
        letters = "".join(sorted(answer_letters(self.plan.locale)))
        return re.search(rf"\b[{letters}] ?1\b", self.plan.rules, re.IGNORECASE) is not None

    def question(self, number: int) -> str:
        translated = self.second is not None and f"q{number}" in self.plan.translated
        second = self.second.plan.question(number).text if translated and self.second else None
        return question_post(number, self.plan.question(number).text, self.plan.hashtag, second)

    def closing(self) -> str:
        return self._both(Texts._closing)

    def planned(self, kind: StepKind, key: str, question: int | None) -> str | None:
        """The post of a step as planned: what the runner sends and the console previews.
        None for the transcript link, which exists only once the transcript is built."""
        match kind:
            case StepKind.REMINDER:
                return self.reminder(reminder_offset(key))
            case StepKind.WELCOME:
                return self.welcome()
            case StepKind.QUESTION:
                assert question is not None
                return self.question(question)
            case StepKind.CLOSING:
                return self.closing()
        return None

    def _closing(self) -> str:
        parts = [p for p in (self.plan.closing,) if p]
        parts.append(
            self.m.gettext(
                "That was the {hashtag} chat. Thank you all! The transcript follows.",
                hashtag=self.plan.hashtag,
            )
        )
        return "\n\n".join(parts)

    def transcript_link(self, url: str) -> str:
        return self._both(lambda t: t._transcript_link(url))

    def _transcript_link(self, url: str) -> str:
        return self.m.gettext(
            "The transcript of today's {hashtag} chat is ready: {url}",
            hashtag=self.plan.hashtag,
            url=url,
        )

    def transcript_unlinked(self) -> str:
        return self._both(Texts._transcript_unlinked)

    def _transcript_unlinked(self) -> str:
        return self.m.gettext(
            "The transcript of today's {hashtag} chat is ready; the moderators will share it.",
            hashtag=self.plan.hashtag,
        )

    def unpublished_notice(self, folder: str) -> str:
        return self.m.gettext(
            "To the moderators of {hashtag}: the transcript is written in {folder} on the"
            " bot's machine. No public_url is configured, so no link was posted in the chat:"
            " share these files, or set public_url so that hashchat serves them.",
            hashtag=self.plan.hashtag,
            folder=folder,
        )

    def late_note(self, behind: timedelta) -> str:
        return self._both(lambda t: t._late_note(behind))

    def _late_note(self, behind: timedelta) -> str:
        minutes = max(1, round(behind.total_seconds() / 60))
        return self.m.ngettext(
            "(posted {n} minute late: the bot was offline)",
            "(posted {n} minutes late: the bot was offline)",
            minutes,
        )

    def missed_notice(self, steps: Sequence[str]) -> str:
        return self.m.gettext(
            "To the moderators of {hashtag}: the bot was offline, so these steps were missed"
            " by more than the grace window and skipped: {steps}.",
            hashtag=self.plan.hashtag,
            steps=", ".join(steps),
        )

    def uncertain_notice(self, step: str, channel: str) -> str:
        return self.m.gettext(
            "To the moderators of {hashtag}: it is not certain that {step} reached {channel}."
            " Please check, and post it by hand if it is missing.",
            hashtag=self.plan.hashtag,
            step=step,
            channel=channel,
        )

    def step_label(self, key: str) -> str:
        if key.startswith("q") and key[1:].isdigit():
            return f"Q{key[1:]}"
        labels = {
            "welcome": self.m.gettext("the welcome"),
            "closing": self.m.gettext("the closing"),
            "transcript": self.m.gettext("the transcript link"),
        }
        return labels.get(key, self.m.gettext("a reminder"))
