"""Search follows what the transcripts show: every change to a message changes the results."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.domain import UserRef
from bot.store.search import SearchFilters, SearchHit, fts_query, search, split_snippet
from tests.conftest import MOD, Chat, chat_config

pytestmark = pytest.mark.both_backends  # the tests that take ``chat``

ANN = UserRef("local", "ann", "Ann Élise")
BOB = UserRef("local", "bob", "Bob")


async def found(c: Chat, text: str, **filters: object) -> list[SearchHit]:
    assert c.app is not None
    await c.app.settle()
    hits, _ = await search(
        c.app.store.db,
        text,
        SearchFilters(community="hcsmeu", **filters),  # type: ignore[arg-type]
        offset=0,
        limit=50,
    )
    return hits


def words(hits: list[SearchHit]) -> list[str]:
    return ["".join(piece for piece, _ in h.snippet) for h in hits]


async def test_a_published_answer_is_found_with_its_question_chat_and_anchor(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: partnership means shared decisions")
    await chat.at(30)
    assert await found(chat, "decisions") == []  # not published yet: no page to link to
    await chat.at(61)
    (hit,) = await found(chat, "decisions")
    assert hit.slug == "hcsmeu/2026-03-04"
    assert hit.anchor.startswith("m")
    assert (hit.question, hit.question_text) == (1, "What does partnership mean to you?")
    assert (hit.author_name, hit.chat_title) == ("Ann Élise", "Patients as partners")
    assert ("decisions", True) in hit.snippet


async def test_question_texts_are_found_and_link_to_the_question(chat: Chat) -> None:
    await chat.at(61)
    (hit,) = await found(chat, "tool helped")
    assert (hit.anchor, hit.question, hit.author_name) == ("q2", 2, None)


async def test_an_edit_replaces_the_old_words(chat: Chat) -> None:
    await chat.at(10)
    ref = chat.local.say(ANN, "local:main", "A1: typewriter")
    await chat.at(11)
    chat.local.edit(ref, "A1: keyboard")
    await chat.at(61)
    assert await found(chat, "typewriter") == []
    assert words(await found(chat, "keyboard")) == ["A1: keyboard"]


async def test_a_deleted_message_leaves_the_results(chat: Chat) -> None:
    await chat.at(10)
    ref = chat.local.say(ANN, "local:main", "A1: regrettable remark")
    await chat.at(11)
    chat.local.remove(ref)
    await chat.at(61)
    assert await found(chat, "regrettable") == []


async def test_a_hidden_message_leaves_the_results_and_comes_back_unhidden(chat: Chat) -> None:
    await chat.at(10)
    ref = chat.local.say(ANN, "local:main", "A1: advertisement for pills")
    chat.local.say(MOD, "local:main", "/hide", reply_to=ref)
    await chat.at(61)
    assert await found(chat, "pills") == []
    assert chat.app is not None
    # No command unhides yet; the index follows the column whoever writes it.
    await chat.app.store.db.execute("UPDATE messages SET hidden_at = NULL")
    assert len(await found(chat, "pills")) == 1


async def test_forgetme_takes_a_persons_words_out_of_search(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: my private diagnosis")
    await chat.at(61)
    assert len(await found(chat, "diagnosis")) == 1
    chat.local.say(ANN, "local:main", "/forgetme")
    await chat.at(62)
    assert await found(chat, "diagnosis") == []


async def test_opting_out_hides_earlier_words_and_opting_in_shows_them_again(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: earlier words")
    await chat.at(61)
    assert len(await found(chat, "earlier")) == 1
    chat.local.say(ANN, "local:main", "/optout")
    await chat.at(62)
    assert await found(chat, "earlier") == []
    chat.local.say(ANN, "local:main", "/optin")
    await chat.at(63)
    assert len(await found(chat, "earlier")) == 1


async def test_retention_purges_search_results(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path, settings='retention = "30d"'))
    await chat.boot()
    try:
        await chat.at(10)
        chat.local.say(ANN, "local:main", "A1: ephemeral thought")
        await chat.at(61)
        assert len(await found(chat, "ephemeral")) == 1
        assert len(await found(chat, "partnership")) == 1  # the question
        await chat.at(31 * 24 * 60)
        assert await found(chat, "ephemeral") == []
        assert await found(chat, "partnership") == []  # the page is gone: nothing links there
    finally:
        await chat.stop()


async def test_diacritics_are_folded_both_ways(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: l'éducation thérapeutique")
    chat.local.say(BOB, "local:main", "A1: patient education matters")
    await chat.at(61)
    assert len(await found(chat, "education")) == 2
    assert len(await found(chat, "ÉDUCATION")) == 2
    assert len(await found(chat, "therapeutique")) == 1


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "*",
        "-",
        "NEAR(a b)",
        "a OR",
        "AND",
        "col:umn",
        "^start",
        "(((",
        '"" ""',
        "x" * 5000,
        "\ue000hit\ue001",
        "'; DROP TABLE messages; --",
        "\x00",
        "_",
        "\u0640",
    ],
)
async def test_hostile_queries_never_raise(chat: Chat, query: str) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: NEAR the start, a OR b")
    await chat.at(61)
    await found(chat, query)  # raises on an FTS5 syntax error


def test_the_query_parser_keeps_phrases_and_treats_syntax_as_words() -> None:
    assert fts_query('"shared decisions" -tools NEAR*') == '"shared decisions" "tools" "NEAR"'
    assert fts_query('"only an open quote') == '"only" "an" "open" "quote"'
    assert fts_query(" * - ( ) ") is None
    assert fts_query("") is None


async def test_a_phrase_needs_its_words_together(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: shared decisions")
    chat.local.say(BOB, "local:main", "A1: decisions are shared")
    await chat.at(61)
    assert words(await found(chat, '"shared decisions"')) == ["A1: shared decisions"]
    assert len(await found(chat, "shared decisions")) == 2


async def test_participants_markers_cannot_fake_highlighting(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: \ue000fake\ue001 highlight real")
    await chat.at(61)
    (hit,) = await found(chat, "real")
    assert [piece for piece, marked in hit.snippet if marked] == ["real"]


def test_snippet_pieces() -> None:
    assert split_snippet("a \ue000b\ue001 c") == (("a ", False), ("b", True), (" c", False))


async def test_filters_by_question_author_chat_and_dates(chat: Chat) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "A1: lantern")
    await chat.at(20)
    chat.local.say(BOB, "local:main", "A2: lantern")
    chat.local.say(BOB, "local:main", "lantern in general")
    await chat.at(61)
    assert words(await found(chat, "lantern", question=2)) == ["A2: lantern"]
    assert len(await found(chat, "lantern", author="bob")) == 2
    assert len(await found(chat, "lantern", author="élise")) == 1
    assert len(await found(chat, "lantern", chat="2026-03-04")) == 3
    assert await found(chat, "lantern", chat="2026-03-05") == []
    assert len(await found(chat, "lantern", since=date(2026, 3, 4), until=date(2026, 3, 4))) == 3
    assert await found(chat, "lantern", since=date(2026, 3, 5)) == []
    assert await found(chat, "lantern", until=date(2026, 3, 3)) == []
