"""Decide which of a chat's posted questions a participant's message answers."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Collection, Sequence
from functools import cache
from typing import NamedTuple

from bot.sentence_words import reads_as_word, word_before

# Invisible characters are dropped so "A\u200b1" cannot hide a tag; odd line breaks become "\n".
_INVISIBLE: dict[int, str | None] = dict.fromkeys(
    map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060")
)
_INVISIBLE.update(dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\ufeff")))
_INVISIBLE.update(dict.fromkeys(map(ord, "\r\v\f\x85\u2028\u2029"), "\n"))

_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|li|ul|ol|tr|td|th|h[1-6]|blockquote|table|pre|hr)\b[^<>]*>", re.I
)
_ANY_TAG = re.compile(r"<!--[^<>]*-->|</?[a-z][a-z0-9-]*\b[^<>]*>", re.I)
# Paired Markdown delimiters not glued to letters, so "2*3*4" and snake_case survive.
_EMPHASIS_MARK = re.compile(r"[*_~`]")
_EMPHASIS = re.compile(r"(?<![^\W_])(\*{1,3}|_{1,3}|~~|`{1,3})(?=\S)([^\n]{0,300}?\S)\1(?![^\W_])")

# Text in which a tag is never an answer, masked in this order (a URL may hold "@", an e-mail
# address holds what looks like a mention); the mask keeps what surrounds it apart.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{0,30}://\S*|\bwww\.\S*", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
# The mark comes first and the lookbehind after it, so the scan skips ahead to a mark.
_HANDLE = re.compile(r"[@#](?<![\w@#][@#])[\w.-]*\w(?:@[\w.-]*\w)?")
# An address has a word character on both sides of its "@"; looked for from the "@",
# as _EMAIL tries every word it meets.
_EMAIL_AT = re.compile(r"@(?<=[\w.+-]@)[\w-]")
# What replaces masked text: not a space, so the word before a hashtag does not read as the
# word before the tag after it ("from #hcsmeu A2" keeps its tag).
_MASK = "\ufffc"

_LIST_WORD = r"(?i:and|or|et|ou|y|o|e|und|oder|en)"
_CONNECTOR = rf"(?:[ \t]*[,/&+;][ \t]*(?:{_LIST_WORD}[ \t]+)?|[ \t]+{_LIST_WORD}[ \t]+|[-\u2013])"
_PART = re.compile(r"(?P<dash>[-\u2013])|[A-Za-z][ \t]?(?P<num>[0-9]+)")
_SPACED_SINGLE = re.compile(r"[A-Za-z][ \t][0-9]+")
_SEPARATOR = re.compile(r"[ \t]*(?:[:\-\u2013\u2014\u2192](?![0-9])|[)\]])")
_JUNK = re.compile(r"(?:[^\w\n]|_)*")

_STRONG_SEPARATORS = frozenset(":\u2192")
_ANY_DIGIT = re.compile(r"\d")
_MAX_DIGITS = 9
_ANSWER_WORD_LETTER = {"fr": "R", "es": "R", "pt": "R", "it": "R", "ca": "R"}


def _language(locale: str) -> str:
    return locale.replace("-", "_").partition("_")[0].lower()


def answer_letters(locale: str) -> frozenset[str]:
    """Letters that tag an answer: "A" everywhere, plus the initial of the local word for it.

    Only languages whose word for "answer" starts with another letter add one (Réponse,
    Respuesta, Resposta, Risposta); German and Dutch (Antwort, Antwoord) need nothing extra.
    """
    return frozenset("A" + _ANSWER_WORD_LETTER.get(_language(locale), ""))


def _letters(locales: Sequence[str]) -> str:
    return "".join(sorted(frozenset().union(*(answer_letters(x) for x in locales))))


def _tag_hint(letters: str) -> re.Pattern[str]:
    """What every tag holds: an answer letter, maybe a space or tab, then a digit. Masking
    URLs, addresses and handles only puts one mark (neither letter, blank nor digit) in
    place of a run, so a text without this before masking has no tag after it either.
    The digit comes first (the match is the digit): digits are rare in prose, answer
    letters common, so the scan skips further ahead."""
    both = letters + letters.lower()
    return re.compile(rf"[0-9](?:(?<=[{both}][0-9])|(?<=[{both}][ \t][0-9]))")


class _Scan(NamedTuple):
    """What finds the tags of one set of locales, built once per set: the tracker passes
    the same locales for every message of a session."""

    hint: re.Pattern[str]
    group: re.Pattern[str]
    classes: bytes | None  # for _plain_tags(); None if a letter is one of its marks


_SCANS: dict[object, _Scan] = {}


def _scan(locale: str | Sequence[str]) -> _Scan:
    locales = (locale,) if isinstance(locale, str) else tuple(locale)
    letters = _letters(locales)
    scan = _Scan(_tag_hint(letters), _compile_tag_group(letters), _classes(letters))
    if len(_SCANS) >= 64:
        _SCANS.clear()  # only a test or a misuse passes so many sets of locales
    if isinstance(locale, str | tuple):  # not a list: unhashable, built again each time
        _SCANS[locale] = scan
    return scan


# What an ASCII character stands for in _plain_tags(): an answer letter, a digit, a blank,
# something normalise() would change, or the start of what _masked() would mask.
# (``"www."`` in the classes: in the text's lower case, as _masked() looks for it.)
_CLASSES = {"0": "0123456789", " ": " \t", "<": "<&*_~`\r\v\f", "@": "@#", "/": "/"}
_CLASSES |= {"w": "wW", ".": "."}


def _classes(letters: str) -> bytes | None:
    table = bytearray(b"x" * 256)
    for mark, members in _CLASSES.items():
        for char in members:
            table[ord(char)] = ord(mark)
    for letter in letters + letters.lower():
        if table[ord(letter)] != ord("x"):
            return None  # a letter that is also a mark: leave such texts to the full scan
        table[ord(letter)] = ord("L")
    return bytes(table)


@cache
def _compile_tag_group(letters: str) -> re.Pattern[str]:
    both = letters + letters.lower()
    # The letter comes first and the lookbehinds after it, so the scan can skip ahead
    # quickly; the lookahead for a digit before them, as most letters are in words.
    first = (
        rf"[{both}](?=[ \t]?[0-9])(?<![\w@#/\\=$%][{both}])(?<!\w[-.'\u2019&+][{both}])"
        rf"(?:(?<=[{letters}])[ \t])?[0-9]+"
    )
    tag = rf"(?:[{both}][0-9]+|[{letters}][ \t][0-9]+)"
    return re.compile(rf"{first}(?:{_CONNECTOR}{tag})*(?![\w@]|[-.'\u2019/]\w)")


def normalise(text: str) -> str:
    """Reduce a message to the plain text a reader sees.

    Markup, look-alike forms and invisible characters must neither hide a tag nor fake one,
    and block-level HTML must keep its line breaks because a tag may start any line.
    """
    if "<" in text:
        text = _ANY_TAG.sub("", _BLOCK_TAG.sub("\n", text))
    text = html.unescape(text).replace("\r\n", "\n")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    elif "\r" in text or "\v" in text or "\f" in text:
        text = text.translate(_INVISIBLE)
    for _ in range(3 if _EMPHASIS_MARK.search(text) else 0):
        text, changed = _EMPHASIS.subn(r"\2", text)
        if not changed:
            break
    return text


def _masked(prose: str) -> str:
    """``prose`` with its URLs, e-mail addresses and handles masked, in this order."""
    if "://" in prose or "www." in prose.lower():
        prose = _URL.sub(_MASK, prose)
    if "@" in prose and _EMAIL_AT.search(prose):
        prose = _EMAIL.sub(_MASK, prose)
    if "@" in prose or "#" in prose:
        prose = _mask_handles(prose)
    return prose


def _mask_handles(prose: str) -> str:
    """``_HANDLE.sub(_MASK, prose)``, with the marks found by ``str.find``: several times
    quicker than the regular expression's scan for them."""
    pieces: list[str] = []
    done = pos = 0
    while True:
        at, hashtag = prose.find("@", pos), prose.find("#", pos)
        if hashtag >= 0 and not 0 <= at < hashtag:
            at = hashtag
        if at < 0:
            break
        handle = _HANDLE.match(prose, at)
        if handle is None:
            pos = at + 1
            continue
        pieces += (prose[done:at], _MASK)
        done = pos = handle.end()
    return "".join((*pieces, prose[done:])) if pieces else prose


