"""A transcript page's chart of messages per minute: SVG drawn on the server, the
questions marked where they were posted, its numbers in a table beside it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from bot.i18n import Messages
from bot.transcript.build import build_transcript
from bot.transcript.model import QuestionRecord
from bot.transcript.render import render_html
from tests.test_transcript import IMG, SCRIPT, SOURCE, at

SVG = "{http://www.w3.org/2000/svg}"


def chart(html: str) -> ET.Element:
    found = re.search(r'<svg [^>]*id="chart-activity".*?</svg>', html, re.S)
    assert found is not None, "no activity chart"
    return ET.fromstring(found.group(0))  # well-formed XML, or this raises


def test_the_chart_has_a_bar_per_minute_equal_to_its_table_and_marks_the_questions() -> None:
    t = build_transcript(SOURCE)
    html = render_html(t, Messages("en"))
    svg = chart(html)
    assert svg.attrib["role"] == "img"
    assert svg.find(f"{SVG}title") is not None
    assert svg.find(f"{SVG}desc") is not None
    bars = [int(r.attrib["data-value"]) for r in svg.iter(f"{SVG}rect")]
    assert bars == [count for _, count in t.activity]
    table = html[html.index('id="table-activity"') :]
    rows = re.findall(r'<tr><td>[^<]*</td><td class="n">(\d+)</td><td>([^<]*)</td></tr>', table)
    assert [int(n) for n, _ in rows] == bars
    # Q1 was posted at the start, Q2 two minutes in; the skipped Q3 is not marked.
    assert [q for _, q in rows] == ["Q1", "", "Q2", "", ""]
    marks = [g.find(f"{SVG}text") for g in svg.iter(f"{SVG}g") if g.get("class") == "chart-mark"]
    assert [m.text for m in marks if m is not None] == ["Q1", "Q2"]
    assert "style=" not in html[html.index('<section id="activity"') :]


def test_question_texts_in_the_chart_stay_text() -> None:
    questions = (
        QuestionRecord(number=1, text=SCRIPT, posted_at=at(0)),
        QuestionRecord(number=2, text=IMG, posted_at=at(2)),
    )
    html = render_html(build_transcript(replace(SOURCE, questions=questions)), Messages("en"))
    chart(html)
    assert SCRIPT not in html
    assert "<img" not in html
