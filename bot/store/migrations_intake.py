"""Migration 13: a stored message costs its row and its tallies, not its search entry.

Before it, each message inserted ran migration 6's trigger: FTS5 tokenized it and added
it to the index inside the writer's commit, which made a row cost about 2.5 times as
much (26 µs against 11 µs on the bench's messages) at the moment a burst of answers
arrives. Search only ever shows published chats, so a new message need not be searchable
at once; it must only never be missing when a search runs, and never be found once
deleted, hidden or opted out.

SQLite: ``search_mark.upto`` is the highest message id the index has caught up with.
Messages above it are indexed in bulk, as they are then, by raising the mark (one
statement: ``bot.store.search_index.catch_up``, run by the writer once the queue has
been quiet a moment, and by every search before it reads). Below the mark, migration 6's
triggers keep the index exact as before (edits, hides, deletions, opt-outs); above it
they leave it alone, since the catch-up reads the message as it is by then, so a hidden,
deleted or opted-out message is never indexed at all.

PostgreSQL: a trigger per statement instead of per row, reading the statement's new
rows (a transition table): the writer's batch of 500 messages enters the index and the
numbers' tallies in three statements, grouped by person, instead of 500 calls of two
plpgsql functions. Immediate, so no mark is needed there.
"""

from __future__ import annotations

_CLEAN = "replace(replace({}, char(57344), ''), char(57345), '')"

SQLITE = f"""
DROP TRIGGER search_message_insert;
CREATE TABLE search_mark (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO search_mark VALUES (1, (SELECT coalesce(max(id), 0) FROM messages));
CREATE TRIGGER search_catch_up AFTER UPDATE OF upto ON search_mark
WHEN new.upto > old.upto
BEGIN
    INSERT INTO search_text (rowid, body, author)
    SELECT id, {_CLEAN.format("text")}, author_name FROM messages
    WHERE id > old.upto AND id <= new.upto AND deleted_at IS NULL AND hidden_at IS NULL
        AND author_key NOT IN (SELECT user FROM optouts);
END;
DROP TRIGGER search_message_update;
CREATE TRIGGER search_message_update
AFTER UPDATE OF text, author_name, author_key, deleted_at, hidden_at ON messages
WHEN old.id <= (SELECT upto FROM search_mark)
BEGIN
    DELETE FROM search_text WHERE rowid = old.id;
    INSERT INTO search_text (rowid, body, author)
    SELECT new.id, {_CLEAN.format("new.text")}, new.author_name
    WHERE new.deleted_at IS NULL AND new.hidden_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM optouts WHERE user = new.author_key);
END;
DROP TRIGGER search_optin;
CREATE TRIGGER search_optin AFTER DELETE ON optouts
BEGIN
    INSERT INTO search_text (rowid, body, author)
    SELECT id, {_CLEAN.format("text")}, author_name FROM messages
    WHERE author_key = old.user AND deleted_at IS NULL AND hidden_at IS NULL
        AND id <= (SELECT upto FROM search_mark);
END;
"""

POSTGRESQL = """
CREATE FUNCTION hashchat_messages_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_text (id, body, author)
    SELECT a.id, hashchat_clean(a.text), a.author_name FROM added a
    WHERE a.deleted_at IS NULL AND a.hidden_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM optouts o WHERE o."user" = a.author_key);
    INSERT INTO chat_people AS p
    SELECT session_id, author_key, platform, COUNT(*),
        SUM(CASE WHEN questions != '' THEN 1 ELSE 0 END)
    FROM added WHERE deleted_at IS NULL AND hidden_at IS NULL GROUP BY 1, 2, 3
    ON CONFLICT (session_id, author_key, platform) DO UPDATE
        SET messages = p.messages + excluded.messages, answers = p.answers + excluded.answers;
    INSERT INTO chat_answers AS c
    SELECT session_id, questions, COUNT(*) FROM added
    WHERE deleted_at IS NULL AND hidden_at IS NULL AND questions != '' GROUP BY 1, 2
    ON CONFLICT (session_id, questions) DO UPDATE SET messages = c.messages + excluded.messages;
    RETURN NULL;
END $$;
DROP TRIGGER search_message ON messages;
CREATE TRIGGER search_message AFTER DELETE
    OR UPDATE OF text, author_name, author_key, deleted_at, hidden_at
    ON messages FOR EACH ROW EXECUTE FUNCTION hashchat_search_message();
DROP TRIGGER messages_shown ON messages;
CREATE TRIGGER messages_shown AFTER DELETE OR UPDATE OF deleted_at, hidden_at, questions
    ON messages FOR EACH ROW EXECUTE FUNCTION hashchat_count_shown();
CREATE TRIGGER messages_added AFTER INSERT ON messages REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION hashchat_messages_added();
"""
