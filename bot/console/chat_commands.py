"""``login`` and ``logout`` in the chat: the console's door, opened by the same decision
as every moderator command (the dispatcher refuses ``login`` to anyone else)."""

from __future__ import annotations

from bot.commands import Access, Context, Outcome, command
from bot.console.links import TooManyLinks, issue_link
from bot.i18n import N_
from bot.platforms.base import DirectMessages, PlatformError
from bot.store.console import ConsoleStore, Visitor


@command("login", Access.MODERATORS, N_("get a private link to the moderators' console"))
async def _login(ctx: Context) -> Outcome:
    m, public_url = ctx.m, ctx.services.public_url
    if public_url is None:
        return Outcome(
            m.gettext(
                "The console needs bot.public_url in the configuration: ask the server admin."
            )
        )
    platform = ctx.services.platforms.get(ctx.author.platform)
    if not isinstance(platform, DirectMessages):
        # Never the link in the channel: anyone reading it could log in first.
        return Outcome(
            m.gettext(
                "I cannot write to you privately here, so I post no link in the channel."
                " Ask the server admin for one (hashchat console-link)."
            )
        )
    who = Visitor(ctx.author.key, ctx.author.name or ctx.author.id, ctx.community.id)
    store = ConsoleStore(ctx.services.store.db)
    try:
        link = await issue_link(store, public_url, who, ctx.services.clock.now())
    except TooManyLinks:
        return Outcome(
            m.gettext("Too many login links were asked for just now: try again in a few minutes.")
        )
    text = m.gettext(
        "Your link to the moderators' console of {hashtag}. It works once, within 10"
        " minutes; do not share it: {link}",
        hashtag=ctx.community.hashtag,
        link=link,
    )
    try:
        await platform.send_direct(ctx.author, text)
    except PlatformError:
        return Outcome(
            m.gettext(
                "I could not write to you privately. On Telegram, open a chat with me and press"
                " Start; on Discord, allow direct messages from server members. Then send"
                " login again."
            )
        )
    return Outcome(m.gettext("I sent you a private message with a link to the console."))


@command("logout", Access.EVERYONE, N_("end your sessions in the moderators' console"))
async def _logout(ctx: Context) -> Outcome:
    ended = await ConsoleStore(ctx.services.store.db).end_sessions_of(ctx.author.key)
    return Outcome(
        ctx.m.ngettext("{n} console session ended.", "{n} console sessions ended.", ended)
    )