def _answer(question: int | None) -> frozenset[int]:
    if question is None:
        return NONE
    return _ONE.get(question) or frozenset((question,))


def _number(digits: str) -> int | None:
    """A tag's number; None for zero ("A0", "A00") or over nine significant digits."""
    if len(digits) < 3:  # nearly every tag: no zeros to strip, never too long
        return int(digits) or None
    significant = digits.lstrip("0")
    if not significant or len(significant) > _MAX_DIGITS:
        return None
    return int(significant)


def _in_answer_position(text: str, start: int, end: int, group: str) -> bool:
    if start == 0 or text[start - 1] == "\n":  # the start of a line, the usual place
        return group[1] not in " \t" or not (
            _SPACED_SINGLE.fullmatch(group) and _SEPARATOR.match(text, end) is None
        )
    return _in_position_in_line(text, start, end, group)


def _in_position_in_line(text: str, start: int, end: int, group: str) -> bool:
    """_in_answer_position() for any tag, wherever in its line it stands."""
    separator = _SEPARATOR.match(text, end)
    if separator is None and _SPACED_SINGLE.fullmatch(group):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    if _JUNK.fullmatch(text, line_start, start):
        return True
    if separator is None:
        line_end = text.find("\n", end)
        if not _JUNK.fullmatch(text, end, len(text) if line_end < 0 else line_end):
            return False
    strong = separator is not None and separator.group().strip() in _STRONG_SEPARATORS
    return not reads_as_word(word_before(text, line_start, start), strong=strong)


