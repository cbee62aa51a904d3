"""What the bot says: the welcome tells how to answer once, in the agenda's words if it has them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AGENDA, Chat, chat_config

HOW_TO_ANSWER = "Answer with A1, A2, … or reply to a question"


async def welcome(tmp_path: Path, agenda: str) -> str:
    config = chat_config(tmp_path)
    (tmp_path / "agenda.toml").write_text(agenda, encoding="utf-8")
    chat = Chat(tmp_path, config)
    await chat.boot()
    try:
        await chat.at(0)
    finally:
        await chat.stop()
    return chat.posts()[-1]


async def test_rules_that_say_how_to_answer_are_not_repeated_by_the_built_in_hint(
    tmp_path: Path,
) -> None:
    rules = 'rules = "Be kind."'
    agenda = AGENDA.replace(rules, 'rules = "Answer with A1, A2... and include #hcsmeu."')
    text = await welcome(tmp_path, agenda)
    assert text.startswith("Welcome to the #hcsmeu chat")
    assert "Answer with A1, A2... and include #hcsmeu." in text
    assert HOW_TO_ANSWER not in text
    assert text.count("A1") == 1


async def test_rules_about_something_else_get_the_hint(tmp_path: Path) -> None:
    text = await welcome(tmp_path, AGENDA)
    assert "Be kind." in text
    assert HOW_TO_ANSWER in text
