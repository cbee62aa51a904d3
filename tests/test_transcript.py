"""Transcript building, rendering and publishing, on a small hand-made session."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Messages
from bot.transcript.build import Transcript, build_transcript
from bot.transcript.model import MessageRecord, QuestionRecord, SessionRecord, TranscriptSource
from bot.transcript.publish import transcript_url, write_transcript
from bot.transcript.render import http_link, md_escape, render_html, render_json, render_markdown

START = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def msg(
    id: int,
    who: str,
    minutes: float,
    text: str,
    questions: set[int] | None = None,
    *,
    name: str | None = None,
    link: str | None = None,
) -> MessageRecord:
    return MessageRecord(
        id=id,
        platform="local",
        channel="main",
        author_key=f"local:{who}",
        author_name=name or who.title(),
        text=text,
        sent_at=at(minutes),
        edited_at=None,
        link=link,
        questions=frozenset(questions or ()),
    )


SESSION = SessionRecord(
    community="pyclub",
    hashtag="#pychat",
    title="Python chat",
    locale="en",
    timezone="Europe/Paris",
    slug="pyclub/2026-03-03",
    starts_at=START,
    ends_at=at(5),
    channels=("local:main",),
)
QUESTIONS = (
    QuestionRecord(number=2, text="Favourite tool?", posted_at=at(2)),
    QuestionRecord(number=1, text="What brings you here?", posted_at=at(0)),
    QuestionRecord(number=3, text="A skipped question", posted_at=None),
)
MESSAGES = (
    msg(5, "bob", 2.5, "ruff", {2}),
    msg(1, "alice", 0.5, "Curiosity", {1}, link="https://example.com/m/1?a=1&b=2"),
    msg(2, "bob", 1.2, "Learning\nand sharing", {1}),
    msg(3, "alice", 2.5, "Both: pytest", {1, 2}),
    msg(4, "carol", -1, "Hello all"),
    msg(6, "dave", 7, "Bye", name="David"),
    msg(7, "dave", 4.1, "A7 there is no Q7", {7}, name="Dave"),
)
SOURCE = TranscriptSource(session=SESSION, questions=QUESTIONS, messages=MESSAGES)


def hostile() -> Transcript:
    bad = (
        msg(1, "mallory", 1, SCRIPT, {1}, name=SCRIPT, link="javascript:alert(1)"),
        msg(2, "eve", 2, IMG, {1}, name=IMG, link=" JavaScript:alert(1)"),
        msg(3, "eve", 3, "[x](http://evil) ![i](http://x)"),
    )
    return build_transcript(replace(SOURCE, messages=bad))


def ids(messages: tuple[MessageRecord, ...]) -> list[int]:
    return [m.id for m in messages]


def test_questions_answers_and_general_discussion() -> None:
    t = build_transcript(SOURCE)
    assert [q.number for q in t.questions] == [1, 2, 3]
    assert t.answers_per_question == ((1, 3), (2, 2), (3, 0))
    assert ids(t.questions[0].answers) == [1, 2, 3]
    assert ids(t.questions[1].answers) == [3, 5]  # same time: by id; message 3 under both
    assert t.questions[2].posted_at is None
    assert ids(t.general) == [4, 7, 6]  # an answer to a question that never existed
    assert (t.total_messages, t.total_answers, t.total_participants) == (7, 4, 4)
    assert t.duration == timedelta(minutes=5)


def test_participants_and_most_active() -> None:
    t = build_transcript(SOURCE, top=3)
    by_key = {p.author_key: p for p in t.participants}
    assert (by_key["local:alice"].message_count, by_key["local:alice"].answer_count) == (2, 2)
    assert (by_key["local:bob"].message_count, by_key["local:bob"].answer_count) == (2, 2)
    assert (by_key["local:carol"].message_count, by_key["local:carol"].answer_count) == (1, 0)
    assert by_key["local:dave"].name == "David"
    assert by_key["local:dave"].first_seen == at(4.1)
    assert [p.name for p in t.participants] == ["Alice", "Bob", "David", "Carol"]
    assert [p.name for p in t.most_active] == ["Alice", "Bob", "David"]


def test_activity_per_minute_has_every_minute_and_clamps() -> None:
    t = build_transcript(SOURCE)
    assert t.activity == ((0, 2), (1, 1), (2, 2), (3, 0), (4, 2))
    assert sum(count for _, count in t.activity) == t.total_messages


def test_html_shows_every_question_and_answer() -> None:
    html = render_html(build_transcript(SOURCE), Messages("en"))
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    for q in QUESTIONS:
        assert q.text in html
        assert f'id="q{q.number}"' in html
    for m in MESSAGES:
        assert m.text in html
    assert "white-space: pre-wrap" in html
    assert 'href="https://example.com/m/1?a=1&amp;b=2"' in html
    assert "Tuesday, March 3, 2026" in html
    assert "Europe/Paris" in html
    assert "<script" not in html


def test_html_marks_edited_messages_and_links_originals() -> None:
    edited = replace(MESSAGES[0], edited_at=at(3))
    t = build_transcript(replace(SOURCE, messages=(edited, *MESSAGES[1:])))
    html = render_html(t, Messages("en"))
    assert html.count(" · <span>edited</span>") == 1
    assert html.count(">original</a>") == 1


@pytest.mark.parametrize(("locale", "lang"), [("en", "en"), ("fr", "fr"), ("fr_CA", "fr-CA")])
def test_html_lang(locale: str, lang: str) -> None:
    t = build_transcript(replace(SOURCE, session=replace(SESSION, locale=locale)))
    assert f'<html lang="{lang}">' in render_html(t, Messages(locale))


def test_french_dates_come_from_babel() -> None:
    t = build_transcript(replace(SOURCE, session=replace(SESSION, locale="fr")))
    html = render_html(t, Messages("fr"))
    assert "mardi 3 mars 2026" in html
    assert "20:00" in html  # Paris time, 24-hour clock
    assert "mardi 3 mars 2026" in render_markdown(t, Messages("fr"))


def test_html_neutralises_hostile_text_names_and_links() -> None:
    html = render_html(hostile(), Messages("en"))
    assert SCRIPT not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html.lower()
    assert "javascript:" not in html.lower()
    assert html.count(SCRIPT.replace("<", "&lt;").replace(">", "&gt;")) >= 3  # text and names


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/x", True),
        ("http://example.com", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        (" https://example.com", False),
        ("data:text/html,hi", False),
        ("https:///nohost", False),
        ("//example.com", False),
        (None, False),
    ],
)
def test_http_link(url: str | None, ok: bool) -> None:
    assert (http_link(url) == url) if ok else http_link(url) is None


def test_markdown_escapes_links_images_and_blocks() -> None:
    md = render_markdown(hostile(), Messages("en"))
    assert "[x](http://evil)" not in md
    assert "](http://x)" not in md
    assert r"\[x\]\(http://evil\)" in md
    assert r"\!\[i\]\(http://x\)" in md
    assert "<script>" not in md
    assert r"\<script\>" in md
    assert "javascript" not in md.lower()


def test_markdown_escape_keeps_lines_but_not_structure() -> None:
    escaped = md_escape("# title\n- item\n+ plus\n12. twelve\n> quote\n===\n\nend \\")
    assert escaped.split("\n") == [  # each line but the last ends in a hard break
        "\\# title\\",
        "\\- item\\",
        "\\+ plus\\",
        "12\\. twelve\\",
        "\\> quote\\",
        "\\===\\",
        "\\",
        "end \\\\",
    ]


def test_markdown_lists_answers_under_questions() -> None:
    md = render_markdown(build_transcript(SOURCE), Messages("en"))
    assert "## Q1. What brings you here?" in md
    assert "- **Alice** · 8:00\u202fPM · [original](https://example.com/m/1?a=1&b=2)" in md
    assert "Learning\\\n  and sharing" in md
    assert md.count("Both: pytest") == 2


def test_json_round_trip() -> None:
    doc = json.loads(render_json(build_transcript(SOURCE, top=2)))
    assert doc["schema"] == "hashchat.transcript/1"
    assert doc["totals"] == {"answers": 4, "messages": 7, "participants": 4}
    assert doc["session"]["starts_at"] == "2026-03-03T19:00:00Z"
    assert doc["session"]["duration_seconds"] == 300
    assert [(q["number"], q["answer_count"]) for q in doc["questions"]] == [(1, 3), (2, 2), (3, 0)]
    assert doc["questions"][1]["answer_ids"] == [3, 5]
    assert doc["general_discussion_ids"] == [4, 7, 6]
    assert len(doc["messages"]) == 7
    assert doc["most_active"] == ["local:alice", "local:bob"]
    assert doc["activity_per_minute"][3] == {"minute": 3, "count": 0}


def test_json_is_stable_and_keeps_unicode() -> None:
    t = build_transcript(replace(SOURCE, messages=(msg(1, "zoé", 1, "Ça va ✓", {1}),)))
    text = render_json(t)
    assert text == render_json(t)
    assert "Ça va ✓" in text
    assert json.loads(text)["messages"][0]["link"] is None


def test_write_transcript_creates_three_files(tmp_path: Path) -> None:
    t = build_transcript(SOURCE)
    directory = write_transcript(tmp_path, t, Messages("en"))
    assert directory == tmp_path / "pyclub" / "2026-03-03"
    assert sorted(p.name for p in directory.iterdir()) == [
        "index.html",
        "transcript.json",
        "transcript.md",
    ]
    assert "What brings you here?" in (directory / "index.html").read_text(encoding="utf-8")
    assert json.loads((directory / "transcript.json").read_text(encoding="utf-8"))["schema"]
    write_transcript(tmp_path, t, Messages("en"))  # republishing replaces in place


@pytest.mark.parametrize(
    "slug",
    [
        "../x/2026-01-01",
        "x/../2026-01-01",
        "/x/2026-01-01",
        "X/2026-01-01",
        "x/2026-01-01\n",
        "x/2026-01-01/..",
        "x/\uff12\uff10\uff12\uff16-01-01",
        "x",
    ],
)
def test_write_transcript_rejects_bad_slugs(tmp_path: Path, slug: str) -> None:
    t = build_transcript(replace(SOURCE, session=replace(SESSION, slug=slug)))
    with pytest.raises(ValueError, match="slug"):
        write_transcript(tmp_path / "out", t, Messages("en"))
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "x").exists()


def test_transcript_url(tmp_path: Path) -> None:
    assert (
        transcript_url("https://chats.example.org/t/", "pyclub/2026-03-03", tmp_path)
        == "https://chats.example.org/t/pyclub/2026-03-03/"
    )
    local = transcript_url(None, "pyclub/2026-03-03-2", tmp_path)
    assert local.startswith("file://")
    assert local.endswith("/pyclub/2026-03-03-2/index.html")
    with pytest.raises(ValueError, match="slug"):
        transcript_url(None, "../etc/2026-01-01", tmp_path)


def test_control_characters_never_reach_the_written_files_raw(tmp_path: Path) -> None:
    text = "nul\x00here \x1b[31mred\x1b[0m\tand a tab"
    t = build_transcript(
        replace(SOURCE, messages=(msg(1, "mallory", 1, text, {1}, name="Mal\x00lory\x07"),))
    )
    folder = write_transcript(tmp_path, t, Messages("en"))
    md = (folder / "transcript.md").read_text(encoding="utf-8")
    assert "nulhere \\[31mred\\[0m\tand a tab" in md
    assert "**Mallory**" in md
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "nulhere [31mred" in page
    assert "Mallory" in page
    raw_json = (folder / "transcript.json").read_bytes()
    assert b"\x00" not in raw_json
    assert b"\x1b" not in raw_json
    # The JSON keeps the words exactly as sent, escaped (\u0000), for whoever reads it back.
    assert json.loads(raw_json)["messages"][0]["text"] == text
