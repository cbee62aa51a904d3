"""A bilingual community: announcements and questions in both languages, both tags count."""

from __future__ import annotations

from pathlib import Path

from bot.domain import UserRef
from bot.planning import check_all_agendas
from tests.conftest import AGENDA, MOD, Chat, chat_config
from tests.test_session_run import transcript

ANN = UserRef("local", "ann", "Ann")
FRENCH = """
[translations.fr]
title = "Les patients partenaires"
welcome = "Bienvenue à toutes et à tous !"
closing = "Merci à tous."
questions = [
  "Que signifie le partenariat pour vous ?",
  "Quel outil a le plus aidé ?",
  "Que faut-il changer en premier ?",
]
"""


async def test_posts_come_in_both_languages_and_both_answer_letters_count(
    tmp_path: Path,
) -> None:
    config = chat_config(tmp_path, settings='second_locale = "fr"')
    (tmp_path / "agenda.toml").write_text(AGENDA + FRENCH, encoding="utf-8")
    chat = Chat(tmp_path, config)
    await chat.boot()
    try:
        await chat.at(-60)
        reminder = chat.posts()[-1]
        assert reminder.startswith("Reminder: the #hcsmeu chat “Patients as partners” starts in")
        assert (
            "\n\nRappel\u00a0: le chat #hcsmeu «\u00a0Les patients partenaires\u00a0»" in reminder
        )
        assert "commence dans 1\u00a0heure" in reminder
        await chat.at(0)
        welcome = chat.posts()[-1]
        assert "Welcome everyone!" in welcome
        assert "Bienvenue à toutes et à tous !" in welcome
        await chat.at(10)
        assert chat.posts()[-1] == (
            "Q1: What does partnership mean to you?\n"
            "Q1: Que signifie le partenariat pour vous ? #hcsmeu"
        )
        await chat.at(20)
        chat.local.say(ANN, "local:main", "R2 : un portail patient")
        chat.local.say(ANN, "local:main", "A2: a patient portal")
        await chat.at(61)
        answers = {m["text"]: m["questions"] for m in transcript(chat)["messages"]}
        assert answers == {"R2 : un portail patient": [2], "A2: a patient portal": [2]}
        assert 'lang="en"' in (
            tmp_path / "pages" / "hcsmeu" / "2026-03-04" / "index.html"
        ).read_text("utf-8")
    finally:
        await chat.stop()


def test_a_bilingual_community_needs_the_translation(tmp_path: Path) -> None:
    config = chat_config(tmp_path, settings='second_locale = "fr"')
    (problem,) = check_all_agendas(config)
    assert problem.file == str(tmp_path / "agenda.toml")
    assert problem.field == "translations.fr"
    assert "also posts in 'fr'" in problem.message
    short = FRENCH.replace('  "Que faut-il changer en premier ?",\n', "")
    (tmp_path / "agenda.toml").write_text(AGENDA + short, encoding="utf-8")
    (problem,) = check_all_agendas(config)
    assert problem.field == "translations.fr.questions"
    assert problem.message.startswith("2 translated questions for 3 questions")


async def test_an_extra_question_keeps_every_translation_with_its_question(
    tmp_path: Path,
) -> None:
    config = chat_config(tmp_path, settings='second_locale = "fr"')
    (tmp_path / "agenda.toml").write_text(AGENDA + FRENCH, encoding="utf-8")
    chat = Chat(tmp_path, config)
    await chat.boot()
    try:
        await chat.at(12)
        chat.local.say(MOD, "local:main", "/ask What surprised you?")
        await chat.at(12)
        assert "Q2: What surprised you? #hcsmeu" in chat.posts()  # no translation: once
        await chat.at(20)
        assert chat.posts()[-1] == (
            "Q3: Which tool helped most?\nQ3: Quel outil a le plus aidé ? #hcsmeu"
        )
    finally:
        await chat.stop()