def _collect(group: str, posted: Collection[int], found: set[int]) -> None:
    digits = group[1:] if group[1] not in " \t" else group[2:]
    if digits.isdigit():  # one tag, the usual answer: no connector, so nothing to split
        number = _number(digits)
        if number and number in posted:
            found.add(number)
        return
    _collect_parts(group, posted, found)


def _collect_parts(group: str, posted: Collection[int], found: set[int]) -> None:
    """_collect() for any group of tags: a list, a range or a single tag."""
    previous: int | None = None
    is_range = False
    for part in _PART.finditer(group):
        if part["dash"]:
            is_range = True
            continue
        number = _number(part["num"])
        if is_range and previous is not None and number is not None:
            low, high = sorted((previous, number))
            found.update(q for q in posted if low <= q <= high)
        elif number is not None and number in posted:
            found.add(number)
        previous, is_range = number, False


NONE: frozenset[int] = frozenset()
_ONE = {n: frozenset((n,)) for n in range(1, 100)}


def may_tag(text: str) -> bool:
    """Whether ``text`` could tag an answer at all: a tag has a number. Most messages of
    a chat have none, and then only a reply or a question's thread can place them.

    The tracker asks this of nearly every message: in ASCII, where ``\\d`` is ``[0-9]``,
    ten ``in`` tests take a fifth of the time of a regular expression's scan."""
    if text.isascii():
        return (
            "0" in text
            or "1" in text
            or "2" in text
            or "3" in text
            or "4" in text
            or "5" in text
            or "6" in text
            or "7" in text
            or "8" in text
            or "9" in text
        )
    return _ANY_DIGIT.search(text) is not None


