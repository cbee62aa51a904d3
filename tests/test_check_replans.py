"""``hashchat check`` beside a running bot's database says which planned chats the
edited files will change, and which they will not."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.planning import session_plan, upcoming
from bot.replanning import changes, with_insertions
from bot.store import Store
from bot.store.suggestions import SuggestionStore
from bot.timeline import QuestionPlan, plan_steps
from tests.conftest import AGENDA
from tests.test_suggestions import a_plan

SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)


def write_config(tmp: Path) -> Path:
    one_offs = "".join(
        f"""
[[communities.sessions]]
id = "{name}"
at = {(SOON + timedelta(days=day)).replace(tzinfo=None).isoformat()}
duration = "60m"
agenda = "{name}.toml"
"""
        for name, day in (("friday", 0), ("monday", 3))
    )
    path = tmp / "hashchat.toml"
    path.write_text(
        f"""
[bot]
database = "run.db"

[[communities]]
id = "hcsmeu"
hashtag = "#hcsmeu"
timezone = "UTC"
channels = ["local:main"]
{one_offs}""",
        encoding="utf-8",
    )
    for name in ("friday", "monday"):
        (tmp / f"{name}.toml").write_text(AGENDA, encoding="utf-8")
    return path


async def store_as_the_bot_did(path: Path) -> None:
    """The two chats planned, and a suggestion approved into Monday's."""
    config = load_config(path)
    store = await Store.open(config.resolve(config.bot.database))
    try:
        now = datetime.now(UTC)
        ids = {}
        for item in upcoming(config, now):
            plan = session_plan(config, item)
            ids[item.series_id] = await store.ensure_session(plan, plan_steps(plan), now)
        suggestions = SuggestionStore(store.db)
        added = await suggestions.add("hcsmeu", "local:ann", "Ann", "Who pays?", now)
        await suggestions.approve_into(ids["monday"], added.id, 2, now)
    finally:
        await store.close()


def test_check_lists_what_the_next_planner_pass_changes(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    asyncio.run(store_as_the_bot_did(path))
    (tmp_path / "friday.toml").write_text(
        AGENDA.replace("Which tool helped most?", "Which tool would you drop?")
        + '\n[[questions]]\ntext = "Who else?"\nat = "40m"\n',
        encoding="utf-8",
    )

    result = CliRunner().invoke(main, ["check", "--config", str(path)])

    assert result.exit_code == 0, result.output
    friday, monday = SOON.date(), (SOON + timedelta(days=3)).date()
    assert f"  hcsmeu/friday {friday}: Q2 text changed, Q4 added\n" in result.output
    assert f"  hcsmeu/monday {monday}: no change\n" in result.output  # the suggestion stays


def test_an_approved_question_keeps_its_place_and_its_time_if_it_still_fits() -> None:
    stored = a_plan()  # Q1 at 10m, Q2 at 20m, Q3 at 30m
    q1, q2, q3 = stored.questions
    approved = replace(  # "approve 1 at 2" put "Who pays?" at 15m
        stored,
        questions=(
            q1,
            QuestionPlan(2, "Who pays?", timedelta(minutes=15)),
            replace(q2, number=3),
            replace(q3, number=4),
        ),
    )
    kept = with_insertions(stored, approved, ["Who pays?"])
    assert kept == approved
    assert changes(approved, kept) == []

    edited = replace(stored, questions=(replace(q1, offset=timedelta(minutes=18)), q2, q3))
    merged = with_insertions(edited, approved, ["Who pays?"])
    assert [(q.number, q.text, q.offset.seconds // 60) for q in merged.questions] == [
        (1, q1.text, 18),
        (2, "Who pays?", 19),  # 15 m now falls before Q1: halfway to the next
        (3, q2.text, 20),
        (4, q3.text, 30),
    ]
    assert changes(approved, merged) == ["Q1 time changed", "Q2 time changed"]


def test_an_approved_question_copied_into_the_agenda_is_asked_once() -> None:
    stored = a_plan()
    q1, q2, q3 = stored.questions
    approved = replace(
        stored,
        questions=(q1, QuestionPlan(2, "Who pays?", timedelta(minutes=15)), *stored.questions[1:]),
    )
    copied = replace(stored, questions=(*stored.questions, QuestionPlan(4, "Who pays?", q3.offset)))
    merged = with_insertions(copied, approved, ["Who pays?"])
    assert [q.text for q in merged.questions] == [q1.text, q2.text, q3.text, "Who pays?"]
