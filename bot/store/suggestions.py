"""Questions suggested by participants, their votes, and their way into a session's agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.store.connection import transaction
from bot.store.questions import insert_question, step_times
from bot.timeline import SessionPlan

OPEN = "open"


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    community: str
    author: str  # platform:id
    author_name: str
    text: str
    state: str  # open, approved, rejected or merged
    votes: int
    merged_into: int | None
    session_id: int | None  # where an approved suggestion went
    created_at: datetime


_COLUMNS = (
    "s.id, s.community, s.author, s.author_name, s.text, s.state,"
    " (SELECT COUNT(*) FROM votes v WHERE v.suggestion_id = s.id) AS votes,"
    " s.merged_into, s.session_id, s.created_at"
)


def _suggestion(row: tuple[object, ...]) -> Suggestion:
    sid, community, author, name, text, state, votes, merged, session, created = row
    return Suggestion(
        id=int(str(sid)),
        community=str(community),
        author=str(author),
        author_name=str(name),
        text=str(text),
        state=str(state),
        votes=int(str(votes)),
        merged_into=None if merged is None else int(str(merged)),
        session_id=None if session is None else int(str(session)),
        created_at=parse_ts(str(created)),
    )


def midpoint(earlier: datetime, later: datetime) -> datetime:
    """Halfway, to the minute: a half minute goes to the earlier side, so an inserted
    question never crowds the one after it."""
    middle = earlier + (later - earlier) / 2
    utc = middle.astimezone(UTC)
    floor = utc.replace(second=0, microsecond=0)
    if utc - floor > timedelta(seconds=30):
        floor += timedelta(minutes=1)
    return floor.astimezone(middle.tzinfo)


class SuggestionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, community: str, author: str, author_name: str, text: str, at: datetime
    ) -> Suggestion:
        async with transaction(self._db):
            new_id = await self._db.insert_id(
                "INSERT INTO suggestions (community, author, author_name, text, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (community, author, author_name, text, ts(at)),
            )
        added = await self.get(new_id)
        assert added is not None
        return added

    async def get(self, suggestion_id: int) -> Suggestion | None:
        async with self._db.execute(
            f"SELECT {_COLUMNS} FROM suggestions s WHERE s.id = ?", (suggestion_id,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _suggestion(row)

    async def open_by_votes(self, community: str) -> list[Suggestion]:
        async with self._db.execute(
            f"SELECT {_COLUMNS} FROM suggestions s WHERE s.community = ? AND s.state = 'open'"
            " ORDER BY votes DESC, s.created_at, s.id",
            (community,),
        ) as cur:
            return [_suggestion(r) for r in await cur.fetchall()]

    async def resolve(self, suggestion_id: int) -> Suggestion | None:
        """The suggestion that stands for this one: itself, or what it was merged into
        (chains end, since only an open suggestion can be merged into)."""
        found = await self.get(suggestion_id)
        while found is not None and found.merged_into is not None:
            found = await self.get(found.merged_into)
        return found

    async def vote(self, suggestion_id: int, voter: str, at: datetime) -> bool:
        """False when ``voter`` already voted for it (or for a duplicate merged into it)."""
        target = await self.resolve(suggestion_id)
        if target is None:
            raise KeyError(suggestion_id)
        if target.state != OPEN:
            raise ValueError(f"suggestion {target.id} is {target.state}, not open for votes")
        async with transaction(self._db):
            cur = await self._db.execute(
                "INSERT OR IGNORE INTO votes (suggestion_id, voter, created_at) VALUES (?, ?, ?)",
                (target.id, voter, ts(at)),
            )
        return cur.rowcount == 1

    async def _open(self, suggestion_id: int) -> Suggestion:
        found = await self.get(suggestion_id)
        if found is None:
            raise KeyError(suggestion_id)
        if found.state != OPEN:
            raise ValueError(f"suggestion {suggestion_id} is {found.state}, not open")
        return found

    async def reject(self, suggestion_id: int, at: datetime) -> None:
        await self._open(suggestion_id)
        async with transaction(self._db):
            cur = await self._db.execute(
                "UPDATE suggestions SET state = 'rejected', decided_at = ?"
                " WHERE id = ? AND state = ?",
                (ts(at), suggestion_id, OPEN),
            )
        if cur.rowcount != 1:
            raise ValueError(f"suggestion {suggestion_id} was decided meanwhile")

    async def merge(self, suggestion_id: int, into: int, at: datetime) -> None:
        """A voter who backed both duplicates still counts once for the one kept."""
        if suggestion_id == into:
            raise ValueError("a suggestion cannot be merged into itself")
        merged, kept = await self._open(suggestion_id), await self._open(into)
        if merged.community != kept.community:
            raise ValueError("suggestions of different communities cannot be merged")
        async with transaction(self._db):
            await self._db.execute(
                "INSERT OR IGNORE INTO votes (suggestion_id, voter, created_at)"
                " SELECT ?, voter, created_at FROM votes WHERE suggestion_id = ?",
                (into, suggestion_id),
            )
            await self._db.execute("DELETE FROM votes WHERE suggestion_id = ?", (suggestion_id,))
            await self._db.execute(
                "UPDATE suggestions SET state = 'merged', merged_into = ?, decided_at = ?"
                " WHERE id = ?",
                (into, ts(at), suggestion_id),
            )

    async def approve_into(
        self, session_id: int, suggestion_id: int, position: int | None, at: datetime
    ) -> int:
        """Insert the suggestion into a planned session's agenda as question ``position``
        (default: last); later questions move one number up and keep their times.

        Returns the new question's number.
        """
        suggestion = await self._open(suggestion_id)
        async with self._db.execute(
            "SELECT state, plan_json FROM sessions WHERE id = ?", (session_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise KeyError(session_id)
        if row[0] != "planned":
            raise ValueError(f"session {session_id} is {row[0]}: only a planned one can change")
        plan = SessionPlan.from_json(str(row[1]))
        if suggestion.community != plan.community:
            raise ValueError("the suggestion belongs to another community")
        count = len(plan.questions)
        number = count + 1 if position is None else position
        if not 1 <= number <= count + 1:
            raise ValueError(f"position {number} is out of range: choose 1 to {count + 1}")
        due = await step_times(self._db, session_id)
        when = midpoint(
            due["welcome" if number == 1 else f"q{number - 1}"],
            due["closing" if number == count + 1 else f"q{number}"],
        )
        async with transaction(self._db):
            await insert_question(
                self._db, session_id, number, suggestion.text, when, state="planned"
            )
            cur = await self._db.execute(
                "UPDATE suggestions SET state = 'approved', session_id = ?, decided_at = ?"
                " WHERE id = ? AND state = 'open'",
                (session_id, ts(at), suggestion_id),
            )
            if cur.rowcount != 1:
                raise ValueError(f"suggestion {suggestion_id} was decided meanwhile")
        return number