def attribute(
    text: str,
    *,
    posted: Collection[int],
    locale: str | Sequence[str] = "en",
    reply_question: int | None = None,
) -> frozenset[int]:
    """Question numbers a message answers; empty means general discussion.

    People tag answers loosely, so a tag ("A3", "a3", "A 3", "A03"; in French, Spanish,
    Portuguese, Italian and Catalan also "R3") counts only where tags are written, never
    as an ordinary word:

    * at the start of a line, after anything that is not a letter or digit (mentions,
      hashtags, emoji, quotes, bullets);
    * before a separator ``:``, a dash or arrow, ``)`` or ``]``, even mid-sentence;
      ``.`` and ``,`` are not separators mid-line ("take the A1. Then..." is prose and
      "A1, A2 and A3:" is a list);
    * at the end of a line, followed only by hashtags, mentions, emoji or punctuation.

    Away from the start of a line, a token that reads as a word of the sentence is not a
    tag: after an article ("on the A1", "auf der A2", "en la A6", "une R5"), and, unless a
    colon or an arrow follows it, after a preposition of place or a noun that takes a code
    ("near A1", "format A4", "Niveau A2", "vitamin A1"); see bot/sentence_words.py.

    ``A 3`` with a space must be upper case and followed by a separator, because
    "A 2 day trip" and "a 2" are ordinary words.  ``A.3`` is never a tag (it reads as
    section numbering).  Tags joined by ``,`` ``/`` ``&`` ``+`` ``;`` or a conjunction
    (and, et, y, e, und, en, or, ou, o, oder) form a list that counts as a whole.  A range
    ``A1-A3`` (no spaces, either order) means every posted question from 1 to 3: people
    write it to answer several questions at once, and unposted ones are dropped anyway.
    ``A0``, numbers over nine significant digits, and tags glued to words, URLs, e-mail
    addresses, hashtags or mentions never count.  Replying to a question's post answers
    it too.  Only questions in ``posted`` can be answered.  A bilingual community passes
    both its locales, so both languages' tags count.
    """
    reply = reply_question if reply_question is not None and reply_question in posted else None
    try:
        scan = _SCANS[locale]
    except (KeyError, TypeError):
        scan = _scan(locale)
    if scan.classes is not None and text.isascii():
        classes = text.encode().translate(scan.classes).decode()
        if "<" not in classes:  # normalise() would return the text as it is
            if "0" not in classes:
                return _answer(reply)  # no number, no tag
            if classes.startswith("L0"):  # a letter and a digit: "A3: ...", "a3 ..."
                opening = _opening_tag(text, classes, posted, reply)
                if opening is not None:
                    return opening
            return _plain_tags(text, classes, scan, posted, reply)
    return _general(text, scan, posted, reply)


def _general(text: str, scan: _Scan, posted: Collection[int], reply: int | None) -> frozenset[int]:
    """What attribute() finds in any text, by the full scan."""
    if not _ANY_DIGIT.search(text):
        return _answer(reply)  # no number, no tag (\d matches full-width digits too)
    return _tags(normalise(text), scan, posted, reply)


def _tags(prose: str, scan: _Scan, posted: Collection[int], reply: int | None) -> frozenset[int]:
    hint = scan.hint.search(prose)
    if hint is None:
        return _answer(reply)  # a number, but no letter before it: "@p12", "at 9", "2024"
    if "@" in prose or "#" in prose or "://" in prose or "www." in prose.lower():
        prose = _masked(prose)
        hint = scan.hint.search(prose)  # the same tags, further left
    found: set[int] = set()
    group_pattern, hint_pattern, pos = scan.group, scan.hint, 0
    while hint is not None:
        # A tag starts one or two characters before the digit it holds, never earlier.
        match = group_pattern.search(prose, max(pos, hint.start() - 2))
        if match is None:
            break
        group = match.group()
        if _in_answer_position(prose, match.start(), match.end(), group):
            _collect(group, posted, found)
        pos = match.end()
        hint = hint_pattern.search(prose, pos)
    return _found(found, reply)


