"""Diacritics folded the same way in PostgreSQL's search index and in Python's snippets.

PostgreSQL's ``unaccent`` is an extension that a server may not ship (the tests' server
does not), so the search index folds with ``translate()`` over this fixed table instead:
the Latin letters whose Unicode decomposition is an ASCII letter and a mark, plus the
few with a stroke that have no decomposition. It is what SQLite's ``remove_diacritics``
does for the languages hashchat speaks.
"""

from __future__ import annotations

import unicodedata

_STROKES = ("øØđĐłŁħĦ", "oOdDlLhH")


def _table() -> tuple[str, str]:
    source, target = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            source.append(char)
            target.append(base)
    return "".join(source) + _STROKES[0], "".join(target) + _STROKES[1]


FROM, TO = _table()
_MAP = str.maketrans(FROM, TO)


def fold(text: str) -> str:
    """Lower case, without diacritics: "Éducation" -> "education"."""
    return text.translate(_MAP).lower()
