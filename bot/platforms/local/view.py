"""The local platform's terminal view: one line per post, edit or deletion, as it happens."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import click

from bot.platforms.local.platform import LocalMessage


class TerminalView:
    def __init__(self, zone: str = "UTC", echo: Callable[[str], None] = click.echo) -> None:
        self.zone = ZoneInfo(zone)
        self.echo = echo

    def __call__(self, change: str, m: LocalMessage) -> None:
        stamp = m.sent_at.astimezone(self.zone).strftime("%a %H:%M")
        where = f"#{m.ref.channel.id}" + (" ↳thread" if m.ref.channel.thread else "")
        text = m.text.replace("\n", "\n" + " " * 12)
        name = m.author.name or m.author.id
        if change == "edit":
            self.echo(click.style(f"{stamp}  {where:<22} {name} edited: {text}", dim=True))
        elif change == "delete":
            self.echo(click.style(f"{stamp}  {where:<22} {name} deleted a message", dim=True))
        elif m.by_bot:
            self.echo(click.style(f"{stamp}  {where:<22} hashchat: {text}", fg="cyan", bold=True))
        else:
            reply = " ↩" if m.reply_to else ""
            self.echo(f"{stamp}  {where:<22} {click.style(name, fg='yellow')}{reply}: {text}")
