"""A transcript's chart of messages per minute, with each question marked where it was
posted: inline SVG, drawn on the server, its colours from CSS classes (bot/site/svg.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup

from bot.i18n import Messages
from bot.site.svg import Mark, Series, bar_chart
from bot.transcript.build import Transcript
from bot.transcript.render import Formatter


@dataclass(frozen=True, slots=True)
class ActivityChart:
    """The chart, and the same figures as table rows: (time, messages, questions posted)."""

    svg: Markup
    rows: tuple[tuple[str, int, str], ...]


def activity_chart(t: Transcript, fmt: Formatter, messages: Messages) -> ActivityChart:
    """A question posted before the start or after the end is marked at the chart's edge,
    as its early or late messages are counted there."""
    _ = messages.gettext
    start = t.session.starts_at
    labels = [fmt.time(start + timedelta(minutes=minute)) for minute, _count in t.activity]
    last = max(len(t.activity) - 1, 0)
    marks = [
        Mark(
            at=min(max((q.posted_at - start) // timedelta(minutes=1), 0), last),
            label=f"Q{q.number}",
            title=f"Q{q.number} {q.text}",
        )
        for q in t.questions
        if q.posted_at is not None
    ]
    posted: dict[int, list[str]] = {}
    for m in marks:
        posted.setdefault(int(m.at), []).append(m.label)
    svg = bar_chart(
        ident="chart-activity",
        title=_("Messages per minute"),
        desc=_("One bar per minute of the chat; dashed lines mark when each question was posted."),
        labels=labels,
        series=[Series(_("Messages"), tuple(count for _minute, count in t.activity), "chart-s1")],
        number=fmt.number,
        first_last=(fmt.time(start), fmt.time(t.session.ends_at)),
        marks=marks,
    )
    return ActivityChart(
        svg=svg,
        rows=tuple(
            (labels[minute], count, " ".join(posted.get(minute, ())))
            for minute, count in t.activity
        ),
    )
