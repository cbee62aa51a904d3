"""Message catalogs: every text the bot posts is looked up here by the community's locale.

Catalogs are kept as ``.po`` files and compiled in memory on first use, so there is no
build step and no generated file to forget.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "messages"
DEFAULT_LOCALE = "en"


def available_locales() -> list[str]:
    root = resources.files("bot") / "locale"
    return sorted(p.name for p in root.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


@cache
def translations(locale: str) -> NullTranslations:
    """Translations for ``locale`` (``fr_CA`` falls back to ``fr``, anything unknown to English)."""
    for candidate in (locale, locale.split("_")[0].split("-")[0]):
        po = resources.files("bot") / "locale" / candidate / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=candidate)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            return Translations(buf, domain=DOMAIN)
    return NullTranslations()


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined; it is translated where it is used."""
    return message


class Messages:
    """The catalog bound to one locale, passed to whatever composes text for a community."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale
        self._t = translations(locale)

    def gettext(self, message: str, **params: object) -> str:
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **params)
