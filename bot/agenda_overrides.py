"""A chat's agenda as edited in the moderators' console, ahead of its agenda file.

The edit is kept in the store for that one chat (community, series, start), as TOML
text checked by the same validator as the files. Keeping it beside the file rather
than rewriting the file leaves the moderators' comments and layout untouched, needs
no write access to the config folder, and cannot break the agenda of other dates that
share the file. The planner asks here first, so an edit reaches a chat not yet started
at the next pass, which the console runs at once after saving.
"""

from __future__ import annotations

from bot.config import Config
from bot.planning import Upcoming, agenda_from_text, chat_duration, session_plan
from bot.store import Store
from bot.store.console import ConsoleStore
from bot.timeline import SessionPlan


def override_source(item: Upcoming) -> str:
    """How problems in an edited agenda name it (there is no file)."""
    day = item.starts_at.date().isoformat()
    return f"console:{item.community.id}/{item.series_id}/{day}"


async def plan_for(config: Config, store: Store, item: Upcoming) -> SessionPlan:
    """The plan of ``item`` from its console edit if it has one, else from its file;
    ConfigError when the one used has problems."""
    kept = await ConsoleStore(store.db).override(item.community.id, item.series_id, item.starts_at)
    if kept is None:
        return session_plan(config, item)
    duration = chat_duration(item.community, item.series_id)
    agenda = agenda_from_text(
        item.community, kept.agenda, source=override_source(item), duration=duration
    )
    return session_plan(config, item, agenda)
