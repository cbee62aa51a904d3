"""The statements the message writer runs: a batch of new messages in one insert, the
read cursors in one upsert, and the edits, hides and removals of stored messages."""

from __future__ import annotations

from functools import cache

_COLUMNS = (
    "session_id, platform, channel, thread, platform_id, author_key, author_name, text,"
    " sent_at, reply_to, url, questions, received_at, hidden_at"
)
_WIDTH = _COLUMNS.count(",") + 1


@cache
def insert_sql(rows: int) -> str:
    """One statement for many rows.

    ``executemany`` hands the GIL back and forth once per row; while the event loop is
    busy, each hand-back can wait a whole switch interval, which made a burst of 350
    messages take half a second to store. Binding a batch at once costs one hand-back.
    """
    values = ", ".join(["(" + ", ".join("?" * _WIDTH) + ")"] * rows)
    return f"INSERT OR IGNORE INTO messages ({_COLUMNS}) VALUES {values}"


@cache
def cursors_sql(count: int) -> str:
    """Save ``count`` read cursors in one statement."""
    values = ", ".join(["(?, ?, ?)"] * count)
    return (
        f"INSERT INTO cursors (platform, key, value) VALUES {values}"
        " ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value"
    )


EDIT = (
    "UPDATE messages SET text = ?, questions = ?, edited_at = ?"
    " WHERE platform = ? AND channel = ? AND platform_id = ?"
)
HIDE = "UPDATE messages SET hidden_at = ? WHERE platform = ? AND channel = ? AND platform_id = ?"
DELETE = "UPDATE messages SET deleted_at = ? WHERE platform = ? AND channel = ? AND platform_id = ?"
