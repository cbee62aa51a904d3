"""Inserting a question into a stored session, renumbering the questions after it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.timeline import QuestionPlan, SessionPlan


async def insert_question(
    db: Database,
    session_id: int,
    number: int,
    text: str,
    due: datetime,
    *,
    state: str,
) -> SessionPlan:
    """Make ``text`` question ``number``, due at ``due``; later questions move one number up.

    Only questions not yet posted may follow it (their numbers are not public yet). The
    caller owns the transaction: nothing is committed here, and ``state`` is re-checked in
    the write, so a chat that started or closed meanwhile makes it fail.
    """
    async with db.execute("SELECT state, plan_json FROM sessions WHERE id = ?", (session_id,)) as c:
        row = await c.fetchone()
    if row is None:
        raise KeyError(session_id)
    if row[0] != state:
        raise ValueError(f"session {session_id} is {row[0]}, not {state}")
    plan = SessionPlan.from_json(str(row[1]))
    count = len(plan.questions)
    if not 1 <= number <= count + 1:
        raise ValueError(f"position {number} is out of range: choose 1 to {count + 1}")
    async with db.execute(
        "SELECT key, question FROM steps WHERE session_id = ? ORDER BY seq", (session_id,)
    ) as c:
        steps = [(str(k), q) for k, q in await c.fetchall()]
    questions = [
        replace(q, number=q.number + 1) if q.number >= number else q for q in plan.questions
    ]
    questions.insert(number - 1, QuestionPlan(number, text, due - plan.starts_at))
    # A bilingual plan's translations follow their questions; the new one has none.
    translated = {_moved(key, number): text for key, text in plan.translated.items()}
    plan = replace(plan, questions=tuple(questions), translated=translated)
    # Highest first, so that each new key is already free when it is taken.
    later = sorted(((k, q) for k, q in steps if q is not None and q >= number), key=lambda s: -s[1])
    order = [k for k, _ in steps]
    at_seq = order.index("welcome" if number == 1 else f"q{number - 1}") + 1
    renamed = {k: f"q{q + 1}" for k, q in later}
    cur = await db.execute(
        "UPDATE sessions SET plan_json = ? WHERE id = ? AND state = ?",
        (plan.to_json(), session_id, state),
    )
    if cur.rowcount != 1:
        raise ValueError(f"session {session_id} changed state meanwhile")
    await db.executemany(
        "UPDATE steps SET key = ?, question = ? WHERE session_id = ? AND key = ?",
        [(renamed[k], q + 1, session_id, k) for k, q in later],
    )
    await db.executemany(
        "UPDATE posts SET step_key = ? WHERE session_id = ? AND step_key = ?",
        [(renamed[k], session_id, k) for k, _ in later],
    )
    await db.executemany(
        "UPDATE steps SET seq = ? WHERE session_id = ? AND key = ?",
        [(i + 1 if i >= at_seq else i, session_id, renamed.get(k, k)) for i, k in enumerate(order)],
    )
    await db.execute(
        "INSERT INTO steps (session_id, key, kind, question, seq, due_at)"
        " VALUES (?, ?, 'question', ?, ?, ?)",
        (session_id, f"q{number}", number, at_seq, ts(due)),
    )
    return plan


async def step_times(db: Database, session_id: int) -> dict[str, datetime]:
    async with db.execute(
        "SELECT key, due_at FROM steps WHERE session_id = ?", (session_id,)
    ) as cur:
        return {str(k): parse_ts(due) for k, due in await cur.fetchall()}


def _moved(key: str, inserted: int) -> str:
    """A translation key after question ``inserted`` was put in: q3 becomes q4 from q3 on."""
    if key.startswith("q") and key[1:].isdigit() and int(key[1:]) >= inserted:
        return f"q{int(key[1:]) + 1}"
    return key
