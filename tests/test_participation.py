"""Participants sign up for reminders and are mentioned where they signed up; hosts take turns."""

from __future__ import annotations

from datetime import timedelta

import pytest

import bot.participation  # noqa: F401  (registers rsvp, unrsvp and host)
from bot.app import App
from bot.domain import UserRef
from bot.i18n import Messages
from bot.participation import deliver_reminders, host_for, remind_host
from bot.store import SessionRow
from bot.store.participation import HostRota, SignupStore
from tests.conftest import MOD, START, Chat

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
BOB = UserRef("local", "bob", "Bob")
CAT = UserRef("local", "cat", "Cat")
EN = Messages("en")
HOUR = timedelta(hours=1)
SOON = "the #hcsmeu chat “Patients as partners” starts in 1 hour."


def app(chat: Chat) -> App:
    assert chat.app is not None
    return chat.app


async def session(chat: Chat) -> SessionRow:
    (row,) = await app(chat).store.open_sessions()
    return row


async def say(chat: Chat, minute: float, who: UserRef, text: str, where: str = "local:main") -> str:
    """Send ``text`` at ``minute`` and return the bot's answer to it."""
    await chat.at(minute)
    sent = chat.local.say(who, where, text)
    await chat.at(minute)
    (answer,) = [m.text for m in chat.local.bot_posts(where) if m.reply_to == sent.id]
    return answer


async def remind(chat: Chat, before: timedelta = HOUR) -> int:
    """What the runner will do right after posting the reminder ``before`` the start."""
    row = await session(chat)
    return await deliver_reminders(
        app(chat).store, app(chat).platforms, row.plan, row.id, before, EN
    )


def mentions(chat: Chat, channel: str = "local:main") -> list[str]:
    return [p for p in chat.posts(channel) if p.startswith("@")]


async def test_a_signed_up_participant_is_mentioned_where_they_signed_up(chat: Chat) -> None:
    assert await say(chat, -100, ANN, "/rsvp", "local:side") == (
        "Signed up: I will remind you here before each #hcsmeu chat of this series,"
        " starting with “Patients as partners”. Send unrsvp to stop."
    )
    await chat.at(-60)
    assert await remind(chat) == 1
    assert chat.posts("local:side")[-1] == f"@Ann: {SOON}"
    assert chat.posts("local:side")[-2].startswith("Reminder:")  # the runner's own post
    assert mentions(chat, "local:main") == []


async def test_unrsvp_stops_the_reminders(chat: Chat) -> None:
    await say(chat, -100, ANN, "/rsvp")
    assert await say(chat, -90, ANN, "/unrsvp") == (
        "Done: no more reminders for this #hcsmeu series."
    )
    assert await say(chat, -89, ANN, "/unrsvp") == (
        "You are not signed up for the reminders of this #hcsmeu series."
    )
    await chat.at(-60)
    assert await remind(chat) == 0
    assert mentions(chat) == []


async def test_rsvp_twice_signs_up_once(chat: Chat) -> None:
    await say(chat, -100, ANN, "/rsvp")
    assert await say(chat, -99, ANN, "/rsvp") == (
        "You are already signed up: I will remind you here before each #hcsmeu chat of this series."
    )
    await chat.at(-10)  # the running bot delivers each reminder: once per person
    assert mentions(chat) == [
        "@Ann: the #hcsmeu chat “Patients as partners” starts in 1 hour.",
        "@Ann: the #hcsmeu chat “Patients as partners” starts in 10 minutes.",
    ]


async def test_people_in_one_channel_share_one_message(chat: Chat) -> None:
    await say(chat, -100, ANN, "/rsvp")
    await say(chat, -100, BOB, "/rsvp")
    await say(chat, -100, CAT, "/rsvp", "local:side")
    await chat.at(-60)
    assert await remind(chat) == 3
    assert mentions(chat) == [f"@Ann @Bob: {SOON}"]
    assert mentions(chat, "local:side") == [f"@Cat: {SOON}"]


