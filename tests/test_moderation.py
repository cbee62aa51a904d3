"""Commands in the chat: who may use which, what they answer, and `end` for real."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.commands import COMMANDS, Access
from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.moderation import Command, parse_command
from bot.tracker import Admission
from tests.conftest import MOD, Chat
from tests.test_session_run import transcript

# The store contract: each test that takes ``chat`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ANN = UserRef("local", "ann", "Ann")
NAMES = frozenset({"hashchat", "hashchatbot"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/end", Command("end", "", explicit=True)),
        ("  /status  ", Command("status", "", explicit=True)),
        ("/end@hashchatbot", Command("end", "", explicit=True)),
        ("/END@HashChatBot", Command("end", "", explicit=True)),
        ("/end@otherbot", None),
        ("!agenda", Command("agenda", "", explicit=False)),
        ("!important news everyone", None),
        ("@hashchat help", Command("help", "", explicit=True)),
        ("@hashchat@bots.social status", Command("status", "", explicit=True)),
        ("@hashchat /agenda", Command("agenda", "", explicit=True)),
        ("@someone help", None),
        ("/frobnicate now", Command("frobnicate", "now", explicit=True)),
        ("A1: /status is my favourite command", None),
        ("hello /end", None),
        ("", None),
    ],
    ids=repr,
)
def test_parse_command(text: str, expected: Command | None) -> None:
    assert parse_command(text, NAMES) == expected


@pytest.mark.parametrize(
    ("text", "at_once"),
    [
        ("A1: plain answer", Admission.STORE),
        ("@bob great point, A1: me too", Admission.STORE),  # every Mastodon reply
        ("@hashchat help", None),  # a command: only admit() answers it
        ("/status", None),
    ],
)
async def test_a_message_to_someone_else_is_admitted_at_once(
    chat: Chat, text: str, at_once: Admission | None
) -> None:
    assert chat.app is not None
    message = IncomingMessage(
        ref=MessageRef(ChannelRef.parse("local:main"), "m1"),
        author=ANN,
        text=text,
        sent_at=chat.clock.now(),
    )
    assert chat.app.moderation.admit_at_once(chat.local, message) is at_once


def replies(chat: Chat) -> list[str]:
    return [m.text for m in chat.local.bot_posts("local:main") if m.reply_to]


async def test_a_participant_is_refused_end_and_the_chat_goes_on(chat: Chat) -> None:
    await chat.at(15)
    chat.local.say(ANN, "local:main", "/end")
    await chat.at(16)
    assert replies(chat) == ["Sorry, only the moderators of #hcsmeu can use “end”."]
    await chat.at(61)
    assert any(p.startswith("Q3:") for p in chat.posts())


async def test_a_moderator_ends_the_chat_now_and_it_stays_ended(chat: Chat) -> None:
    await chat.at(15)
    chat.local.say(ANN, "local:main", "A1: my answer")
    chat.local.say(MOD, "local:main", "/end")
    await chat.at(15)
    posts = chat.posts()
    assert posts[-3].startswith("Thanks all.")
    assert posts[-2].startswith("The transcript of today's #hcsmeu chat is ready")
    assert posts[-1] == "The chat is closed and its transcript published."
    assert chat.posts("local:side")[-1].startswith("The transcript")
    data = transcript(chat)
    assert [m["text"] for m in data["messages"]] == ["A1: my answer"]  # not the command
    assert [q["posted_at"] is not None for q in data["questions"]] == [True, False, False]
    assert data["session"]["duration_seconds"] == 15 * 60  # ended early, not the planned hour
    await chat.stop()
    await chat.boot()
    await chat.at(61)
    assert not any(p.startswith(("Q2:", "Q3:")) for p in chat.posts())


async def test_a_platform_admin_counts_as_a_moderator(chat: Chat) -> None:
    owner = UserRef("local", "owner", "Group owner")  # not in the configured list
    chat.local.admins.add(owner.id)
    await chat.at(12)
    chat.local.say(owner, "local:main", "/end")
    await chat.at(12)
    assert chat.posts()[-1] == "The chat is closed and its transcript published."


async def test_help_lists_what_the_caller_may_use(chat: Chat) -> None:
    chat.local.say(ANN, "local:main", "/help")
    chat.local.say(MOD, "local:main", "@hashchat help")
    await chat.at(-100)
    participant, moderator = replies(chat)
    assert participant.startswith("What you can ask me:")
    assert "• status: where the chat stands" in participant
    assert "• end:" not in participant
    assert "• end: close the chat now and publish the transcript (moderators only)" in moderator


async def test_status_and_agenda_before_and_during_the_chat(chat: Chat) -> None:
    chat.local.say(ANN, "local:main", "/status")
    await chat.at(-30)
    chat.local.say(ANN, "local:main", "!agenda")
    await chat.at(21)
    chat.local.say(ANN, "local:side", "/status")
    chat.local.say(ANN, "local:main", "/end")
    await chat.at(22)
    before, agenda, refused = replies(chat)
    assert before == (
        "The next #hcsmeu chat, “Patients as partners”, starts on"
        " Wednesday, March 4, 2026, 1:00\u202fPM (Europe/Paris)."
    )
    assert agenda.splitlines()[1:] == [
        "Q1 (1:10\u202fPM (Europe/Paris)) What does partnership mean to you?",
        "Q2 (1:20\u202fPM (Europe/Paris)) Which tool helped most?",
        "Q3 (1:30\u202fPM (Europe/Paris)) What should change first?",
    ]
    during = [m.text for m in chat.local.bot_posts("local:side") if m.reply_to]
    assert during == [
        "“Patients as partners” is live: 2 of 3 questions asked; Q3 at 1:30\u202fPM (Europe/Paris)."
    ]
    assert refused.startswith("Sorry")


async def test_an_unknown_slash_command_gets_a_hint_and_stays_out_of_the_transcript(
    chat: Chat,
) -> None:
    await chat.at(10)
    chat.local.say(ANN, "local:main", "/frobnicate")
    await chat.at(61)
    assert "I do not know “frobnicate”. Send help to see what I can do." in replies(chat)
    assert transcript(chat)["messages"] == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("who", ["moderator", "participant"])
async def test_permission_table(chat: Chat, name: str, who: str) -> None:
    """Every command, for a moderator and for a participant, during a live chat."""
    await chat.at(12)
    user = MOD if who == "moderator" else ANN
    chat.local.say(user, "local:main", f"/{name} 5m" if name == "extend" else f"/{name}")
    await chat.at(12)
    reply = replies(chat)[-1]
    refused = reply == f"Sorry, only the moderators of #hcsmeu can use “{name}”."
    assert refused == (who == "participant" and COMMANDS[name].access is Access.MODERATORS)
    assert chat.app is not None
    audited = [a.action for a in await chat.app.store.audit.recent("hcsmeu")]
    assert audited == ([name] if who == "moderator" and not _everyone(name) else [])


def _everyone(name: str) -> bool:
    return COMMANDS[name].access is Access.EVERYONE and name != "next"


def full_match_reading(text: str, bot_names: frozenset[str]) -> Command | None:
    """parse_command() as first written: both patterns matched against the whole text."""
    from bot.moderation import _MENTION, _SLASH, may_be_command

    if not may_be_command(text):
        return None
    names = {n.casefold().lstrip("@") for n in bot_names}
    if match := _SLASH.fullmatch(text):
        if match["bot"] and match["bot"].casefold() not in names:
            return None
        explicit = text.lstrip().startswith("/")
    elif (match := _MENTION.fullmatch(text)) and (
        match["bot"].casefold() in names or match["bot"].split("@")[0].casefold() in names
    ):
        explicit = True
    else:
        return None
    name = match["name"].lower()
    if name not in COMMANDS and not explicit:
        return None
    return Command(name, (match["args"] or "").strip(), explicit)


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(
            [
                "@",
                "@hashchat",
                "@HashChat",
                "@hashchat@bots.social",
                "@hashchatbot",
                "@bob",
                "@bob@x.org",
                "hashchat",
                " ",
                "\t",
                "\n",
                "/",
                "!",
                "help",
                "status",
                "end",
                "frobnicate",
                ",",
                ".",
                "-",
                "@@",
                "A1:",
                "x",
                "/end",
                "@hashchat.x",
            ]
        ),
        max_size=8,
    ).map("".join)
)
@example("@hashchat, help")
@example("  @hashchat   status now")
@example("@hashchat@bots.social end")
def test_a_command_is_read_as_the_whole_text_reads(text: str) -> None:
    """The @name is looked at first (a reply to someone else is no command)."""
    assert parse_command(text, NAMES) == full_match_reading(text, NAMES)
