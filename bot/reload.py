"""Reloading the configuration of a running bot, as ``SIGHUP`` asks.

The edited file is read and validated first; a file that no longer validates is refused,
with its problems in the log and in the moderators' channels, and the bot goes on with
the configuration it has. What a running bot cannot apply (the database, the web server,
the platforms and the channels they connect to) is refused the same way, naming what
needs a restart, rather than half applied. Everything else (schedules, agendas, one-off
chats, reminders, moderators, rules) takes effect at once: the planner runs again.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, load_config
from bot.errors import ConfigError, Problem
from bot.i18n import Messages
from bot.notices import moderator_targets

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def restart_only(old: Config, new: Config) -> list[Problem]:
    """What differs between the running and the edited config that only a restart
    applies; empty when the edit can be taken as it is."""
    source = str(new.source)
    found: list[Problem] = []

    def needs(field: str) -> None:
        found.append(Problem(source, "changed: restart hashchat to apply it", field=field))

    if old.bot != new.bot:
        needs("bot")
    if old.platforms != new.platforms:
        needs("platforms")
    before = {c.id: c for c in old.communities}
    for i, community in enumerate(new.communities):
        was = before.pop(community.id, None)
        if was is None:
            needs(f"communities[{i}]")
            continue
        for key in ("channels", "moderator_channels"):
            if getattr(was, key) != getattr(community, key):
                needs(f"communities[{i}].{key}")
    for gone in before:
        found.append(Problem(source, f"community {gone!r} removed: restart hashchat to apply it"))
    return found


async def reload(app: App, path: Path) -> bool:
    """Apply the edited file at ``path`` to the running ``app``; False if refused."""
    log.info("reloading %s", path)
    try:
        config = load_config(path)
        if problems := restart_only(app.config, config):
            raise ConfigError(problems)
    except ConfigError as exc:
        await _refuse(app, exc.problems)
        return False
    try:
        await app.reload(config)
    except Exception:  # the bot must outlive a reload that went wrong
        log.exception("%s: the reload failed part way", path)
        return False
    log.warning("%s: reloaded; chats not started are planned again", path)
    return True


def reload_on_sighup(app: App, path: Path) -> None:
    """``kill -HUP`` reloads ``path``, one reload at a time."""
    lock = asyncio.Lock()
    running: set[asyncio.Task[bool]] = set()

    async def one() -> bool:
        async with lock:
            return await reload(app, path)

    def handler() -> None:
        task = asyncio.create_task(one(), name="reload")
        running.add(task)
        task.add_done_callback(running.discard)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, handler)


async def _refuse(app: App, problems: list[Problem]) -> None:
    listed = "; ".join(str(p) for p in problems)
    log.error("the edited configuration is refused, the running one stays: %s", listed)
    if not app.leads:
        return  # a standby: the leader, reloaded too, tells the moderators
    for community in app.config.communities:
        text = Messages(community.locale).gettext(
            "To the moderators of {hashtag}: the edited configuration was not loaded, so"
            " hashchat goes on with the one it has. Fix this and reload again: {problems}",
            hashtag=community.hashtag,
            problems=listed,
        )
        channels = moderator_targets(community.moderator_channels, community.channels)
        await app.runner.notices.tell(channels, text)
