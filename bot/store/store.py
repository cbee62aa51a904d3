"""The store API used by the core: sessions, steps, posts, cursors and transcript reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.store.audit import AuditLog
from bot.store.backend import Database, Location, open_database
from bot.store.codec import (
    parse_ts,
    parse_ts_or_none,
    ts,
)
from bot.store.connection import transaction
from bot.store.leadership import LeaseStore, fenced_claim_sql
from bot.store.migrations import migrate
from bot.store.site_figures import set_publication
from bot.store.transcript_rows import MESSAGE_COLUMNS, message_record, question_posts
from bot.timeline import PlannedStep, SessionPlan, StepKind
from bot.transcript.model import (
    QuestionRecord,
    SessionRecord,
    TranscriptSource,
)

log = logging.getLogger(__name__)


class PostState(StrEnum):
    SENDING = "sending"  # claimed before the request: a crash leaves this behind
    SENT = "sent"
    UNCERTAIN = "uncertain"  # may have reached the platform; never resent blindly
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    plan: SessionPlan
    state: str
    created_at: datetime
    transcript_url: str | None
    paused_at: datetime | None


@dataclass(frozen=True, slots=True)
class StepRow:
    key: str
    kind: StepKind
    question: int | None
    seq: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class PostRow:
    step_key: str
    channel: str
    state: PostState
    message_id: str | None
    late: bool
    # When it was first tried: a resend after a crash keeps this time.
    attempted_at: datetime | None = None


class Store:
    """One database (an SQLite file or PostgreSQL); open with :meth:`open`, close with
    :meth:`close`."""

    def __init__(self, db: Database, path: Location) -> None:
        self.db = db
        self.path = path
        self.audit = AuditLog(db)
        # The leadership token this instance posts under (bot/leadership.py); None when
        # it runs alone without a lease (the demo, the tests).
        self.fence: int | None = None

    @classmethod
    async def open(cls, where: Location, *, password: str | None = None) -> Store:
        db = await open_database(where, password=password)
        try:
            await migrate(db)
        except BaseException:
            await db.close()  # its worker thread would keep the process alive
            raise
        return cls(db, where)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        """Raise if the database does not answer: what ``/ready`` reports."""
        async with self.db.execute("SELECT 1") as cur:
            await cur.fetchone()

    # sessions -------------------------------------------------------------------------

    async def ensure_session(
        self, plan: SessionPlan, steps: list[PlannedStep], now: datetime
    ) -> int:
        """Store a planned session once; calling again for the same start is a no-op."""
        async with self.db.execute(
            "SELECT id FROM sessions WHERE community = ? AND series = ? AND starts_at = ?",
            (plan.community, plan.series, ts(plan.starts_at)),
        ) as cur:
            row = await cur.fetchone()
        if row:
            return int(row[0])
        plan = replace(plan, slug=await self._free_slug(plan.slug))
        async with transaction(self.db):
            session_id = await self.db.insert_id(
                "INSERT INTO sessions (community, series, slug, starts_at, ends_at, plan_json,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    plan.community,
                    plan.series,
                    plan.slug,
                    ts(plan.starts_at),
                    ts(plan.ends_at),
                    plan.to_json(),
                    ts(now),
                ),
            )
            await self.db.executemany(
                "INSERT INTO steps (session_id, key, kind, question, seq, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(session_id, s.key, s.kind.value, s.question, s.seq, ts(s.due_at)) for s in steps],
            )
        return session_id

    async def _free_slug(self, slug: str) -> str:
        """``community/2026-03-04``, or ``-2``, ``-3``... when another series has that day."""
        candidate, n = slug, 1
        while True:
            async with self.db.execute(
                "SELECT 1 FROM sessions WHERE slug = ?", (candidate,)
            ) as cur:
                if await cur.fetchone() is None:
                    return candidate
            n += 1
            candidate = f"{slug}-{n}"

    def _session(self, row: tuple[object, ...]) -> SessionRow:
        sid, plan_json, state, created, url, paused = row
        return SessionRow(
            int(str(sid)),
            SessionPlan.from_json(str(plan_json)),
            str(state),
            parse_ts(str(created)),
            None if url is None else str(url),
            None if paused is None else parse_ts(str(paused)),
        )

    _SESSION_COLS = "id, plan_json, state, created_at, transcript_url, paused_at"

    async def session(self, session_id: int) -> SessionRow:
        async with self.db.execute(
            f"SELECT {self._SESSION_COLS} FROM sessions WHERE id = ?", (session_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise KeyError(session_id)
        return self._session(row)

    async def open_sessions(self) -> list[SessionRow]:
        async with self.db.execute(
            f"SELECT {self._SESSION_COLS} FROM sessions WHERE state != 'closed' ORDER BY starts_at"
        ) as cur:
            return [self._session(r) for r in await cur.fetchall()]

    async def closed_since(self, since: datetime) -> list[SessionRow]:
        """Sessions closed whose chat ended at ``since`` or later (late messages)."""
        async with self.db.execute(
            f"SELECT {self._SESSION_COLS} FROM sessions JOIN steps"
            " ON steps.session_id = sessions.id AND steps.key = 'closing'"
            " WHERE state = 'closed' AND steps.due_at >= ? ORDER BY starts_at",
            (ts(since),),
        ) as cur:
            return [self._session(r) for r in await cur.fetchall()]

    async def set_state(self, session_id: int, state: str) -> None:
        await set_publication(self.db, session_id, "state", state)

    async def set_paused(self, session_id: int, when: datetime | None) -> None:
        async with transaction(self.db):
            await self.db.execute(
                "UPDATE sessions SET paused_at = ? WHERE id = ?",
                (None if when is None else ts(when), session_id),
            )

    async def set_transcript_url(self, session_id: int, url: str) -> None:
        await set_publication(self.db, session_id, "transcript_url", url)

    # steps and posts ------------------------------------------------------------------

    async def steps(self, session_id: int) -> list[StepRow]:
        async with self.db.execute(
            "SELECT key, kind, question, seq, due_at FROM steps WHERE session_id = ?"
            " ORDER BY due_at, seq",
            (session_id,),
        ) as cur:
            return [
                StepRow(k, StepKind(kind), q, seq, parse_ts(due))
                for k, kind, q, seq, due in await cur.fetchall()
            ]

    async def set_step_dues(self, session_id: int, dues: dict[str, datetime]) -> None:
        """Move steps in one transaction, so a timeline is never left half shifted."""
        async with transaction(self.db):
            await self.db.executemany(
                "UPDATE steps SET due_at = ? WHERE session_id = ? AND key = ?",
                [(ts(due), session_id, key) for key, due in dues.items()],
            )

    async def posts(self, session_id: int) -> dict[tuple[str, str], PostRow]:
        async with self.db.execute(
            "SELECT step_key, channel, state, message_id, late, posted_at FROM posts"
            " WHERE session_id = ?",
            (session_id,),
        ) as cur:
            rows = await cur.fetchall()
        return {
            (k, ch): PostRow(k, ch, PostState(st), mid, bool(late), parse_ts_or_none(at))
            for k, ch, st, mid, late, at in rows
        }

    async def claim_post(self, session_id: int, step: str, channel: str, now: datetime) -> bool:
        """Record the intent to post before sending; False if another attempt got there first.

        The claim's time is the post's time unless the platform refuses it: a resend
        after a crash may only settle whether this attempt got through. With a
        :attr:`fence`, only while the lease carries that token (bot/store/leadership.py).
        """
        values = (session_id, step, channel, ts(now), ts(now))
        if self.fence is None:
            cur = await self.db.write(
                "INSERT OR IGNORE INTO posts (session_id, step_key, channel, state,"
                " posted_at, updated_at) VALUES (?, ?, ?, 'sending', ?, ?)",
                values,
            )
        else:
            cur = await self.db.write(fenced_claim_sql(self.db), (*values, self.fence))
        claimed = cur.rowcount == 1
        if not claimed and self.fence and not await LeaseStore(self.db).carries(self.fence):
            log.error("not posting %s in %s: the lease is no longer ours", step, channel)
        return claimed

    async def latest_post(
        self, session_id: int, channel: str, *, exclude_prefix: str = ""
    ) -> str | None:
        """The platform id of the session's last post in ``channel``, for reply chains."""
        async with self.db.execute(
            "SELECT message_id FROM posts WHERE session_id = ? AND channel = ?"
            " AND state = 'sent' AND message_id IS NOT NULL"
            " AND (? = '' OR substr(step_key, 1, length(?)) != ?)"
            " ORDER BY posted_at DESC, rowid DESC LIMIT 1",
            (session_id, channel, exclude_prefix, exclude_prefix, exclude_prefix),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def finish_post(
        self,
        session_id: int,
        step: str,
        channel: str,
        state: PostState,
        now: datetime,
        *,
        message_id: str | None = None,
        url: str | None = None,
        late: bool = False,
    ) -> None:
        """Record how a post ended; a sent or uncertain one keeps its claim's time."""
        await self.db.write(
            "INSERT INTO posts (session_id, step_key, channel, state, message_id, url,"
            " posted_at, late, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id, step_key, channel) DO UPDATE SET state = excluded.state,"
            " message_id = excluded.message_id, url = excluded.url,"
            " posted_at = CASE WHEN excluded.posted_at IS NULL THEN NULL"
            " ELSE COALESCE(posts.posted_at, excluded.posted_at) END,"
            " late = excluded.late, updated_at = excluded.updated_at"
            # A reply's evidence may have confirmed it meanwhile (store/confirmation.py).
            " WHERE NOT (posts.state = 'sent' AND excluded.state = 'uncertain')",
            (
                session_id,
                step,
                channel,
                state.value,
                message_id,
                url,
                ts(now) if state in (PostState.SENT, PostState.UNCERTAIN) else None,
                int(late),
                ts(now),
            ),
        )

    async def release_post(self, session_id: int, step: str, channel: str) -> None:
        """Forget a claim whose send the platform refused, so the step can be tried again."""
        async with transaction(self.db):
            await self.db.execute(
                "DELETE FROM posts WHERE session_id = ? AND step_key = ? AND channel = ?"
                " AND state = 'sending'",
                (session_id, step, channel),
            )

    # cursors ---------------------------------------------------------------------------

    async def cursor(self, platform: str, key: str) -> str | None:
        async with self.db.execute(
            "SELECT value FROM cursors WHERE platform = ? AND key = ?", (platform, key)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set_cursor(self, platform: str, key: str, value: str) -> None:
        async with transaction(self.db):
            await self.db.execute(
                "INSERT INTO cursors (platform, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value",
                (platform, key, value),
            )

    # messages (reads; writes go through MessageWriter) ------------------------------

    async def message_context(
        self, platform: str, channel: str, platform_id: str
    ) -> tuple[int, str | None, str | None] | None:
        """(session, reply_to, thread) of a stored message, to re-attribute it after an edit."""
        async with self.db.execute(
            "SELECT session_id, reply_to, thread FROM messages"
            " WHERE platform = ? AND channel = ? AND platform_id = ?",
            (platform, channel, platform_id),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else (int(row[0]), row[1], row[2])

    async def _step_time(self, session_id: int, key: str, planned: datetime) -> datetime:
        """When a step really fell due: moderators may have started, extended or ended
        the chat off its plan."""
        async with self.db.execute(
            "SELECT due_at FROM steps WHERE session_id = ? AND key = ?", (session_id, key)
        ) as cur:
            row = await cur.fetchone()
        return planned if row is None else parse_ts(row[0])

    async def transcript_source(self, session_id: int) -> TranscriptSource:
        row = await self.session(session_id)
        plan = row.plan
        # A question whose post is uncertain was announced, or may have been: it counts
        # as posted, unconfirmed, unless another channel confirms it.
        posted: dict[int, tuple[datetime, bool]] = {}
        async with self.db.execute(
            "SELECT s.question, p.state = 'sent', MIN(COALESCE(p.posted_at, p.updated_at))"
            " FROM steps s JOIN posts p ON p.session_id = s.session_id AND p.step_key = s.key"
            " WHERE s.session_id = ? AND s.kind = 'question' AND p.state IN ('sent', 'uncertain')"
            " GROUP BY s.question, p.state = 'sent' ORDER BY 2",
            (session_id,),
        ) as cur:
            for number, sent, at in await cur.fetchall():
                posted[int(number)] = (parse_ts(at), bool(sent))  # a sent row comes last
        posts = await question_posts(self.db, session_id)
        async with self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            " WHERE session_id = ? AND deleted_at IS NULL AND hidden_at IS NULL"
            " ORDER BY sent_at, id",
            (session_id,),
        ) as cur:
            messages = tuple(message_record(row, posts) for row in await cur.fetchall())
        return TranscriptSource(
            session=SessionRecord(
                community=plan.community,
                hashtag=plan.hashtag,
                title=plan.title,
                locale=plan.locale,
                timezone=plan.timezone,
                slug=plan.slug,
                starts_at=await self._step_time(session_id, "welcome", plan.starts_at),
                ends_at=await self._step_time(session_id, "closing", plan.ends_at),
                channels=plan.channels,
            ),
            questions=tuple(
                QuestionRecord(
                    number=q.number,
                    text=q.text,
                    posted_at=posted[q.number][0] if q.number in posted else None,
                    confirmed=posted.get(q.number, (None, True))[1],
                )
                for q in plan.questions
            ),
            messages=messages,
        )