async def test_too_many_mentions_for_one_message_are_split(chat: Chat) -> None:
    signups = SignupStore(app(chat).store.db)
    names = [f"person{i:02}" + "x" * 90 for i in range(60)]  # about 6,000 characters
    for name in names:
        await signups.add(
            "hcsmeu", "march", user=f"local:{name}", user_name=name, channel="local:main",
            now=chat.clock.now(),
        )  # fmt: skip
    assert await remind(chat) == 60
    posts = mentions(chat)
    assert len(posts) == 2
    assert all(len(p) <= 4000 and p.endswith(SOON) for p in posts)
    assert " ".join(p.removesuffix(f": {SOON}") for p in posts) == " ".join(f"@{n}" for n in names)


async def test_a_refused_channel_costs_only_its_own_people(chat: Chat) -> None:
    await say(chat, -100, ANN, "/rsvp")
    await say(chat, -100, CAT, "/rsvp", "local:side")
    chat.local.refuse = lambda channel, text: channel.id == "side"
    assert await remind(chat) == 1
    assert mentions(chat) == [f"@Ann: {SOON}"]
    assert mentions(chat, "local:side") == []


def test_hosts_take_turns() -> None:
    hosts = ["local:ann", "local:bob", "local:cat"]
    assert [host_for(hosts, i) for i in range(5)] == [
        "local:ann", "local:bob", "local:cat", "local:ann", "local:bob",
    ]  # fmt: skip
    assert host_for([], 3) is None


async def test_host_tells_who_hosts_and_only_the_host_or_a_moderator_hands_over(
    chat: Chat,
) -> None:
    rota = HostRota(app(chat).store.db)
    row = await session(chat)
    assert await say(chat, -100, BOB, "/host") == "“Patients as partners” has no host yet."
    await rota.assign(row.id, "local:ann")
    assert await say(chat, -99, BOB, "/host") == "The host of “Patients as partners” is @ann."
    assert await say(chat, -98, BOB, "/host @bob") == (
        "Sorry, only the host of “Patients as partners” or a moderator of #hcsmeu can hand over."
    )
    assert await rota.host(row.id) == "local:ann"
    assert await say(chat, -97, ANN, "/host @bob") == "@bob now hosts “Patients as partners”."
    assert await rota.host(row.id) == "local:bob"
    assert await say(chat, -96, MOD, "/host local:cat") == "@cat now hosts “Patients as partners”."
    assert await say(chat, -95, MOD, "/host @ann and @bob") == (
        "Name the new host as @name or platform:id, for example “host @ann”."
    )
    assert await rota.host(row.id) == "local:cat"
    actions = await app(chat).store.audit.recent("hcsmeu")
    assert [(a.action, a.actor, a.target) for a in actions] == [
        ("host", "local:mod", "local:cat"),
        ("host", "local:ann", "local:bob"),
    ]
    assert actions[1].at == START - timedelta(minutes=97)


async def test_the_host_is_reminded_where_they_can_be_reached(chat: Chat) -> None:
    store, platforms = app(chat).store, app(chat).platforms
    row = await session(chat)
    assert not await remind_host(store, platforms, row.plan, row.id, EN)
    await HostRota(store.db).assign(row.id, "local:ann")
    assert await remind_host(store, platforms, row.plan, row.id, EN)
    expected = (
        ": you host the #hcsmeu chat “Patients as partners” on Wednesday, March 4, 2026,"
        " 1:00\u202fPM (Europe/Paris). To hand over, send “host @name”."
    )
    assert mentions(chat) == [f"@ann{expected}"]  # not signed up: the first channel
    await say(chat, -100, ANN, "/rsvp", "local:side")
    assert await remind_host(store, platforms, row.plan, row.id, EN)
    assert mentions(chat, "local:side") == [f"@Ann{expected}"]


async def test_planning_again_keeps_a_handover(chat: Chat) -> None:
    rota = HostRota(app(chat).store.db)
    row = await session(chat)
    assert await rota.occurrence_index("hcsmeu", "march", row.plan.starts_at) == 0
    assert await rota.occurrence_index("hcsmeu", "march", row.plan.starts_at + HOUR) == 1
    assert await rota.assign_if_unset(row.id, "local:ann")
    await rota.assign(row.id, "local:bob")
    assert not await rota.assign_if_unset(row.id, "local:ann")
    assert await rota.host(row.id) == "local:bob"


def test_the_commands_are_registered() -> None:
    from bot.commands import COMMANDS

    assert {"rsvp", "unrsvp", "host"} <= COMMANDS.keys()
