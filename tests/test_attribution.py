"""Tests for deciding which questions a chat message answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.attribution import answer_letters, attribute, normalise
from bot.sentence_words import ARTICLES

FIVE = frozenset(range(1, 6))
TEN = frozenset(range(1, 11))
NONE: frozenset[int] = frozenset()
LOCALES = ["en", "fr", "fr_CA", "fr-CA", "es", "pt", "de", "nl", "it", "xx", ""]

CASES = [
    # Plain tags at the start.
    pytest.param("A1 yes", "en", FIVE, None, {1}, id="start-bare"),
    pytest.param("a1 lower case works", "en", FIVE, None, {1}, id="start-lowercase"),
    pytest.param("A3: blah", "en", FIVE, None, {3}, id="start-colon"),
    pytest.param("a3) ok", "en", FIVE, None, {3}, id="start-paren"),
    pytest.param("A 3 - fine", "en", FIVE, None, {3}, id="spaced-with-separator"),
    pytest.param("A3. Short answer", "en", FIVE, None, {3}, id="start-full-stop"),
    pytest.param("A01 leading zero", "en", FIVE, None, {1}, id="leading-zero"),
    pytest.param("@bob A1 yes", "en", FIVE, None, {1}, id="after-mention"),
    pytest.param("#hcsmeu A2: access", "en", FIVE, None, {2}, id="after-hashtag"),
    pytest.param("👉 A3 trust", "en", FIVE, None, {3}, id="after-emoji"),
    pytest.param("- A2 bullet", "en", FIVE, None, {2}, id="after-dash-bullet"),
    pytest.param("• A4 bullet", "en", FIVE, None, {4}, id="after-round-bullet"),
    pytest.param('"A2 quoted"', "en", FIVE, None, {2}, id="after-quote"),
    pytest.param("Great chat!\nA2 yes\nA3 no", "en", FIVE, None, {2, 3}, id="multi-line"),
    # Before a separator, anywhere.
    pytest.param("...and also A3: blah", "en", FIVE, None, {3}, id="mid-colon"),
    pytest.param("so much to say A4 - mostly data", "en", FIVE, None, {4}, id="mid-dash"),
    pytest.param("Thoughts A4 \u2014 trust", "en", FIVE, None, {4}, id="mid-em-dash"),
    pytest.param("Take the A1. Then left", "en", FIVE, None, NONE, id="mid-full-stop-is-prose"),
    pytest.param("A1:30 is late for me", "en", FIVE, None, {1}, id="start-wins-over-time"),
    pytest.param("meet at A1:30 ok", "en", FIVE, None, NONE, id="colon-digit-not-separator"),
    # Lists and ranges.
    pytest.param("A1 & A2: both", "en", FIVE, None, {1, 2}, id="list-ampersand"),
    pytest.param("A1/A2", "en", FIVE, None, {1, 2}, id="list-slash"),
    pytest.param("A1, A2: same", "en", FIVE, None, {1, 2}, id="list-comma"),
    pytest.param("so A1, A2 and A3: same", "en", FIVE, None, {1, 2, 3}, id="list-comma-and"),
    pytest.param("A1 and A2 - both", "en", FIVE, None, {1, 2}, id="list-and-dash"),
    pytest.param("A1+A2 same", "en", FIVE, None, {1, 2}, id="list-plus"),
    pytest.param("A1 et A2 : oui", "fr", FIVE, None, {1, 2}, id="list-french-et"),
    pytest.param("A1 y A2: sí", "es", FIVE, None, {1, 2}, id="list-spanish-y"),
    pytest.param("I like A1 and A2 roads", "en", FIVE, None, NONE, id="list-mid-sentence"),
    pytest.param("A1-A3 all the same", "en", FIVE, None, {1, 2, 3}, id="range"),
    pytest.param("A1\u2013A3 all the same", "en", FIVE, None, {1, 2, 3}, id="range-en-dash"),
    pytest.param("A3-A1: same", "en", FIVE, None, {1, 2, 3}, id="range-reversed"),
    pytest.param("A4-A9: rest", "en", FIVE, None, {4, 5}, id="range-clipped-to-posted"),
    pytest.param("A1-A99999999999: x", "en", FIVE, None, {1}, id="range-huge-end"),
    # Trailing tags.
    pytest.param("great point #hcsmeu A2", "en", FIVE, None, {2}, id="trailing-after-hashtag"),
    pytest.param("I agree A2", "en", FIVE, None, {2}, id="trailing"),
    pytest.param("yes! (A3)", "en", FIVE, None, {3}, id="trailing-parenthesised"),
    pytest.param("I agree A2 👍 #hcsmeu", "en", FIVE, None, {2}, id="trailing-then-emoji-tag"),
    pytest.param("I agree A2\nmore later", "en", FIVE, None, {2}, id="trailing-line"),
    # A token that is a word of the sentence: a road, a grade, a level, a paper size, a car.
    pytest.param("Stuck in traffic on the A1 😅", "en", FIVE, None, NONE, id="word-road-emoji"),
    pytest.param(
        "A3: yes (typing this from the A2)", "en", FIVE, None, {3}, id="word-road-in-brackets"
    ),
    pytest.param("Stuck on the A1", "en", FIVE, None, NONE, id="word-the-end"),
    pytest.param("I took the A1.", "en", FIVE, None, NONE, id="word-the-full-stop"),
    pytest.param("stuck on the A1: jammed", "en", FIVE, None, NONE, id="word-the-colon"),
    pytest.param("stuck on the A1 - jammed", "en", FIVE, None, NONE, id="word-the-dash"),
    pytest.param("the A1 → jammed", "en", FIVE, None, NONE, id="word-the-arrow"),
    pytest.param("on the A1 and A2", "en", FIVE, None, NONE, id="word-the-list"),
    pytest.param("Got an A1", "en", FIVE, None, NONE, id="word-an-grade"),
    pytest.param("Got an A1!!", "en", FIVE, None, NONE, id="word-an-grade-exclaim"),
    pytest.param("I am learning Spanish at A2", "en", FIVE, None, NONE, id="word-at-level"),
    pytest.param("my Spanish is level A2", "en", FIVE, None, NONE, id="word-level"),
    pytest.param("please print it in size A4", "en", FIVE, None, NONE, id="word-size"),
    pytest.param("we need more vitamin A1", "en", FIVE, None, NONE, id="word-vitamin-end"),
    pytest.param("leave at exit A3 🚗", "en", FIVE, None, NONE, id="word-exit"),
    pytest.param("meet me at gate A4)", "en", FIVE, None, NONE, id="word-gate-bracket"),
    pytest.param("Je suis bloqué sur l'A7", "fr", TEN, None, NONE, id="fr-elided-l"),
    pytest.param("Je suis bloqué sur l\u2019A7", "fr", TEN, None, NONE, id="fr-elided-curly"),
    pytest.param("bouchons sur l' A2", "fr", FIVE, None, NONE, id="fr-elided-spaced"),
    pytest.param("J'ai acheté une R5", "fr", FIVE, None, NONE, id="fr-une-R"),
    pytest.param("Au volant de la R5 😎", "fr", FIVE, None, NONE, id="fr-la-R-emoji"),
    pytest.param("imprimé au format A4", "fr", FIVE, None, NONE, id="fr-format"),
    pytest.param("du papier A4", "fr", FIVE, None, NONE, id="fr-papier"),
    pytest.param("j'ai eu la note A1", "fr", FIVE, None, NONE, id="fr-note"),
    pytest.param("Je parle allemand, niveau A2.", "fr", FIVE, None, NONE, id="fr-niveau"),
    pytest.param("on roule vers A1 \U0001f697", "fr", FIVE, None, NONE, id="fr-vers"),
    pytest.param("Stau auf der A2", "de", FIVE, None, NONE, id="de-der-road"),
    pytest.param("Stau auf der A 2", "de", FIVE, None, NONE, id="de-der-spaced"),
    pytest.param("Ich stehe im Stau auf der A3 😡", "de", FIVE, None, NONE, id="de-emoji"),
    pytest.param("Meine Note A1", "de", FIVE, None, NONE, id="de-Note"),
    pytest.param("Ich lerne Deutsch, Niveau A2", "de", FIVE, None, NONE, id="de-Niveau"),
    pytest.param("Papier im Format DIN A4", "de", FIVE, None, NONE, id="de-DIN"),
    pytest.param("bitte in Größe A4", "de", FIVE, None, NONE, id="de-Groesse"),
    pytest.param("zu wenig Vitamin A1", "de", FIVE, None, NONE, id="de-Vitamin"),
    pytest.param("Ausfahrt A3 (Köln)", "de", FIVE, None, NONE, id="de-Ausfahrt-brackets"),
    pytest.param("file op de A2", "nl", FIVE, None, NONE, id="nl-de-road"),
    pytest.param("Ik sta vast op de A4 😤", "nl", FIVE, None, NONE, id="nl-de-emoji"),
    pytest.param("ongeluk op de A2 - veel file", "nl", FIVE, None, NONE, id="nl-de-dash"),
    pytest.param("ik rijd richting A1", "nl", FIVE, None, NONE, id="nl-richting"),
    pytest.param("een vel A4", "nl", FIVE, None, NONE, id="nl-vel"),
    pytest.param("Atasco en la A6", "es", TEN, None, NONE, id="es-la-road"),
    pytest.param("Atasco en la A-6", "es", TEN, None, NONE, id="es-la-road-dash"),
    pytest.param("voy por la A3 🚗", "es", FIVE, None, NONE, id="es-la-emoji"),
    pytest.param("Tengo nivel A2", "es", FIVE, None, NONE, id="es-nivel"),
    pytest.param("una hoja tamaño A4", "es", FIVE, None, NONE, id="es-tamano"),
    pytest.param("tomo vitamina A1", "es", FIVE, None, NONE, id="es-vitamina"),
    pytest.param("salimos hacia R3", "es", FIVE, None, NONE, id="es-hacia-R"),
    pytest.param("Stuck on the A1", "en", FIVE, 2, {2}, id="word-reply-still-counts"),
    # Tags that stand as tags, next to those words.
    pytest.param("… A2", "en", FIVE, None, {2}, id="trailing-after-ellipsis"),
    pytest.param("I agree — A2", "en", FIVE, None, {2}, id="trailing-after-em-dash"),
    pytest.param("I agree - A2", "en", FIVE, None, {2}, id="trailing-after-dash"),
    pytest.param("so true 😂 A3", "en", FIVE, None, {3}, id="trailing-after-emoji"),
    pytest.param("Stuck on the A1 😅 A2", "en", FIVE, None, {2}, id="trailing-after-road"),
    pytest.param("Love this A2", "en", FIVE, None, {2}, id="trailing-after-this"),
    pytest.param("+1 on A2", "en", FIVE, None, {2}, id="trailing-on-is-about"),
    pytest.param("same for A3", "en", FIVE, None, {3}, id="trailing-for"),
    pytest.param("h/t via @bob A2", "en", FIVE, None, {2}, id="trailing-after-mention"),
    pytest.param("Live at #hcsmeu A4", "en", FIVE, None, {4}, id="trailing-after-hashtag-at"),
    pytest.param("Great point (A2)", "en", FIVE, None, {2}, id="trailing-bracketed"),
    pytest.param("Here is my A2", "en", FIVE, None, {2}, id="trailing-my"),
    pytest.param("The A1 is jammed\nA1 yes", "en", FIVE, None, {1}, id="road-line-then-tag"),
    pytest.param("The A1: stuck there", "en", FIVE, None, NONE, id="word-The-colon"),
    pytest.param("Thoughts at A2: yes", "en", FIVE, None, {2}, id="colon-beats-preposition"),
    pytest.param("Vitamin A1: important", "en", FIVE, None, {1}, id="colon-beats-noun"),
    pytest.param("d'accord — R2", "fr", FIVE, None, {2}, id="fr-trailing-dash"),
    pytest.param("Tout à fait R3 👍", "fr", FIVE, None, {3}, id="fr-trailing-emoji"),
    pytest.param("bloqué sur l'A7. R1 : oui", "fr", FIVE, None, {1}, id="fr-road-then-tag"),
    pytest.param("Einverstanden A2", "de", FIVE, None, {2}, id="de-trailing"),
    pytest.param("Eens met A1 en A2", "nl", FIVE, None, {1, 2}, id="nl-trailing-list"),
    pytest.param("Estoy de acuerdo R2", "es", FIVE, None, {2}, id="es-trailing-R"),
    pytest.param("Muy de acuerdo 👍 A3", "es", FIVE, None, {3}, id="es-trailing-emoji"),
    # Normalisation.
    pytest.param("\uff21\uff12 yes", "en", FIVE, None, {2}, id="full-width"),
    pytest.param(
        "\uff21\uff12\uff1a\uff59\uff45\uff53", "en", FIVE, None, {2}, id="full-width-colon"
    ),
    pytest.param("A\u200b2 yes", "en", FIVE, None, {2}, id="zero-width-space"),
    pytest.param("\ufeff\u200eA2 yes", "en", FIVE, None, {2}, id="bom-and-mark"),
    pytest.param("\u202aA\u00ad2\u202c: yes", "en", FIVE, None, {2}, id="bidi-soft-hyphen"),
    pytest.param("A1\u200dC", "en", FIVE, None, NONE, id="zero-width-joins-word"),
    pytest.param("<b>A1</b> yes", "en", FIVE, None, {1}, id="html-bold"),
    pytest.param("<p>hi there</p><p>A2: yes</p>", "en", FIVE, None, {2}, id="html-paragraphs"),
    pytest.param("I think so<br/>A3 yes", "en", FIVE, None, {3}, id="html-br"),
    pytest.param("A1 &amp; A2: both", "en", FIVE, None, {1, 2}, id="html-entity"),
    pytest.param(
        '<p><span class="h-card"><a href="https://m.social/@bob">@<span>bob</span></a></span>'
        " A2 yes, <strong>definitely</strong></p>",
        "en",
        FIVE,
        None,
        {2},
        id="html-mastodon-mention",
    ),
    pytest.param("**A1** yes", "en", FIVE, None, {1}, id="md-bold"),
    pytest.param("__A1__: yes", "en", FIVE, None, {1}, id="md-underscore-bold"),
    pytest.param("*A1* yes", "en", FIVE, None, {1}, id="md-italic"),
    pytest.param("_A1_ yes", "en", FIVE, None, {1}, id="md-underscore-italic"),
    pytest.param("~~A1~~ yes", "en", FIVE, None, {1}, id="md-strike"),
    pytest.param("`A1` yes", "en", FIVE, None, {1}, id="md-code"),
    pytest.param("so **A2:** yes", "en", FIVE, None, {2}, id="md-bold-with-colon"),
    # Locales.
    pytest.param("R2 : oui", "fr", FIVE, None, {2}, id="fr-R"),
    pytest.param("R2 : oui", "fr_CA", FIVE, None, {2}, id="fr_CA-R"),
    pytest.param("r2 : oui", "fr-CA", FIVE, None, {2}, id="fr-CA-lowercase-r"),
    pytest.param("R3: sí", "es", FIVE, None, {3}, id="es-R"),
    pytest.param("R1 sim", "pt", FIVE, None, {1}, id="pt-R"),
    pytest.param("R2: ja", "de", FIVE, None, NONE, id="de-R-not-answer"),
    pytest.param("R2: yes", "en", FIVE, None, NONE, id="en-R-not-answer"),
    pytest.param("A2: ja", "de", FIVE, None, {2}, id="de-A"),
    pytest.param("A2: ja", "nl", FIVE, None, {2}, id="nl-A"),
    pytest.param("A2: oui", "fr", FIVE, None, {2}, id="fr-A"),
    pytest.param("R2-D2 est là", "fr", FIVE, None, NONE, id="fr-R-in-word"),
    # Ordinary words, code and addresses.
    pytest.param("take the A1 road", "en", FIVE, None, NONE, id="mid-road"),
    pytest.param("vitamin A1 levels", "en", FIVE, None, NONE, id="mid-vitamin"),
    pytest.param("I can't answer A2 yet", "en", FIVE, None, NONE, id="mid-cannot-answer"),
    pytest.param("my A1 grade", "en", FIVE, None, NONE, id="mid-grade"),
    pytest.param("A 2 day trip", "en", FIVE, None, NONE, id="spaced-without-separator"),
    pytest.param("a 2: lower spaced", "en", FIVE, None, NONE, id="spaced-lowercase"),
    pytest.param("A.3 see section", "en", FIVE, None, NONE, id="dotted"),
    pytest.param("HbA1c is high", "en", FIVE, None, NONE, id="HbA1c"),
    pytest.param("A1C test", "en", FIVE, None, NONE, id="A1C"),
    pytest.param("A2A", "en", FIVE, None, NONE, id="A2A"),
    pytest.param("A2-Niveau", "de", FIVE, None, NONE, id="A2-Niveau"),
    pytest.param("A1B2", "en", FIVE, None, NONE, id="A1B2"),
    pytest.param("A10x", "en", FIVE, None, NONE, id="A10x"),
    pytest.param("A1.5 version", "en", FIVE, None, NONE, id="decimal"),
    pytest.param("my_A1_var = 3", "en", FIVE, None, NONE, id="identifier"),
    pytest.param("2*A3*4", "en", FIVE, None, NONE, id="arithmetic-stars"),
    pytest.param("https://x.org/A1", "en", FIVE, None, NONE, id="url-path"),
    pytest.param("x.org/A1", "en", FIVE, None, NONE, id="bare-url-path"),
    pytest.param("see www.a1.com now", "en", FIVE, None, NONE, id="www"),
    pytest.param("a1.com", "en", FIVE, None, NONE, id="domain"),
    pytest.param("mail a1@x.org", "en", FIVE, None, NONE, id="email"),
    pytest.param("A1@bob", "en", FIVE, None, NONE, id="glued-mention"),
    pytest.param("#A1", "en", FIVE, None, NONE, id="hashtag"),
    pytest.param("@A1", "en", FIVE, None, NONE, id="mention"),
    pytest.param("A3 https://x.org/A4", "en", FIVE, None, {3}, id="tag-then-url"),
    # Questions, numbers.
    pytest.param("Q3 was great", "en", FIVE, None, NONE, id="question-tag"),
    pytest.param("Q3: A question", "en", FIVE, None, NONE, id="question-tag-colon"),
    pytest.param("A0 yes", "en", FIVE, None, NONE, id="A0"),
    pytest.param("A00: yes", "en", FIVE, None, NONE, id="A00"),
    pytest.param("A99999999999999999999: x", "en", FIVE, None, NONE, id="huge-number"),
    pytest.param("A" + "9" * 5000 + ": x", "en", FIVE, None, NONE, id="enormous-number"),
    # Posted questions and replies.
    pytest.param("A7: not yet", "en", FIVE, None, NONE, id="unposted"),
    pytest.param("A2 & A7: both", "en", FIVE, None, {2}, id="unposted-dropped-others-kept"),
    pytest.param("A1: yes", "en", NONE, None, NONE, id="nothing-posted"),
    pytest.param("Totally agree", "en", FIVE, 3, {3}, id="reply"),
    pytest.param("Totally agree", "en", FIVE, 9, NONE, id="reply-unposted"),
    pytest.param("A1: also this", "en", FIVE, 2, {1, 2}, id="reply-plus-tag"),
    pytest.param("take the A1 road", "en", FIVE, 2, {2}, id="reply-with-prose-tag"),
    pytest.param("Totally agree", "en", FIVE, None, NONE, id="general-discussion"),
    pytest.param("", "en", FIVE, None, NONE, id="empty"),
    pytest.param("", "en", FIVE, 4, {4}, id="empty-reply"),
]


@pytest.mark.parametrize(("text", "locale", "posted", "reply_question", "expected"), CASES)
def test_attribute(
    text: str,
    locale: str,
    posted: frozenset[int],
    reply_question: int | None,
    expected: set[int],
) -> None:
    result = attribute(text, posted=posted, locale=locale, reply_question=reply_question)
    assert result == frozenset(expected)
    assert isinstance(result, frozenset)


def test_attribute_accepts_any_collection() -> None:
    assert attribute("A1, A2: yes", posted=[2, 3]) == {2}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", {"A"}),
        ("de", {"A"}),
        ("nl", {"A"}),
        ("fr", {"A", "R"}),
        ("fr_CA", {"A", "R"}),
        ("fr-CA", {"A", "R"}),
        ("FR", {"A", "R"}),
        ("es", {"A", "R"}),
        ("pt_BR", {"A", "R"}),
        ("xx", {"A"}),
        ("", {"A"}),
    ],
)
def test_answer_letters(locale: str, expected: set[str]) -> None:
    assert answer_letters(locale) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("\uff21\uff12\uff58", "A2x", id="full-width"),
        pytest.param("A\u200b\u200c\u200d\u2060\ufeff\u00ad1", "A1", id="invisible"),
        pytest.param("\u200e\u200f\u202a\u202e\u2066\u2069x", "x", id="bidi"),
        pytest.param("a<br>b</p>c", "a\nb\nc", id="html-breaks"),
        pytest.param("<b>A1</b> <i>x</i>", "A1 x", id="html-inline"),
        pytest.param("&lt;b&gt;A1 &amp; x", "<b>A1 & x", id="entities-after-tags"),
        pytest.param("**A1** _x_ ~~y~~ `z`", "A1 x y z", id="markdown"),
        pytest.param("**_A1_**", "A1", id="markdown-nested"),
        pytest.param("snake_case_name 2*3*4", "snake_case_name 2*3*4", id="markdown-intraword"),
        pytest.param("a\r\nb\u2028c", "a\nb\nc", id="line-breaks"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


TAGGY = st.text(
    alphabet="AaRrQq0123456789 :-\u2013,.&/+()#@*_~`<>\n\u200b\uff21\uff12éx", max_size=40
)
POSTED = st.frozensets(st.integers(min_value=0, max_value=30), max_size=10)
REPLY = st.none() | st.integers(min_value=-3, max_value=35)


@given(
    text=st.one_of(st.text(), TAGGY),
    posted=POSTED,
    reply_question=REPLY,
    locale=st.sampled_from(LOCALES),
)
def test_result_is_always_posted_questions(
    text: str, posted: frozenset[int], reply_question: int | None, locale: str
) -> None:
    result = attribute(text, posted=posted, locale=locale, reply_question=reply_question)
    assert isinstance(result, frozenset)
    assert result <= posted
    if reply_question in posted:
        assert reply_question in result


FREE_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")))


@given(data=st.data(), locale=st.sampled_from(LOCALES))
def test_tag_with_colon_always_counts(data: st.DataObject, locale: str) -> None:
    posted = data.draw(st.frozensets(st.integers(min_value=1, max_value=50), min_size=1))
    n = data.draw(st.sampled_from(sorted(posted)))
    free = data.draw(FREE_TEXT)
    assert n in attribute(f"A{n}: {free}", posted=posted, locale=locale)


@given(text=st.text(), locale=st.sampled_from(LOCALES))
def test_nothing_posted_answers_nothing(text: str, locale: str) -> None:
    assert attribute(text, posted=(), locale=locale) == frozenset()


@pytest.mark.parametrize("article", sorted(ARTICLES))
def test_a_token_after_an_article_is_a_word_unless_set_apart(article: str) -> None:
    locales = ["en", "fr", "de", "nl", "es"]
    assert attribute(f"stuck on {article} A2", posted=FIVE, locale=locales) == NONE
    assert attribute(f"stuck on {article} A2: jammed", posted=FIVE, locale=locales) == NONE
    assert attribute(f"stuck on {article} 😅 A2", posted=FIVE, locale=locales) == {2}
    assert attribute(f"stuck on {article}\nA2: yes", posted=FIVE, locale=locales) == {2}


@given(data=st.data(), locale=st.sampled_from(LOCALES))
def test_a_tag_set_apart_at_the_end_always_counts(data: st.DataObject, locale: str) -> None:
    posted = data.draw(st.frozensets(st.integers(min_value=1, max_value=50), min_size=1))
    n = data.draw(st.sampled_from(sorted(posted)))
    free = data.draw(FREE_TEXT)
    apart = data.draw(st.sampled_from(["\u2014", "-", "\u2026", "👍", "!", "#hcsmeu"]))
    assert n in attribute(f"{free} {apart} A{n}", posted=posted, locale=locale)
