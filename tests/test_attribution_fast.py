"""Attribution's quick paths answer exactly what the plain, step-by-step reading answers.

``attribute()`` takes shortcuts for the common message (an ASCII text with nothing to
normalise, a tag at the start of a line, a single tag, marks found by ``str.find``). A
participant must never see a different attribution because of them, so each is checked
against the reading it replaces, on texts built to hit every branch.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot import attribution
from bot.attribution import attribute, may_tag, normalise

# The handle pattern as first written (lookbehind first); _HANDLE and _mask_handles
# reorder and hand-roll its scan.
HANDLE = re.compile(r"(?<![\w@#])[@#][\w.-]*\w(?:@[\w.-]*\w)?")

PIECES = (
    "A", "a", "R", "r", "Q", " ", "\t", "\n", "\r\n", "1", "12", "0", "007", "-", "\u2013",
    "\u2014", "\u2192", ",", ":", ";", "/", "&", "+", ")", "]", "(", ".", "'", "@", "#",
    "://", "http://x.y/A1", "www.", "WwW.", "w.", "x", "p", "the", "an", "la", "der", "at",
    "exit", "format", " and ", " et ", " y ", " und ", " en ", " or ", "\u200b", "\uff21",
    "\uff11", "\u00b2", "<b>", "</p>", "<br/>", "&amp;", "*", "**", "_", "~~", "`",
    "e@x.org", "x@y.the", "bob@", "@bob", "#tag", "\u00e9", "\U0001f605", "\ufffc", "A1",
    "a3 ", "A 2", "R2", "A1-A3", "A1, A2", "A 2: ", "A 3 -", "www.x.org:", "9" * 12, "\\", "=", "$",
)  # fmt: skip
TEXTS = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=24).map("".join),
    st.text(alphabet="AaRr0123456789 \t:-,./&+@#w\n", max_size=40),
    st.text(max_size=40),
)
LOCALES = st.sampled_from(["en", "fr", "de", "nl", "es", ("en", "fr"), ["de", "es"], ""])
POSTED = st.frozensets(st.integers(min_value=0, max_value=40), max_size=8) | st.just([1, 5, 7])
REPLY = st.none() | st.integers(min_value=-1, max_value=42)


def plain_reading(
    text: str, posted: Collection[int], locale: str | Sequence[str], reply: int | None
) -> frozenset[int]:
    """attribute() as first written: every mask, every match of the tag pattern in turn,
    the general position and list reading, and no quick rejection but the one that is part
    of its meaning (no \\d in the raw text: "A\u00b2" is no tag)."""
    found = {reply} if reply is not None and reply in posted else set()
    if not re.search(r"\d", text):
        return frozenset(found)
    prose = normalise(text)
    locales = (locale,) if isinstance(locale, str) else tuple(locale)
    if "://" in prose or "www." in prose.lower():
        prose = attribution._URL.sub(attribution._MASK, prose)
    if "@" in prose:
        prose = attribution._EMAIL.sub(attribution._MASK, prose)
    if "@" in prose or "#" in prose:
        prose = HANDLE.sub(attribution._MASK, prose)
    group = attribution._compile_tag_group(attribution._letters(locales))
    for match in group.finditer(prose):
        tag = match.group()
        if attribution._in_position_in_line(prose, match.start(), match.end(), tag):
            attribution._collect_parts(tag, posted, found)
    return frozenset(found)


@settings(max_examples=400)
@given(text=TEXTS, posted=POSTED, locale=LOCALES, reply=REPLY)
@example("A3: yes", frozenset({3}), "en", None)
@example("a 3: spaced, lower case", frozenset({3}), "en", None)
@example("so A1, A2 and A3: same", frozenset({1, 2, 3}), "en", None)
@example("great point #hcsmeu A2", frozenset({2}), "en", None)
@example("@p12 A 2 - after a handle", frozenset({2}), "en", None)
@example("see www.x.org A2", frozenset({2}), "en", None)
@example("mail a1@x.org\nA2: yes", frozenset({1, 2}), "en", None)
@example("see www.x.org:A1", frozenset({1}), "en", None)
@example("write to x@y.the A2", frozenset({2}), "en", None)
@example("A1.@y.org is an address", frozenset({1}), "en", None)
@example("\u00e9t\u00e9 A 3 - oui", frozenset({3}), "fr", None)
@example("<b>x</b> A 3: yes", frozenset({3}), "en", None)
@example("2024 HbA1c A01 R3 a\t4: x", frozenset({1, 3, 4}), ("en", "fr"), 7)
def test_attribute_answers_what_the_plain_reading_answers(
    text: str, posted: Collection[int], locale: str | Sequence[str], reply: int | None
) -> None:
    assert attribute(text, posted=posted, locale=locale, reply_question=reply) == (
        plain_reading(text, posted, locale, reply)
    )


@settings(max_examples=400)
@given(
    text=st.from_regex(
        r"[AaRrQ][0-9]{1,12}[-.'_:,;)\] \ta-zA-Z@#/!?]{0,4}[^0-9]{0,12}", fullmatch=True
    ),
    posted=POSTED,
    locale=LOCALES,
    reply=REPLY,
)
@example("A3-x: glued", frozenset({3}), "en", None)
@example("A3- x", frozenset({3}), "en", None)
@example("A3.x", frozenset({3}), "en", None)
@example("A3. Yes", frozenset({3}), "en", None)
@example("a3'x", frozenset({3}), "en", None)
@example("A3_x", frozenset({3}), "en", None)
@example("A3", frozenset({3}), "en", 2)
@example("A007 yes", frozenset({7}), "en", None)
@example("A0 yes", frozenset({0}), "en", 1)
@example("R2: oui", frozenset({2}), "fr", None)
@example("R2: no R in English", frozenset({2}), "en", None)
@example("A1://x", frozenset({1}), "en", None)
@example("A1+x@y.org", frozenset({1}), "en", None)
@example("A3'x@y.org", frozenset({3}), "en", None)
@example("A3: great chat #hcsmeu", frozenset({3}), "en", None)
@example("a3 @bob agreed", frozenset({3}), "en", 5)
@example("A3#tag", frozenset({3}), "en", None)
@example("A3:#tag", frozenset({3}), "en", None)
@example("A3 x@y.org", frozenset({3}), "en", None)
@example("A3.x@y.org", frozenset({3}), "en", None)
@example("A3@bob", frozenset({3}), "en", None)
def test_a_text_that_opens_with_its_tag_is_read_as_any_text(
    text: str, posted: Collection[int], locale: str | Sequence[str], reply: int | None
) -> None:
    """The quick reading of "A3: ..." (_opening_tag) against the plain reading."""
    assert attribute(text, posted=posted, locale=locale, reply_question=reply) == (
        plain_reading(text, posted, locale, reply)
    )


@given(TEXTS)
@example("@a #b c@d.e @@x ##y a#b #A1@x.org")
def test_handles_are_masked_as_the_pattern_masks_them(text: str) -> None:
    assert attribution._mask_handles(text) == HANDLE.sub(attribution._MASK, text)


@given(st.from_regex(r"[AaRr][ \t]?[0-9]{1,12}", fullmatch=True))
@example("A0")
@example("a 007")
@example("A" + "9" * 10)
def test_one_tag_is_read_as_a_list_of_one(group: str) -> None:
    posted = {0, 1, 7, 12, 99, 999999999}
    quick: set[int] = set()
    full: set[int] = set()
    attribution._collect(group, posted, quick)
    attribution._collect_parts(group, posted, full)
    assert quick == full


@given(st.from_regex(r"(\n?[^\n]{0,6}\n?)[AaRr][ \t]?[0-9]{1,3}[^\n]{0,8}", fullmatch=True))
def test_a_tag_at_the_start_of_a_line_is_placed_as_anywhere(text: str) -> None:
    for match in attribution._compile_tag_group("AR").finditer(text):
        start, end, group = match.start(), match.end(), match.group()
        assert attribution._in_answer_position(text, start, end, group) == (
            attribution._in_position_in_line(text, start, end, group)
        )


@given(TEXTS)
@example("no digit at all")
@example("only a 9")
@example("\uff11 full width")
@example("\u0663 Arabic-Indic")
@example("\u00b2 is no digit")
def test_may_tag_is_whether_the_text_has_a_digit(text: str) -> None:
    assert may_tag(text) == (re.search(r"\d", text) is not None)
