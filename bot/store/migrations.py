"""Ordered schema migrations, the same numbered list for SQLite and PostgreSQL.

A migration is SQLite DDL, translated for PostgreSQL by ``backend.dialect.ddl``; one
that needs different DDL per engine is a :class:`Dialects`. SQLite counts the migrations
run in ``PRAGMA user_version``, PostgreSQL in the table ``hashchat_schema``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store import migrations_intake, migrations_pg
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
    # 6: search over the community's transcripts (bot/store/search.py). Triggers keep the
    # index in step with every write that changes what a transcript shows, so no code path
    # can forget it. A message's row id is its own; a question's is -(session*1000 + n).
    # U+E000/U+E001 are taken out of indexed text: they mark the hits in snippets.
    Dialects(
        postgresql=migrations_pg.SEARCH,
        sqlite="""
    CREATE VIRTUAL TABLE search_text USING fts5(
        body, author, tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER search_message_insert AFTER INSERT ON messages
    WHEN new.deleted_at IS NULL AND new.hidden_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM optouts WHERE user = new.author_key)
    BEGIN
        INSERT INTO search_text (rowid, body, author) VALUES (new.id,
            replace(replace(new.text, char(57344), ''), char(57345), ''), new.author_name);
    END;
    CREATE TRIGGER search_message_update
    AFTER UPDATE OF text, author_name, author_key, deleted_at, hidden_at ON messages
    BEGIN
        DELETE FROM search_text WHERE rowid = old.id;
        INSERT INTO search_text (rowid, body, author)
        SELECT new.id, replace(replace(new.text, char(57344), ''), char(57345), ''),
            new.author_name
        WHERE new.deleted_at IS NULL AND new.hidden_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM optouts WHERE user = new.author_key);
    END;
    CREATE TRIGGER search_message_delete AFTER DELETE ON messages
    BEGIN
        DELETE FROM search_text WHERE rowid = old.id;
    END;
    CREATE TRIGGER search_optout AFTER INSERT ON optouts
    BEGIN
        DELETE FROM search_text
        WHERE rowid IN (SELECT id FROM messages WHERE author_key = new.user);
    END;
    CREATE TRIGGER search_optin AFTER DELETE ON optouts
    BEGIN
        INSERT INTO search_text (rowid, body, author)
        SELECT id, replace(replace(text, char(57344), ''), char(57345), ''), author_name
        FROM messages
        WHERE author_key = old.user AND deleted_at IS NULL AND hidden_at IS NULL;
    END;
    CREATE TRIGGER search_session_insert AFTER INSERT ON sessions
    BEGIN
        INSERT INTO search_text (rowid, body, author)
        SELECT -(new.id * 1000 + json_extract(q.value, '$.number')),
            replace(replace(json_extract(q.value, '$.text'), char(57344), ''), char(57345), ''),
            ''
        FROM json_each(new.plan_json, '$.questions') q
        WHERE json_extract(q.value, '$.number') BETWEEN 1 AND 999;
    END;
    CREATE TRIGGER search_session_update AFTER UPDATE OF plan_json ON sessions
    BEGIN
        DELETE FROM search_text WHERE rowid BETWEEN -(old.id * 1000 + 999) AND -(old.id * 1000);
        INSERT INTO search_text (rowid, body, author)
        SELECT -(new.id * 1000 + json_extract(q.value, '$.number')),
            replace(replace(json_extract(q.value, '$.text'), char(57344), ''), char(57345), ''),
            ''
        FROM json_each(new.plan_json, '$.questions') q
        WHERE json_extract(q.value, '$.number') BETWEEN 1 AND 999;
    END;
    CREATE TRIGGER search_session_delete AFTER DELETE ON sessions
    BEGIN
        DELETE FROM search_text WHERE rowid BETWEEN -(old.id * 1000 + 999) AND -(old.id * 1000);
    END;
    INSERT INTO search_text (rowid, body, author)
    SELECT id, replace(replace(text, char(57344), ''), char(57345), ''), author_name
    FROM messages
    WHERE deleted_at IS NULL AND hidden_at IS NULL
        AND author_key NOT IN (SELECT user FROM optouts);
    INSERT INTO search_text (rowid, body, author)
    SELECT -(s.id * 1000 + json_extract(q.value, '$.number')),
        replace(replace(json_extract(q.value, '$.text'), char(57344), ''), char(57345), ''), ''
    FROM sessions s, json_each(s.plan_json, '$.questions') q
    WHERE json_extract(q.value, '$.number') BETWEEN 1 AND 999;
    """,
    ),
    # 7: the site's numbers: per chat, each person's shown messages and answers, and the
    # answers per question set, kept in step by triggers whatever changes a message (the
    # writer, an edit, a hide, a deletion, forgetme, a retention purge), so the numbers
    # page reads a few thousand rows instead of every message (bot/store/site_stats.py).
    Dialects(
        postgresql=migrations_pg.NUMBERS,
        sqlite="""
    CREATE TABLE chat_people (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        author_key TEXT NOT NULL,
        platform TEXT NOT NULL,
        messages INTEGER NOT NULL,
        answers INTEGER NOT NULL,
        PRIMARY KEY (session_id, author_key, platform)
    ) WITHOUT ROWID;
    CREATE INDEX chat_people_by_author ON chat_people (author_key);
    CREATE TABLE chat_answers (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        questions TEXT NOT NULL,
        messages INTEGER NOT NULL,
        PRIMARY KEY (session_id, questions)
    ) WITHOUT ROWID;
    INSERT INTO chat_people
        SELECT session_id, author_key, platform, COUNT(*), SUM(questions != '') FROM messages
        WHERE deleted_at IS NULL AND hidden_at IS NULL GROUP BY 1, 2, 3;
    INSERT INTO chat_answers
        SELECT session_id, questions, COUNT(*) FROM messages
        WHERE deleted_at IS NULL AND hidden_at IS NULL AND questions != '' GROUP BY 1, 2;
    CREATE TRIGGER messages_shown_in AFTER INSERT ON messages
    WHEN NEW.deleted_at IS NULL AND NEW.hidden_at IS NULL BEGIN
        INSERT INTO chat_people VALUES
            (NEW.session_id, NEW.author_key, NEW.platform, 1, NEW.questions != '')
        ON CONFLICT DO UPDATE SET messages = messages + 1, answers = answers + excluded.answers;
        INSERT INTO chat_answers SELECT NEW.session_id, NEW.questions, 1 WHERE NEW.questions != ''
        ON CONFLICT DO UPDATE SET messages = messages + 1;
    END;
    CREATE TRIGGER messages_shown_out AFTER DELETE ON messages
    WHEN OLD.deleted_at IS NULL AND OLD.hidden_at IS NULL BEGIN
        UPDATE chat_people SET messages = messages - 1, answers = answers - (OLD.questions != '')
        WHERE session_id = OLD.session_id AND author_key = OLD.author_key
            AND platform = OLD.platform;
        UPDATE chat_answers SET messages = messages - 1
        WHERE session_id = OLD.session_id AND questions = OLD.questions;
    END;
    CREATE TRIGGER messages_shown_was AFTER UPDATE OF deleted_at, hidden_at, questions
    ON messages WHEN OLD.deleted_at IS NULL AND OLD.hidden_at IS NULL BEGIN
        UPDATE chat_people SET messages = messages - 1, answers = answers - (OLD.questions != '')
        WHERE session_id = OLD.session_id AND author_key = OLD.author_key
            AND platform = OLD.platform;
        UPDATE chat_answers SET messages = messages - 1
        WHERE session_id = OLD.session_id AND questions = OLD.questions;
    END;
    CREATE TRIGGER messages_shown_now AFTER UPDATE OF deleted_at, hidden_at, questions
    ON messages WHEN NEW.deleted_at IS NULL AND NEW.hidden_at IS NULL BEGIN
        INSERT INTO chat_people VALUES
            (NEW.session_id, NEW.author_key, NEW.platform, 1, NEW.questions != '')
        ON CONFLICT DO UPDATE SET messages = messages + 1, answers = answers + excluded.answers;
        INSERT INTO chat_answers SELECT NEW.session_id, NEW.questions, 1 WHERE NEW.questions != ''
        ON CONFLICT DO UPDATE SET messages = messages + 1;
    END;
    """,
    ),
    # 8: the moderators' console: one-time login links and sessions (both kept only as
    # sha256 hashes: a copy of the database opens nothing), and per-chat agendas edited
    # in the console, which take precedence over the agenda file for that one chat.
    """
    CREATE TABLE console_links (
        hash TEXT PRIMARY KEY,
        community TEXT NOT NULL,
        user TEXT NOT NULL,
        user_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE INDEX console_links_by_time ON console_links (created_at);
    CREATE TABLE console_sessions (
        hash TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        user_name TEXT NOT NULL,
        community TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE agenda_overrides (
        community TEXT NOT NULL,
        series TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        agenda TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (community, series, starts_at)
    );
    """,
    # 9: the site's calendar: each chat's event as last published (RFC 5545 wants its
    # SEQUENCE raised when it moves or is cancelled, across restarts); ``fingerprint``
    # is its start, end and status as published.
    """
    CREATE TABLE calendar_events (
        uid TEXT PRIMARY KEY,
        community TEXT NOT NULL,
        sequence INTEGER NOT NULL DEFAULT 0,
        fingerprint TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        summary TEXT NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0,
        published_at TEXT NOT NULL
    );
    CREATE INDEX calendar_events_by_community ON calendar_events (community, starts_at);
    """,
    # 10: the console's exceptions to a series' schedule: a date skipped, one chat moved, a
    # one-off added; they take precedence over the config's schedule.
    """
    CREATE TABLE schedule_exceptions (
        id INTEGER PRIMARY KEY,
        community TEXT NOT NULL,
        series TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('skip', 'move', 'add')),
        starts_at TEXT,
        new_start TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX schedule_exceptions_by_community ON schedule_exceptions (community);
    """,
    # 11: the leadership lease (bot/leadership.py): one row, the instance that runs the
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
    # 12: the numbers page's figures kept per published chat (bot/store/site_figures.py):
    # each chat's tallies as published, per person their totals and first chat, per chat
    # its first-timers and who came back; and the links shared in each published chat and
    # the names people last used in it (bot/store/site_links.py). Filled on the first read
    # after this migration.
    """
    CREATE TABLE site_chats (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        community TEXT NOT NULL,
        n INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        participants INTEGER NOT NULL,
        first_timers INTEGER NOT NULL,
        returned INTEGER NOT NULL,
        PRIMARY KEY (session_id)
    );
    CREATE INDEX site_chats_by_rank ON site_chats (community, n);
    CREATE TABLE site_attendance (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        author_key TEXT NOT NULL,
        platform TEXT NOT NULL,
        messages INTEGER NOT NULL,
        answers INTEGER NOT NULL,
        PRIMARY KEY (session_id, author_key, platform)
    );
    CREATE INDEX site_attendance_by_author ON site_attendance (author_key);
    CREATE TABLE site_people (
        community TEXT NOT NULL,
        author_key TEXT NOT NULL,
        platform TEXT NOT NULL,
        messages INTEGER NOT NULL,
        answers INTEGER NOT NULL,
        chats INTEGER NOT NULL,
        first_n INTEGER NOT NULL,
        PRIMARY KEY (community, author_key, platform)
    );
    CREATE TABLE site_links (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL,
        url TEXT NOT NULL,
        author_key TEXT NOT NULL,
        questions TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        PRIMARY KEY (message_id, url)
    );
    CREATE INDEX site_links_by_chat ON site_links (session_id);
    CREATE INDEX site_links_by_url ON site_links (url);
    CREATE TABLE site_names (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        author_key TEXT NOT NULL,
        name TEXT NOT NULL,
        said_at TEXT NOT NULL,
        PRIMARY KEY (session_id, author_key)
    );
    CREATE INDEX site_names_by_author ON site_names (author_key, said_at);
    """,
    # 13: new messages enter the search index in bulk (bot/store/search_index.py), not
    # row by row in the writer's commit: see bot/store/migrations_intake.py for why.
    Dialects(sqlite=migrations_intake.SQLITE, postgresql=migrations_intake.POSTGRESQL),
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


async def migrate(db: Database, upto: int | None = None) -> int:
    """Bring the schema up to date; returns the version now in force. ``upto`` stops at
    that version on SQLite: a database as an older hashchat left it, for upgrade tests."""
    if db.dialect == "postgresql":
        return await _migrate_postgres(db)
    row = await db.fetchone("PRAGMA user_version")
    version = int(row[0]) if row else 0
    _check(version)
    last = len(MIGRATIONS) if upto is None else upto
    for number, migration in enumerate(MIGRATIONS[version:last], start=version + 1):
        body = script(migration, "sqlite")
        await db.script(f"BEGIN;\n{body}\nPRAGMA user_version = {number};\nCOMMIT;")
    return max(version, last)


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
