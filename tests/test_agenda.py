"""Agenda loading from TOML and Markdown, and the problems moderators are told about."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.agenda import Agenda, Question, load_agenda, parse_agenda_text
from bot.errors import ConfigError, Problem
from bot.platforms.base import TEXT_LIMITS

DATA = Path(__file__).parent / "data" / "agendas"
EXAMPLES = Path(__file__).parent.parent / "agendas"
HOUR = timedelta(hours=1)


def m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def problems(
    tmp_path: Path, name: str, content: str, *, duration: timedelta = HOUR, limit: int | None = None
) -> list[Problem]:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_agenda(path, duration=duration, text_limit=limit)
    assert all(p.file == str(path) for p in err.value.problems)
    assert str(path) in str(err.value)
    return err.value.problems


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, found
    return found[0]


def test_toml_with_explicit_times() -> None:
    path = DATA / "patients.toml"
    agenda = load_agenda(path, duration=HOUR, text_limit=TEXT_LIMITS["mastodon"])
    assert agenda == Agenda(
        source=str(path),
        title="Patients as partners",
        topic="How patients shape research",
        welcome="Welcome to #hcsmeu! Introduce yourself.",
        rules="Answer with A1, A2... and the hashtag.",
        closing="Thank you all!",
        questions=(
            Question(1, "What does patient partnership mean to you?", m(5)),
            Question(2, "Where have you seen patients change a study?\nShare a link if you can.",
                     m(20)),
            Question(3, "What stops researchers from involving patients earlier?", m(35)),
            Question(4, "One thing you will do differently after today?", m(50)),
        ),
    )  # fmt: skip


def test_toml_spacing_with_first_at() -> None:
    agenda = load_agenda(DATA / "spacing.toml", duration=HOUR)
    assert [q.offset for q in agenda.questions] == [m(3), m(13), m(23)]
    assert [q.number for q in agenda.questions] == [1, 2, 3]
    assert (agenda.topic, agenda.welcome, agenda.rules, agenda.closing) == ("", "", "", "")


def test_spacing_alone_starts_one_step_in() -> None:
    text = 'title = "t"\nspacing = "15m"\n[[questions]]\ntext = "a?"\n[[questions]]\ntext = "b?"\n'
    agenda = parse_agenda_text(text, source="x.toml", fmt="toml", duration=HOUR)
    assert [q.offset for q in agenda.questions] == [m(15), m(30)]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(HOUR, [9, 17, 26, 34, 43, 51]), (m(90), [13, 26, 39, 51, 64, 77]),
     (m(45), [6, 13, 19, 26, 32, 39])],
)  # fmt: skip
def test_even_spread_in_whole_minutes(duration: timedelta, expected: list[int]) -> None:
    agenda = load_agenda(DATA / "even.toml", duration=duration)
    assert [q.offset for q in agenda.questions] == [m(x) for x in expected]


def test_markdown_sections_spacing_and_body_lines() -> None:
    agenda = load_agenda(DATA / "patients.md", duration=HOUR)
    assert agenda.title == "Patients as partners"
    assert agenda.topic == "How patients shape research"
    assert agenda.welcome == (
        "Welcome to #hcsmeu! Introduce yourself.\n\nTell us where you are joining from."
    )
    assert agenda.rules == "Answer with A1, A2... and the hashtag."
    assert agenda.closing == "Thank you all!"
    assert [(q.number, q.text, q.offset) for q in agenda.questions] == [
        (1, "What does patient partnership mean to you?", m(10)),
        (2, "Where have you seen patients change a study?\nShare a link if you can.", m(20)),
        (3, "What stops researchers from involving patients earlier?", m(30)),
    ]


def test_markdown_french_headings_and_time_forms() -> None:
    agenda = load_agenda(DATA / "timed.md", duration=HOUR)
    assert agenda.topic == "Un chat mensuel sur la santé numérique."
    assert agenda.welcome == "Bienvenue sur #hcsmeufr !"
    assert agenda.rules == "Répondez avec R1, R2…"
    assert agenda.closing == "Merci à toutes et à tous !"
    assert [(q.text, q.offset) for q in agenda.questions] == [
        ("Quelle appli santé utilisez-vous ?", m(5)),
        ("Qui vous l'a recommandée ?", m(20)),
        ("Que faudrait-il améliorer ?", m(35)),
        ("Un mot pour conclure ?", m(50)),
    ]


@pytest.mark.parametrize("name", ["hcsmeu.toml", "hcsmeufr.md"])
def test_example_agendas_fit_every_platform(name: str) -> None:
    agenda = load_agenda(EXAMPLES / name, duration=HOUR, text_limit=min(TEXT_LIMITS.values()))
    assert 6 <= len(agenda.questions) <= 8
    assert all([agenda.title, agenda.topic, agenda.welcome, agenda.rules, agenda.closing])
    assert agenda.questions[-1].offset < HOUR


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    p = only(problems(tmp_path, "a.toml", 'title = "ok"\n\ntopic = "unclosed\n'))
    assert p.line == 3
    assert "not valid TOML" in p.message
    assert f"{tmp_path / 'a.toml'}:3:" in str(p)


def test_unknown_keys_suggest_the_closest(tmp_path: Path) -> None:
    text = 'tittle = "x"\ntitle = "t"\n[[questions]]\ntext = "a?"\n[[questions]]\ntxt = "b?"\n'
    found = {p.field: p for p in problems(tmp_path, "a.toml", text)}
    assert "did you mean 'title'?" in found["tittle"].message
    assert found["tittle"].line == 1
    assert "did you mean 'text'?" in found["questions[2].txt"].message
    assert found["questions[2].txt"].line == 6
    assert "empty" in found["questions[2].text"].message


def test_wrong_types(tmp_path: Path) -> None:
    text = 'title = 5\n[[questions]]\ntext = 3\n[[questions]]\ntext = "b?"\nat = 15\n'
    found = {p.field: p for p in problems(tmp_path, "a.toml", text)}
    assert "text in quotes" in found["title"].message
    assert "text in quotes" in found["questions[1].text"].message
    assert found["questions[1].text"].line == 3
    assert "cannot read the time 15" in found["questions[2].at"].message
    assert found["questions[2].at"].line == 6


def test_empty_question_names_field_and_line(tmp_path: Path) -> None:
    text = 'title = "t"\n[[questions]]\ntext = "a?"\n\n[[questions]]\ntext = "   "\n'
    p = only(problems(tmp_path, "a.toml", text))
    assert (p.field, p.line) == ("questions[2].text", 6)
    assert "empty" in p.message


@pytest.mark.parametrize(
    ("name", "content", "hint"),
    [("a.toml", 'title = "t"\n', "[[questions]]"), ("a.md", "# T\n\n## Welcome\nHi\n", "## Q1")],
)
def test_no_questions(tmp_path: Path, name: str, content: str, hint: str) -> None:
    p = only(problems(tmp_path, name, content))
    assert "no questions" in p.message
    assert hint in p.message


def test_duplicates_name_both_numbers(tmp_path: Path) -> None:
    text = "# T\n## Q1 What is #hcsmeu?\n## Q2 Why?\n## Q3   what IS  #hcsmeu?\n"
    p = only(problems(tmp_path, "a.md", text))
    assert "Q3 repeats Q1" in p.message
    assert p.line == 4
    assert p.field == "## Q3   what IS  #hcsmeu?"


def test_times_outside_the_chat_and_not_increasing(tmp_path: Path) -> None:
    blocks = "".join(f'[[questions]]\ntext = "q{i}?"\nat = "{at}"\n'
                     for i, at in enumerate(["5m", "20m", "10m", "1h", "-5m"], 1))  # fmt: skip
    found = {p.field: p for p in problems(tmp_path, "a.toml", 'title = "t"\n' + blocks)}
    assert "Q3 at 10m must come after Q2 at 20m" in found["questions[3].at"].message
    assert found["questions[3].at"].line == 10
    assert "outside the 1h chat" in found["questions[4].at"].message
    assert "cannot read the time '-5m'" in found["questions[5].at"].message
    assert set(found) == {"questions[3].at", "questions[4].at", "questions[5].at"}


def test_every_question_or_none_has_a_time(tmp_path: Path) -> None:
    text = '[[questions]]\ntext = "a?"\nat = "5m"\n[[questions]]\ntext = "b?"\n'
    p = only(problems(tmp_path, "a.toml", 'title = "t"\n' + text))
    assert (p.field, p.line) == ("questions[2].at", 5)
    assert "Q2 has no time" in p.message


def test_spacing_that_overflows_points_at_spacing(tmp_path: Path) -> None:
    text = 'title = "t"\nspacing = "20m"\n' + '[[questions]]\ntext = "a?"\n' * 1
    text += '[[questions]]\ntext = "b?"\n[[questions]]\ntext = "c?"\n'
    p = only(problems(tmp_path, "a.toml", text))
    assert (p.field, p.line) == ("spacing", 2)
    assert "Q3 would be posted at 1h" in p.message
    assert "smaller spacing" in p.message


def test_spacing_and_times_together_or_first_at_alone(tmp_path: Path) -> None:
    both = 'title = "t"\nspacing = "5m"\n[[questions]]\ntext = "a?"\nat = "5m"\n'
    assert "remove spacing" in only(problems(tmp_path, "a.toml", both)).message
    alone = 'title = "t"\nfirst_at = "5m"\n[[questions]]\ntext = "a?"\n'
    p = only(problems(tmp_path, "b.toml", alone))
    assert (p.field, p.line) == ("first_at", 2)
    assert "spacing" in p.message


def test_too_many_questions_for_a_short_chat(tmp_path: Path) -> None:
    text = 'title = "t"\n' + "".join(f'[[questions]]\ntext = "q{i}?"\n' for i in range(5))
    assert "do not fit" in only(problems(tmp_path, "a.toml", text, duration=m(3))).message


def test_markdown_out_of_order_heading_names_its_line(tmp_path: Path) -> None:
    text = "# T\n\n## Q1 First?\n\n## Q3 Second?\n## Q4 Third?\n"
    p = only(problems(tmp_path, "a.md", text))
    assert (p.line, p.field) == (5, "## Q3 Second?")
    assert "says Q3 but the previous question was Q1" in p.message


def test_markdown_layout_problems(tmp_path: Path) -> None:
    text = "Intro before the title\n# T\nspacng: 10m\n## Welcom\nHi\n## Q1 a?\n# Second title\n"
    found = {p.line: p for p in problems(tmp_path, "a.md", text)}
    assert "start with a title line" in found[1].message
    assert "did you mean 'spacing'?" in found[3].message
    assert "did you mean '## Welcome'?" in found[4].message
    assert "second '# ' title" in found[7].message


def test_markdown_without_title(tmp_path: Path) -> None:
    p = only(problems(tmp_path, "a.md", "## Q1 a?\n"))
    assert p.line == 1
    assert "no title" in p.message


def test_text_limit_counts_the_label(tmp_path: Path) -> None:
    fits = "x" * (500 - len("Q1: "))
    agenda = load_agenda(_write(tmp_path, "ok.md", f"# T\n## Q1 {fits}\n"), duration=HOUR,
                         text_limit=500)  # fmt: skip
    assert agenda.questions[0].text == fits
    p = only(problems(tmp_path, "long.md", f"# T\n## Q1 a?\n## Q2 {fits}y\n", limit=500))
    assert p.line == 3
    assert "Q2 is 501 characters" in p.message
    assert "limit is 500" in p.message
    assert "by 1 characters" in p.message


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = 'titel = "t"\n[[questions]]\ntext = ""\n[[questions]]\ntext = "b?"\nat = "5m"\n'
    found = problems(tmp_path, "a.toml", text)
    assert {p.field for p in found} == {"titel", "title", "questions[1].text", "questions[1].at"}
    assert [p.line for p in found if p.line] == sorted(p.line for p in found if p.line)


def test_missing_file_encoding_and_extension(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as err:
        load_agenda(tmp_path / "nope.toml", duration=HOUR)
    assert str(tmp_path / "nope.toml") in str(err.value)
    bad = tmp_path / "latin1.md"
    bad.write_bytes("# T\n## Q1 Caf\u00e9?\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8") as err:
        load_agenda(bad, duration=HOUR)
    assert err.value.problems[0].line == 2
    with pytest.raises(ConfigError, match=r"\.toml, \.md or \.markdown"):
        load_agenda(_write(tmp_path, "a.txt", "# T\n## Q1 a?\n"), duration=HOUR)


def test_markdown_extension_and_bom(tmp_path: Path) -> None:
    agenda = load_agenda(_write(tmp_path, "a.markdown", "\ufeff# T\n## Q1 a?\n"), duration=HOUR)
    assert agenda.title == "T"
    assert agenda.questions == (Question(1, "a?", m(30)),)


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path