def _plain_tags(
    text: str, classes: str, scan: _Scan, posted: Collection[int], reply: int | None
) -> frozenset[int]:
    """_tags() for an ASCII text that normalise() leaves as it is, most messages: where a
    tag may start is found from its digits, looked for with ``str.find`` in the text's
    ``classes`` (one character per character), several times quicker than a regular
    expression's scan."""
    found: set[int] = set()
    pos, plain = 1, False  # a tag's digit comes after its letter, never first
    while (digit := classes.find("0", pos)) >= 0:
        pos, at = digit + 1, digit - 1
        if classes[at] == " " and at > 0:
            at -= 1  # "A 3"
        if classes[at] != "L":
            continue  # a number with no answer letter before it: "@p12", "at 9", "2024"
        if not plain:  # the first tag-like token: mask what may hide one, as _tags() does
            plain = True
            if "@" in classes or "/" in classes or "www." in classes:
                masked = _masked(text)
                if masked != text:  # the mark in classes is "x", as for "\0"
                    text, pos = masked, 1
                    marked = masked.replace(_MASK, "\0").encode()
                    classes = marked.translate(scan.classes).decode()
                    continue
        match = scan.group.match(text, at)
        if match is None:
            continue
        group = match.group()
        pos = match.end()
        if _in_answer_position(text, at, pos, group):
            _collect(group, posted, found)
    return _found(found, reply)


def _opening_tag(
    text: str, classes: str, posted: Collection[int], reply: int | None
) -> frozenset[int] | None:
    """_plain_tags() for the commonest answer, a text that opens with its one tag ("A3:
    ...", "a3 ... #hcsmeu") and has no other digit and no URL; None for any other text,
    which _plain_tags() reads.

    At the start of the text a tag needs no look behind it, and with no other digit it is
    no list or range: only what follows it decides, as the tag group's closing lookahead
    does (no word character or "@" after it, nor one of -.'/ before one). Handles and
    addresses elsewhere in the text are masked before the tags are read, but a mask
    covers the tag, or changes what follows it, only if one starts at the tag or right
    after it: with a blank or a separator after the tag (``_CLEAR_AFTER``), none can."""
    end = 2
    while classes[end : end + 1] == "0":
        end += 1
    if classes.find("0", end) >= 0 or "/" in classes or "www." in classes:
        return None
    after = text[end : end + 1]
    if "@" in classes and after not in _CLEAR_AFTER:
        return None  # an address or a handle might start at the tag, or right after it
    # (An "@" after the tag was turned away above: it is in the text, and not clear.)
    if _word_char(after) or (after in ("-", ".", "'") and _word_char(text[end + 1 : end + 2])):
        return _answer(reply)  # glued to a word ("A3b", "A3.x"): no tag, and no other
    number = _number(text[1:end])
    if number is None or number not in posted:
        return _answer(reply)
    if reply is None or reply == number:
        return _answer(number)
    return frozenset((number, reply))


# What may follow a tag when the text holds an "@" or a "#": neither an address nor a
# handle can run through it, and the tag's closing lookahead accepts it as it is.
_CLEAR_AFTER = frozenset(("", " ", "\t", "\n", ":", ",", ";", ")", "]", "!", "?"))


def _word_char(char: str) -> bool:
    r"""``\w`` for one ASCII character (or none)."""
    return char.isalnum() or char == "_"


def _found(found: set[int], reply: int | None) -> frozenset[int]:
    if reply is not None:
        found.add(reply)
    if len(found) != 1:
        return frozenset(found) if found else NONE
    (number,) = found
    return _ONE.get(number) or frozenset(found)
