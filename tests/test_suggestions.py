"""Participants suggest questions and vote; moderators approve them into the next agenda."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.suggestions  # noqa: F401  (registers the commands; the lead wires it into the app)
from bot.domain import UserRef
from bot.store import Store
from bot.store.suggestions import SuggestionStore, midpoint
from bot.timeline import QuestionPlan, SessionPlan, plan_steps
from tests.conftest import MOD, START, Chat
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
CAT = UserRef("local", "cat", "Cat")
DAN = UserRef("local", "dan", "Dan")
EMPTY = "No suggestions yet: send “suggest” and your question to add one."
LISTED = "Suggested questions, most votes first:\n"
QUESTIONS = ("What does partnership mean to you?", "Which tool helped most?", "What next?")


def a_plan() -> SessionPlan:
    return SessionPlan(
        community="hcsmeu",
        series="march",
        slug="hcsmeu/2026-03-04",
        title="Patients as partners",
        hashtag="#hcsmeu",
        locale="en",
        timezone="Europe/Paris",
        starts_at=T0,
        ends_at=T0 + timedelta(hours=1),
        channels=("local:main",),
        questions=tuple(
            QuestionPlan(n, text, timedelta(minutes=10 * n))
            for n, text in enumerate(QUESTIONS, start=1)
        ),
        reminders=(timedelta(hours=1), timedelta(minutes=10)),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "chat.db")
    yield opened
    await opened.close()


async def suggested(store: Store, *texts: str) -> list[int]:
    """Added a minute apart, the first the oldest."""
    suggestions, ids = SuggestionStore(store.db), []
    for i, text in enumerate(texts):
        at = T0 - timedelta(days=1) + timedelta(minutes=i)
        ids.append((await suggestions.add("hcsmeu", f"local:u{i}", f"U{i}", text, at)).id)
    return ids


# the store ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "number", "due"),
    [(1, 1, 5), (2, 2, 15), (3, 3, 25), (None, 4, 45)],
    ids=["first", "between", "before-last", "default-last"],
)
async def test_approve_inserts_the_question_and_renumbers_plan_and_steps(
    store: Store, position: int | None, number: int, due: int
) -> None:
    session_id = await store.ensure_session(a_plan(), plan_steps(a_plan()), T0 - timedelta(days=1))
    [sid] = await suggested(store, "How do you find patients?")
    suggestions = SuggestionStore(store.db)

    assert await suggestions.approve_into(session_id, sid, position, T0) == number

    plan = (await store.session(session_id)).plan
    texts = list(QUESTIONS)
    texts.insert(number - 1, "How do you find patients?")
    assert [(q.number, q.text) for q in plan.questions] == list(enumerate(texts, start=1))
    assert plan.question(number).offset == timedelta(minutes=due)
    stored = [(s.key, s.kind, s.question, s.seq, s.due_at) for s in await store.steps(session_id)]
    assert stored == [(p.key, p.kind, p.question, p.seq, p.due_at) for p in plan_steps(plan)]
    approved = await suggestions.get(sid)
    assert approved is not None
    assert (approved.state, approved.session_id) == ("approved", session_id)


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [(0, 600, 300), (600, 900, 720), (600, 910, 780), (600, 660, 600)],
    ids=["even", "half-goes-earlier", "rounds-up", "one-minute-gap"],
)
def test_the_new_due_time_is_halfway_to_the_minute(earlier: int, later: int, expected: int) -> None:
    assert midpoint(T0 + timedelta(seconds=earlier), T0 + timedelta(seconds=later)) == (
        T0 + timedelta(seconds=expected)
    )


async def test_approve_refuses_a_started_session_a_decided_suggestion_and_a_bad_position(
    store: Store,
) -> None:
    session_id = await store.ensure_session(a_plan(), plan_steps(a_plan()), T0 - timedelta(days=1))
    first, second = await suggested(store, "One?", "Two?")
    suggestions = SuggestionStore(store.db)
    before = (await store.session(session_id), await store.steps(session_id))

    for position in (0, 5):
        with pytest.raises(ValueError, match="out of range: choose 1 to 4"):
            await suggestions.approve_into(session_id, first, position, T0)
    await suggestions.reject(second, T0)
    with pytest.raises(ValueError, match="not open"):
        await suggestions.approve_into(session_id, second, 1, T0)
    await store.set_state(session_id, "live")
    with pytest.raises(ValueError, match="live"):
        await suggestions.approve_into(session_id, first, 1, T0)

    after = (await store.session(session_id), await store.steps(session_id))
    assert after[0].plan == before[0].plan
    assert after[1] == before[1]
    assert (await suggestions.open_by_votes("hcsmeu"))[0].id == first


async def test_votes_count_once_per_person_and_order_the_open_list(store: Store) -> None:
    one, two, three = await suggested(store, "One?", "Two?", "Three?")
    suggestions = SuggestionStore(store.db)
    assert await suggestions.vote(two, "local:ann", T0)
    assert not await suggestions.vote(two, "local:ann", T0)
    assert await suggestions.vote(two, "local:bob", T0)
    assert await suggestions.vote(three, "local:ann", T0)
    listed = await suggestions.open_by_votes("hcsmeu")
    assert [(s.id, s.votes) for s in listed] == [(two, 2), (three, 1), (one, 0)]
    await suggestions.reject(two, T0)
    assert [s.id for s in await suggestions.open_by_votes("hcsmeu")] == [three, one]
    assert await suggestions.open_by_votes("elsewhere") == []
    with pytest.raises(ValueError, match="rejected"):
        await suggestions.vote(two, "local:cat", T0)


async def test_merge_moves_votes_without_counting_a_voter_twice(store: Store) -> None:
    kept, duplicate = await suggested(store, "How to involve patients?", "Involving patients?")
    suggestions = SuggestionStore(store.db)
    for voter in ("local:ann", "local:bob"):
        await suggestions.vote(kept, voter, T0)
    for voter in ("local:bob", "local:cat"):
        await suggestions.vote(duplicate, voter, T0)

    await suggestions.merge(duplicate, kept, T0)

    merged, target = await suggestions.get(duplicate), await suggestions.get(kept)
    assert merged is not None
    assert target is not None
    assert (merged.state, merged.merged_into, merged.votes) == ("merged", kept, 0)
    assert target.votes == 3
    assert not await suggestions.vote(duplicate, "local:cat", T0)  # already counted for kept
    assert await suggestions.vote(duplicate, "local:dan", T0)
    assert [(s.id, s.votes) for s in await suggestions.open_by_votes("hcsmeu")] == [(kept, 4)]
    with pytest.raises(ValueError, match="itself"):
        await suggestions.merge(kept, kept, T0)
    with pytest.raises(ValueError, match="merged, not open"):
        await suggestions.merge(duplicate, kept, T0)


# in the chat ------------------------------------------------------------------------


def replies(chat: Chat) -> list[str]:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to]


async def ask(chat: Chat, minute: float, text: str, who: UserRef = MOD) -> str:
    await chat.at(minute)
    chat.local.say(who, "local:main", text)
    await chat.at(minute)
    return replies(chat)[-1]


def posted_at(chat: Chat, text: str, channel: str = "local:main") -> list[timedelta]:
    return [m.sent_at - START for m in chat.local.bot_posts(channel) if m.text == text]


async def test_a_suggestion_submitted_voted_approved_and_then_posted_as_a_numbered_question(
    chat: Chat,
) -> None:
    assert await ask(chat, -90, "/suggest How do   patients find us?", ANN) == (
        "Thanks! Your suggestion #1 is in the list; others can vote for it with “vote 1”."
    )
    assert await ask(chat, -89, "/vote 1", BOB) == "Thanks, your vote for #1 is counted."
    assert await ask(chat, -88, "/vote #1", CAT) == "Thanks, your vote for #1 is counted."
    assert await ask(chat, -87, "/suggestions", DAN) == (
        LISTED + "#1 (2 votes) How do patients find us?"
    )
    assert await ask(chat, -80, "/approve 1 at 2") == (
        "Suggestion #1 is now Q2 of “Patients as partners”."
    )
    assert await ask(chat, -79, "/suggestions", DAN) == EMPTY

    await chat.at(61)
    expected = {
        "Q1: What does partnership mean to you?": 10,
        "Q2: How do patients find us?": 15,  # halfway between Q1 and the old Q2
        "Q3: Which tool helped most?": 20,
        "Q4: What should change first?": 30,
    }
    for channel in ("local:main", "local:side"):
        for text, minute in expected.items():
            assert posted_at(chat, f"{text} #hcsmeu", channel) == [timedelta(minutes=minute)]
    questions = transcript(chat)["questions"]
    assert isinstance(questions, list)
    assert [q["text"] for q in questions] == [t.split(": ", 1)[1] for t in expected]
    assert chat.app is not None
    actions = await chat.app.store.audit.recent("hcsmeu")
    assert [(a.action, a.target, a.reason) for a in actions] == [
        ("approve", "suggestion 1", "1 at 2")
    ]


async def test_each_person_votes_once_and_unknown_numbers_are_said_so(chat: Chat) -> None:
    await ask(chat, -90, "/suggest Who pays?", ANN)
    assert await ask(chat, -89, "/vote 1", BOB) == "Thanks, your vote for #1 is counted."
    assert await ask(chat, -88, "/vote 1", BOB) == "You have already voted for #1."
    assert await ask(chat, -87, "/vote 7", BOB) == "There is no suggestion #7."
    assert await ask(chat, -86, "/vote", BOB) == "Say which suggestion, for example “vote 4”."
    assert await ask(chat, -85, "/suggest   ", BOB) == (
        "Write your question after the command, for example “suggest How do you involve patients?”."
    )
    assert await ask(chat, -84, "/suggestions", CAT) == LISTED + "#1 (1 vote) Who pays?"


async def test_a_merge_moves_the_votes_and_later_votes_follow(chat: Chat) -> None:
    await ask(chat, -90, "/suggest How do we involve patients?", ANN)
    await ask(chat, -90, "/suggest Involving patients: how?", BOB)
    await ask(chat, -89, "/vote 1", CAT)
    await ask(chat, -89, "/vote 2", CAT)
    await ask(chat, -89, "/vote 2", DAN)
    assert await ask(chat, -80, "/merge 2 into 1") == (
        "Suggestion #2 is merged into #1, which now has 2 votes."
    )
    assert await ask(chat, -79, "/vote 2", DAN) == "You have already voted for #1."
    assert await ask(chat, -79, "/vote 2", ANN) == "Thanks, your vote for #1 is counted."
    assert await ask(chat, -78, "/suggestions", BOB) == (
        LISTED + "#1 (3 votes) How do we involve patients?"
    )
    assert await ask(chat, -77, "/merge 1 into 1") == "A suggestion cannot be merged into itself."
    assert await ask(chat, -77, "/merge 2 into 1") == "Suggestion #2 is no longer open."


async def test_a_rejected_suggestion_leaves_the_list_and_takes_no_votes(chat: Chat) -> None:
    await ask(chat, -90, "/suggest Off topic?", ANN)
    assert await ask(chat, -80, "/reject 1") == "Suggestion #1 is rejected."
    assert await ask(chat, -79, "/suggestions", BOB) == EMPTY
    assert await ask(chat, -79, "/vote 1", BOB) == "Suggestion #1 is no longer open."
    assert await ask(chat, -78, "/approve 1") == "Suggestion #1 is no longer open."
    assert chat.app is not None
    actions = await chat.app.store.audit.recent("hcsmeu")
    assert [(a.action, a.target) for a in actions] == [
        ("approve", ""),
        ("reject", "suggestion 1"),
    ]


async def test_a_participant_cannot_approve_and_the_agenda_stays(chat: Chat) -> None:
    await ask(chat, -90, "/suggest Mine first?", ANN)
    assert await ask(chat, -89, "/approve 1 at 1", ANN) == (
        "Sorry, only the moderators of #hcsmeu can use “approve”."
    )
    assert await ask(chat, -88, "/reject 1", ANN) == (
        "Sorry, only the moderators of #hcsmeu can use “reject”."
    )
    assert await ask(chat, -87, "/suggestions", BOB) == LISTED + "#1 (0 votes) Mine first?"
    await chat.at(61)
    assert posted_at(chat, "Q1: What does partnership mean to you? #hcsmeu") == [
        timedelta(minutes=10)
    ]
    assert not any(p.startswith("Q4:") for p in chat.posts())


async def test_the_list_orders_by_votes_and_shows_ten(chat: Chat) -> None:
    for n in range(1, 13):
        await ask(chat, -90, f"/suggest Question {n}?", ANN)
    for voter in (BOB, CAT):
        await ask(chat, -89, "/vote 3", voter)
    await ask(chat, -89, "/vote 12", BOB)
    lines = (await ask(chat, -88, "/suggestions", DAN)).splitlines()
    assert lines[1:4] == [
        "#3 (2 votes) Question 3?",
        "#12 (1 vote) Question 12?",
        "#1 (0 votes) Question 1?",
    ]
    assert len(lines) == 1 + 10 + 1
    assert lines[-1] == "… and 2 more."


async def test_approving_into_a_running_chat_is_refused(chat: Chat) -> None:
    await ask(chat, -90, "/suggest Too late?", ANN)
    assert await ask(chat, 5, "/approve 1") == (
        "“Patients as partners” has already started: its agenda can no longer change."
    )
    assert await ask(chat, 6, "/suggestions", BOB) == LISTED + "#1 (0 votes) Too late?"
    await chat.at(61)
    assert not any(p.startswith("Q4:") for p in chat.posts())


async def test_a_bad_position_is_refused_and_the_default_is_last(chat: Chat) -> None:
    await ask(chat, -90, "/suggest Anything else?", ANN)
    assert await ask(chat, -80, "/approve 1 at 5") == "Choose a position from 1 to 4."
    assert await ask(chat, -80, "/approve 9 at 1") == "There is no suggestion #9."
    assert await ask(chat, -80, "/approve one") == (
        "Say which suggestion and, if you like, where: “approve 4 at 2”."
    )
    assert await ask(chat, -79, "/approve 1") == (
        "Suggestion #1 is now Q4 of “Patients as partners”."
    )
    await chat.at(61)
    assert posted_at(chat, "Q4: Anything else? #hcsmeu") == [timedelta(minutes=45)]


async def test_a_question_too_long_to_post_is_refused(chat: Chat) -> None:
    assert await ask(chat, -90, "/suggest " + "x" * 3988, ANN) == (
        "That is too long to be posted as a question: keep it within 3987 characters."
    )
    assert (await ask(chat, -89, "/suggest " + "y" * 3987, ANN)).startswith(
        "Thanks! Your suggestion #1 is in the list"
    )
