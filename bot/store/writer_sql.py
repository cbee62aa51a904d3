"""The statements the message writer runs: a batch of new messages in one insert, the
read cursors in one upsert, and the edits, hides and removals of stored messages."""

from __future__ import annotations

from functools import cache

from bot.store.backend.base import Dialect

_COLUMNS = (
    "session_id, platform, channel, thread, platform_id, author_key, author_name, text,"
    " sent_at, reply_to, url, questions, received_at, hidden_at"
)
_WIDTH = _COLUMNS.count(",") + 1
# A row's values as inserted: '' stands for NULL in the columns that are mostly NULL
# (``new_row`` says why).
_NULLABLE = {"thread", "reply_to", "url", "hidden_at"}
_NAMES = [name.strip() for name in _COLUMNS.split(",")]
_ROW = "(" + ", ".join("NULLIF(?, '')" if n in _NULLABLE else "?" for n in _NAMES) + ")"
_SELECTED = ", ".join(
    f"NULLIF(column{i}, '')" if n in _NULLABLE else f"column{i}" for i, n in enumerate(_NAMES, 1)
)
# 500 rows x 14 values stays far below SQLite's limit of 32,766 bound parameters.
ROWS_PER_STATEMENT = 500


@cache
def insert_sql(rows: int) -> str:
    """One statement for many rows.

    ``executemany`` hands the GIL back and forth once per row; while the event loop is
    busy, each hand-back can wait a whole switch interval, which made a burst of 350
    messages take half a second to store. Binding a batch at once costs one hand-back.
    """
    return f"INSERT OR IGNORE INTO messages ({_COLUMNS}) VALUES {', '.join([_ROW] * rows)}"


# The row counts SQLite's insert is written for; a batch is padded up to the next one.
_SHAPES = (1, 2, 4, 8, 16, 32, 64, 128, 256, ROWS_PER_STATEMENT)


def insert_for(dialect: Dialect, rows: int) -> tuple[str, int]:
    """The statement that inserts ``rows`` new messages (at most ``ROWS_PER_STATEMENT``),
    and how many empty strings pad its parameters (binding one costs less than a NULL).

    SQLite compiles every distinct statement before it runs it, and the writer's batches
    come in every size: compiling a 470-row insert took 1.4 of the 4 ms it ran, and
    nearly every batch paid it. Padded up to one of ten sizes, each statement is compiled
    once and kept in the connection's cache; the padding rows ('' for a session) are
    filtered out before the insert. PostgreSQL, where this was not measured, gets the
    exact statement.
    """
    if dialect != "sqlite":
        return insert_sql(rows), 0
    shape = next(size for size in _SHAPES if size >= rows)
    return _padded_sql(shape), (shape - rows) * _WIDTH


@cache
def _padded_sql(rows: int) -> str:
    values = ", ".join(["(" + ", ".join("?" * _WIDTH) + ")"] * rows)
    return (
        f"INSERT OR IGNORE INTO messages ({_COLUMNS})"
        f" SELECT {_SELECTED} FROM (VALUES {values}) WHERE column1 != ''"
    )


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
