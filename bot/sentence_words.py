"""Words after which a tag-like token ("A1", "R5") is a word of the sentence, not a tag.

Roads, grades, language levels, paper sizes, vitamins and cars are written like answer
tags: "stuck on the A1", "sur la R5", "auf der A2", "op de A2", "en la A6", "format A4",
"Niveau A2".  What gives them away is the word right before: an article makes the token a
noun of the sentence wherever it stands, and a preposition of place or a noun that takes a
code ("format", "vitamin", "exit") does so where nothing else marks a tag, i.e. at the end
of a line or before a closing bracket or a dash.  A colon or an arrow after the token is a
deliberate tag mark, so only an article overrides it ("the A1: jammed"); the start of a
line is always a tag.  Prepositions that also mean "about", "to" or "from" ("on", "for",
"from", "sur", "auf", "op", "over") are left out on purpose: "+1 on A2", "same for R3"
and "a good one from A2" refer to answers.  The lists cover every locale the bot ships
(en, fr, de, nl, es) at once, because people mix languages in a chat.
"""

from __future__ import annotations

_MAX_WORD = 24

# An article (or a preposition fused with one) before the token: always part of a sentence.
_ARTICLES = """
    the a an
    le la l' les un une du des au aux
    der die das dem den des ein eine einem einen einer eines im zum zur vom beim ins ans aufs
    de het 't een 'n
    el la lo los las un una unos unas del al
"""

# Prepositions of place or medium, and nouns that take a code: part of a sentence unless a
# colon or an arrow marks a tag.
_GOVERNING = """
    at near via along towards toward into onto past
    vers près
    am bis nahe richtung
    richting langs
    hacia hasta vía
    road route motorway highway freeway exit junction autoroute sortie autobahn ausfahrt
    straße bundesstraße snelweg afrit autopista autovía carretera salida
    paper size format din papier taille größe blatt formaat vel formato papel tamaño hoja
    grade level note niveau stufe klasse nivel nota cijfer klas class classe clase
    vitamin vitamine vitamina
    gate terminal room seat row hall platform porte salle siège quai voie gleis saal raum
    zimmer halle reihe sitz zaal lokaal kamer spoor perron rij stoel sala puerta andén
    fila asiento
"""


def _words(listed: str) -> frozenset[str]:
    return frozenset(word.casefold() for word in listed.split())


ARTICLES = _words(_ARTICLES)
GOVERNING = _words(_GOVERNING)


def word_before(text: str, line_start: int, start: int) -> str:
    """The word separated by spaces only from ``text[start]``, casefolded; "" if none.

    Anything else in between (an emoji, a dash, a bracket, a masked hashtag) sets the token
    apart from the sentence, so then there is no word before it.
    """
    end = start
    while end > line_start and text[end - 1] in " \t":
        end -= 1
    if end == start:
        return ""
    begin = end
    while begin > line_start and (text[begin - 1].isalnum() or text[begin - 1] in "'\u2019"):
        begin -= 1
        if end - begin > _MAX_WORD:
            return ""
    return text[begin:end].casefold().replace("\u2019", "'")


def reads_as_word(before: str, *, strong: bool) -> bool:
    """Whether a token after the word ``before`` is part of the sentence.

    ``strong`` is true when a colon or an arrow follows the token, which only an article
    overrides.
    """
    return before in ARTICLES or (not strong and before in GOVERNING)
