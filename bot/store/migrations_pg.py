"""PostgreSQL's own DDL for the migrations whose SQLite form has no translation: the
search index (6; FTS5 there, ``tsvector`` here) and the site's numbers (7; SQLite
triggers there, plpgsql trigger functions here). Same tables, same rows, same numbers.
"""

from __future__ import annotations

from bot.store.fold import FROM, TO


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# 6: ``search_text`` holds what a transcript shows: a message's text under its id, a
# question's under -(session * 1000 + number). ``doc`` is what a query matches (the text,
# then the author's name, as FTS5 matches either column), ``who`` the author filter's.
# Both are folded (hashchat_fold: no diacritics) so "education" finds "éducation".
SEARCH = f"""
CREATE FUNCTION hashchat_fold(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT translate(t, {_literal(FROM)}, {_literal(TO)}) $$;
CREATE FUNCTION hashchat_clean(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT replace(replace(t, chr(57344), ''), chr(57345), '') $$;
CREATE TABLE search_text (
    id BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', hashchat_fold(body)), 'A')
        || setweight(to_tsvector('simple', hashchat_fold(author)), 'B')
    ) STORED,
    who tsvector GENERATED ALWAYS AS (to_tsvector('simple', hashchat_fold(author))) STORED
);
CREATE INDEX search_text_doc ON search_text USING GIN (doc);
CREATE FUNCTION hashchat_search_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM search_text WHERE id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL AND NEW.hidden_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM optouts WHERE "user" = NEW.author_key) THEN
        INSERT INTO search_text (id, body, author)
        VALUES (NEW.id, hashchat_clean(NEW.text), NEW.author_name);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_message AFTER INSERT OR DELETE
    OR UPDATE OF text, author_name, author_key, deleted_at, hidden_at
    ON messages FOR EACH ROW EXECUTE FUNCTION hashchat_search_message();
CREATE FUNCTION hashchat_search_optout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        DELETE FROM search_text
        WHERE id IN (SELECT id FROM messages WHERE author_key = NEW."user");
    ELSE
        INSERT INTO search_text (id, body, author)
        SELECT id, hashchat_clean(text), author_name FROM messages
        WHERE author_key = OLD."user" AND deleted_at IS NULL AND hidden_at IS NULL
        ON CONFLICT (id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_optout AFTER INSERT OR DELETE ON optouts
    FOR EACH ROW EXECUTE FUNCTION hashchat_search_optout();
CREATE FUNCTION hashchat_search_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM search_text WHERE id BETWEEN -(OLD.id * 1000 + 999) AND -(OLD.id * 1000);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO search_text (id, body, author)
        SELECT -(NEW.id * 1000 + (q ->> 'number')::BIGINT), hashchat_clean(q ->> 'text'), ''
        FROM json_array_elements(NEW.plan_json::json -> 'questions') q
        WHERE (q ->> 'number')::BIGINT BETWEEN 1 AND 999;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_session AFTER INSERT OR DELETE OR UPDATE OF plan_json ON sessions
    FOR EACH ROW EXECUTE FUNCTION hashchat_search_session();
INSERT INTO search_text (id, body, author)
SELECT id, hashchat_clean(text), author_name FROM messages
WHERE deleted_at IS NULL AND hidden_at IS NULL
    AND author_key NOT IN (SELECT "user" FROM optouts);
INSERT INTO search_text (id, body, author)
SELECT -(s.id * 1000 + (q ->> 'number')::BIGINT), hashchat_clean(q ->> 'text'), ''
FROM sessions s, json_array_elements(s.plan_json::json -> 'questions') q
WHERE (q ->> 'number')::BIGINT BETWEEN 1 AND 999;
"""

# 7: per chat, each person's shown messages and answers, and the answers per question
# set, kept in step by one trigger function whatever changes a message.
NUMBERS = """
CREATE TABLE chat_people (
    session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    author_key TEXT NOT NULL,
    platform TEXT NOT NULL,
    messages BIGINT NOT NULL,
    answers BIGINT NOT NULL,
    PRIMARY KEY (session_id, author_key, platform)
);
CREATE INDEX chat_people_by_author ON chat_people (author_key);
CREATE TABLE chat_answers (
    session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    questions TEXT NOT NULL,
    messages BIGINT NOT NULL,
    PRIMARY KEY (session_id, questions)
);
INSERT INTO chat_people
    SELECT session_id, author_key, platform, COUNT(*),
        SUM(CASE WHEN questions != '' THEN 1 ELSE 0 END)
    FROM messages WHERE deleted_at IS NULL AND hidden_at IS NULL GROUP BY 1, 2, 3;
INSERT INTO chat_answers
    SELECT session_id, questions, COUNT(*) FROM messages
    WHERE deleted_at IS NULL AND hidden_at IS NULL AND questions != '' GROUP BY 1, 2;
CREATE FUNCTION hashchat_count_shown() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL AND OLD.hidden_at IS NULL THEN
        UPDATE chat_people SET messages = messages - 1,
            answers = answers - CASE WHEN OLD.questions != '' THEN 1 ELSE 0 END
        WHERE session_id = OLD.session_id AND author_key = OLD.author_key
            AND platform = OLD.platform;
        UPDATE chat_answers SET messages = messages - 1
        WHERE session_id = OLD.session_id AND questions = OLD.questions;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL AND NEW.hidden_at IS NULL THEN
        INSERT INTO chat_people AS p VALUES (NEW.session_id, NEW.author_key, NEW.platform, 1,
            CASE WHEN NEW.questions != '' THEN 1 ELSE 0 END)
        ON CONFLICT (session_id, author_key, platform) DO UPDATE
            SET messages = p.messages + 1, answers = p.answers + excluded.answers;
        IF NEW.questions != '' THEN
            INSERT INTO chat_answers AS a VALUES (NEW.session_id, NEW.questions, 1)
            ON CONFLICT (session_id, questions) DO UPDATE SET messages = a.messages + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_shown AFTER INSERT OR DELETE
    OR UPDATE OF deleted_at, hidden_at, questions
    ON messages FOR EACH ROW EXECUTE FUNCTION hashchat_count_shown();
"""
