"""Every text the bot can post or show is in every catalog, translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Messages, available_locales

ROOT = Path(__file__).resolve().parent.parent
# Texts that are the same in English and the language, so an identical translation is right.
SAME_IN = {
    "fr": {"Messages", "Question", "Participant", "Participants", "original"},
    # "Minute" is German too; minutes count from 0, so "%(minute)s. Minute" would not do.
    "de": {"Minute %(minute)s: %(messages)s"},
    "es": {"original"},  # the link to a message's original post
    "nl": {"Platform"},
}
LOCALES = ["en", "fr", "de", "nl", "es"]


def source_msgids() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot", method_map, options
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_source_has_messages_to_translate() -> None:
    ids = source_msgids()
    assert "Welcome to the {hashtag} chat: {title}" in ids
    assert "General discussion" in ids  # from the transcript template


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_translated(locale: str) -> None:
    assert locale in available_locales()
    po = ROOT / "bot" / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing, empty, untranslated = [], [], []
    for msgid in sorted(source_msgids()):
        entry = catalog.get(msgid)
        if entry is None:
            missing.append(msgid)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings) or entry.fuzzy:
            empty.append(msgid)
        elif locale != "en" and strings[0] == msgid and msgid not in SAME_IN.get(locale, set()):
            untranslated.append(msgid)
    assert (missing, empty, untranslated) == ([], [], []), f"{locale} catalog: run make catalogs"


def test_french_community_gets_french_texts() -> None:
    fr = Messages("fr_CA")
    assert fr.gettext("Welcome to the {hashtag} chat: {title}", hashtag="#x", title="T") == (
        "Bienvenue au chat #x\u00a0: T"
    )
    assert Messages("xx").gettext("General discussion") == "General discussion"


def test_german_community_gets_german_texts() -> None:
    de = Messages("de_AT")
    assert de.gettext("Welcome to the {hashtag} chat: {title}", hashtag="#x", title="T") == (
        "Willkommen zum Chat von #x: T"
    )
    announced = "Announced in {n} channel.", "Announced in {n} channels."
    assert de.ngettext(*announced, 1) == "In 1 Kanal angekündigt."
    assert de.ngettext(*announced, 3) == "In 3 Kanälen angekündigt."


def test_spanish_community_gets_spanish_texts() -> None:
    es = Messages("es_ES")
    assert es.gettext("Welcome to the {hashtag} chat: {title}", hashtag="#x", title="T") == (
        "Bienvenidos al chat de #x: T"
    )
    # Spanish answers may be tagged R1 (Respuesta) as well as A1.
    answer = "Answer with A1, A2, … or reply to a question, and use {hashtag}."
    assert es.gettext(answer, hashtag="#x").startswith("Responde con R1, R2… (o A1, A2…)")
