"""Ordered schema migrations, the same numbered list for SQLite and PostgreSQL.

A migration is SQLite DDL, translated for PostgreSQL by ``backend.dialect.ddl``; one
that needs different DDL per engine is a :class:`Dialects`. SQLite counts the migrations
run in ``PRAGMA user_version``, PostgreSQL in the table ``hashchat_schema``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.backend import Database, dialect


@dataclass(frozen=True, slots=True)
class Dialects:
    """A migration written out for each engine."""

    sqlite: str
    postgresql: str


# Append only: never edit a migration that has shipped, add the next one instead.
MIGRATIONS: tuple[str | Dialects, ...] = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        community TEXT NOT NULL,
        series TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'live', 'closed')),
        plan_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        transcript_url TEXT,
        UNIQUE (community, series, starts_at)
    );
    CREATE TABLE steps (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        question INTEGER,
        seq INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        PRIMARY KEY (session_id, key)
    );
    CREATE TABLE posts (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step_key TEXT NOT NULL,
        channel TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'uncertain', 'skipped')),
        message_id TEXT,
        url TEXT,
        posted_at TEXT,
        late INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (session_id, step_key, channel)
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        thread TEXT,
        platform_id TEXT NOT NULL,
        author_key TEXT NOT NULL,
        author_name TEXT NOT NULL,
        text TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        edited_at TEXT,
        deleted_at TEXT,
        reply_to TEXT,
        url TEXT,
        questions TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL,
        UNIQUE (platform, channel, platform_id)
    );
    CREATE INDEX messages_by_session ON messages (session_id, sent_at);
    CREATE TABLE cursors (
        platform TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, key)
    );
    """,
    # 2: live steering (a paused session) and the moderators' audit log.
    """
    ALTER TABLE sessions ADD COLUMN paused_at TEXT;
    CREATE TABLE moderation_actions (
        id INTEGER PRIMARY KEY,
        community TEXT NOT NULL,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX moderation_actions_by_community ON moderation_actions (community, created_at);
    """,
    # 3: participation (suggestions, votes, sign-ups, host rota) and message moderation.
    """
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        community TEXT NOT NULL,
        author TEXT NOT NULL,
        author_name TEXT NOT NULL,
        text TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open'
            CHECK (state IN ('open', 'approved', 'rejected', 'merged')),
        merged_into INTEGER REFERENCES suggestions(id),
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        decided_at TEXT
    );
    CREATE INDEX suggestions_by_community ON suggestions (community, state);
    CREATE TABLE votes (
        suggestion_id INTEGER NOT NULL REFERENCES suggestions(id) ON DELETE CASCADE,
        voter TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (suggestion_id, voter)
    );
    CREATE TABLE signups (
        community TEXT NOT NULL,
        series TEXT NOT NULL,
        user TEXT NOT NULL,
        user_name TEXT NOT NULL,
        channel TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (community, series, user)
    );
    ALTER TABLE sessions ADD COLUMN host TEXT;
    CREATE TABLE mutes (
        community TEXT NOT NULL,
        user TEXT NOT NULL,
        until TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (community, user)
    );
    ALTER TABLE messages ADD COLUMN hidden_at TEXT;
    """,
    # 4: privacy: people who asked that their messages not be recorded.
    """
    CREATE TABLE optouts (
        user TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_by_author ON messages (author_key);
    """,
    # 5: notices to the moderators, sent like posts: stored first, retried until sent.
    # ``once`` names a problem told at most once (per channel): an alert is keyed by the
    # problem and the day, so a restart does not repeat it.
    """
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        text TEXT NOT NULL,
        once TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (once, channel)
    );
    CREATE INDEX notices_pending ON notices (state, next_at);
    """,
    # 6: the leadership lease (bot/leadership.py): one row, the instance that runs the
    # chats, its fencing token (raised at each takeover) and when its lease runs out,
    # in milliseconds since the epoch by the database's clock. Its one row is written by
    # the first instance to ask (an empty table keeps `hashchat migrate`'s target empty).
    """
    CREATE TABLE leadership (
        id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        token INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    """,
)


def script(migration: str | Dialects, engine: str) -> str:
    if isinstance(migration, Dialects):
        return migration.postgresql if engine == "postgresql" else migration.sqlite
    return dialect.ddl(migration) if engine == "postgresql" else migration


def _check(version: int) -> None:
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the database is at schema version {version}, newer than this hashchat "
            f"({len(MIGRATIONS)}); upgrade hashchat"
        )


async def migrate(db: Database) -> int:
    """Bring the schema up to date; returns the version now in force."""
    if db.dialect == "postgresql":
        return await _migrate_postgres(db)
    row = await db.fetchone("PRAGMA user_version")
    version = int(row[0]) if row else 0
    _check(version)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        body = script(migration, "sqlite")
        await db.script(f"BEGIN;\n{body}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)


# Any constant: instances starting at once take turns to migrate.
_MIGRATION_LOCK = 0x68617368


async def _migrate_postgres(db: Database) -> int:
    await db.script("CREATE TABLE IF NOT EXISTS hashchat_schema (version INTEGER NOT NULL)")
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        row = await db.fetchone("SELECT version FROM hashchat_schema")
        version = int(row[0]) if row else 0
        _check(version)
        for migration in MIGRATIONS[version:]:
            await db.script(script(migration, "postgresql"))
        if row is None:
            await db.execute("INSERT INTO hashchat_schema (version) VALUES (?)", (len(MIGRATIONS),))
        else:
            await db.execute("UPDATE hashchat_schema SET version = ?", (len(MIGRATIONS),))
    return len(MIGRATIONS)
