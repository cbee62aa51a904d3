"""What the Telegram adapter checks and sets up as it starts: its access to each chat,
and the command menu Telegram shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.commands import COMMANDS
from bot.i18n import Messages
from bot.platforms.base import Alert, AlertKind, Host
from bot.platforms.telegram.config import TelegramSetup
from bot.platforms.telegram.errors import translate

log = logging.getLogger("bot.platforms.telegram")

_NOT_THERE = "membership (add the bot to the chat)"


async def check_access(
    bot: Bot, setup: TelegramSetup, host: Host, *, bot_id: int, reads_all: bool
) -> None:
    """Tell the moderators where the bot cannot post, or where privacy mode hides the
    answers from it: a chat there would otherwise run and record nothing. A lookup that
    Telegram failed to answer (5xx, 429, no answer) proves nothing: it is logged as not
    checked, never reported as the bot missing from the chat."""
    for chat_id in dict.fromkeys(int(ref.id) for ref in setup.places):
        problem: tuple[AlertKind, str] | None = None
        try:
            member = await bot.get_chat_member(chat_id, bot_id)
        except TelegramError as exc:
            error = translate(exc, sending=False)
            if error.retryable:  # Telegram failed to answer: the access is unknown, not lost
                log.error(
                    "could not check hashchat's access to Telegram chat %d: %s", chat_id, error
                )
                continue
            log.error("cannot reach Telegram chat %d: %s", chat_id, error)
            problem = (AlertKind.MISSING_PERMISSION, _NOT_THERE)
        else:
            status = member.status
            if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
                problem = (AlertKind.MISSING_PERMISSION, _NOT_THERE)
            elif status == ChatMemberStatus.RESTRICTED and not getattr(
                member, "can_send_messages", True
            ):
                problem = (AlertKind.MISSING_PERMISSION, "sending messages")
            elif not reads_all and status not in (
                ChatMemberStatus.ADMINISTRATOR,
                ChatMemberStatus.OWNER,
            ):
                problem = (AlertKind.CANNOT_READ, "")
        if problem is None:
            continue
        log.error("Telegram chat %d: %s %s", chat_id, problem[0].value, problem[1])
        for ref in setup.channels:
            if int(ref.id) == chat_id:
                await host.alert(Alert(problem[0], ref, detail=problem[1]))


async def set_commands(bot: Bot, locales: Iterable[str]) -> None:
    """The command menu, in English by default and in each community's language; read
    at start, once the core has registered every command."""
    languages = {locale.split("_")[0].lower() for locale in locales} - {"en"}
    for language in ["", *sorted(languages)]:
        m = Messages(language or "en")
        menu = [
            BotCommand(name, _menu_text(m.gettext(spec.description)))
            for name, spec in COMMANDS.items()
        ]
        try:
            await bot.set_my_commands(menu, language_code=language or None)
        except TelegramError as exc:
            log.warning("could not set the Telegram command menu (%s): %s", language, exc)


def _menu_text(description: str) -> str:
    """Telegram takes 3 to 256 characters per command description."""
    text = description if len(description) >= 3 else f"{description}..."
    return text if len(text) <= 256 else text[:255] + "…"
