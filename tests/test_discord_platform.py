"""The Discord adapter's own duties: who moderates, the Events tab, catch-up after a
restart or a gateway gap, the message content alert, slash commands, safe posting."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest

from bot.domain import ChannelRef
from bot.platforms.base import DeliveryUncertain, PlatformError, ScheduledChat
from tests.conftest import START, Chat
from tests.fakes.discord_harness import (
    Server,
    chat,
    discord_of,
    server,
    stored,
    transcript,
)
from tests.fakes.discord_world import MESSAGE_CONTENT_INTENT

__all__ = ["chat", "server"]  # fixtures


def replies_to(server: Server, channel: int, message_id: int) -> list[str]:
    return [
        m["content"]
        for m in server.world.in_channel(channel)
        if m.get("message_reference", {}).get("message_id") == str(message_id)
    ]


async def command(server: Server, chat: Chat, person_name: str, text: str) -> str:
    """What the bot answers ``text`` said in the plain channel by that person."""
    person = getattr(server, person_name)
    said = await server.fake.say(person, server.chat, text)
    await stored(chat, said)
    (answer,) = replies_to(server, server.chat, said)
    return answer


async def test_only_moderators_steer_the_chat(server: Server, chat: Chat) -> None:
    await chat.at(10)
    refused = await command(server, chat, "bob", "!pause")
    assert refused == "Sorry, only the moderators of #hcsmeu can use “pause”."
    # Manage Messages in the channel (through a role) makes a moderator ...
    paused = await command(server, chat, "hélène", "!pause")
    assert paused.startswith("Paused: nothing is posted")
    # ... and so does a role named in [platforms.discord] moderator_roles.
    resumed = await command(server, chat, "carl", "!resume")
    assert resumed.startswith("Resumed:")
    mention = f"<@{server.world.bot.id}> end"  # addressed to the bot by mention
    refused_again = await command(server, chat, "ann", mention)
    assert refused_again == "Sorry, only the moderators of #hcsmeu can use “end”."


async def test_mute_times_the_member_out_on_discord(server: Server, chat: Chat) -> None:
    await chat.at(10)
    answer = await command(server, chat, "hélène", f"!mute <@{server.bob.id}> 10m")
    assert "muted for 10 minutes" in answer
    until = server.fake.timeouts[server.bob.id]
    assert until is not None
    assert datetime.fromisoformat(until) == chat.clock.now() + timedelta(minutes=10)
    await command(server, chat, "hélène", f"!unmute <@{server.bob.id}>")
    assert server.fake.timeouts[server.bob.id] is None


async def test_the_chat_is_listed_in_the_events_tab_and_cancelled(
    server: Server, chat: Chat
) -> None:
    # Booted two hours ahead: the coming chat is listed once in the server, though two
    # of its channels run it; the event points at the first.
    (event,) = server.world.events.values()
    assert event["name"] == "Patients as partners"
    assert event["description"] == "Co-design in digital health"
    assert datetime.fromisoformat(event["scheduled_start_time"]) == START
    assert datetime.fromisoformat(event["scheduled_end_time"]) == START + timedelta(hours=1)
    assert event["entity_type"] == 3  # external, located at the channel
    guild = server.world.guild_id
    location = f"https://discord.com/channels/{guild}/{server.chat}"
    assert event["entity_metadata"]["location"] == location
    assert chat.app is not None
    await chat.app.plan_upcoming()  # the hourly replan lists nothing twice
    assert len(server.world.events) == 1

    platform = discord_of(chat)
    refs = [ChannelRef("discord", str(c)) for c in (server.chat, server.threaded)]
    known = json.loads(await chat.app.store.cursor("discord", f"events:guild:{guild}") or "{}")
    (session,) = known
    hour = timedelta(hours=1)
    moved = ScheduledChat(session, "Patients as partners", "Moved", START + hour, START + 2 * hour)
    await platform.sync_events(refs[0], [moved])
    assert datetime.fromisoformat(event["scheduled_start_time"]) == START + hour
    assert event["description"] == "Moved"
    await platform.sync_events(refs[0], [])  # the first channel no longer runs it
    assert event["status"] == 1  # still listed for the other channel, and pointing there
    assert event["entity_metadata"]["location"].endswith(str(server.threaded))
    await platform.sync_events(refs[1], [])  # e.g. the date is skipped in the config
    assert event["status"] == 4  # cancelled (3 would be completed)
    assert len(server.world.events) == 1


async def test_messages_sent_while_the_bot_was_down_are_caught_up(
    server: Server, chat: Chat
) -> None:
    await chat.at(12)
    before = await server.fake.say(server.ann, server.chat, "A1: before the restart")
    await stored(chat, before)
    await chat.stop()
    assert server.fake.connected == 0

    chat.clock.set(START + timedelta(minutes=14))
    q1_thread = int(server.world.threads_of(server.threaded)[0]["id"])
    missed = await server.fake.say(server.bob, server.chat, "A1: said while it was down")
    in_thread = await server.fake.say(server.ann, q1_thread, "a thread answer, also missed")
    await chat.boot()
    await stored(chat, missed)
    await stored(chat, in_thread)
    await chat.at(61)

    data = transcript(chat)
    texts = sorted(m["text"] for m in data["messages"])  # type: ignore[attr-defined]
    assert texts == [
        "A1: before the restart",
        "A1: said while it was down",
        "a thread answer, also missed",
    ]
    assert all(m["questions"] == [1] for m in data["messages"])  # type: ignore[attr-defined]


async def test_a_gateway_gap_is_filled_from_the_history(server: Server, chat: Chat) -> None:
    await chat.at(10)
    lost = await server.fake.say(server.ann, server.chat, "A1: the event was lost", dispatch=False)
    await server.fake.reconnect()  # Discord asks for a reconnection; the session is gone
    await stored(chat, lost)
    assert len(server.fake.identified) == 2
    await chat.at(61)
    texts = [m["text"] for m in transcript(chat)["messages"]]  # type: ignore[attr-defined]
    assert texts == ["A1: the event was lost"]


async def test_moderators_are_told_when_the_bot_cannot_read_messages(
    server: Server, tmp_path: object
) -> None:
    server.world.app_flags = 0  # the Message Content intent is off in the developer portal
    c = server.adapter(tmp_path, (f"discord:{server.chat}",))  # type: ignore[arg-type]
    await c.boot()
    try:
        (alert,) = c.posts("local:mods")
        assert "hashchat cannot read the participants' messages" in alert
        assert "Message Content intent" in alert
        assert not server.fake.identified[-1] & MESSAGE_CONTENT_INTENT  # it still connects
        await c.at(10)
        assert server.bot_texts(server.chat)[-1].startswith("Q1:")  # and runs the chat
    finally:
        await c.stop()


async def test_slash_commands_are_answered(server: Server, chat: Chat) -> None:
    names = {c["name"] for c in server.world.commands[server.world.guild_id]}
    assert {"status", "end", "pause", "mute"} <= names
    await chat.at(10)
    asked = await server.fake.slash(server.ann, server.chat, "status")
    await stored(chat, asked)
    responses = server.world.interactions[asked]["responses"]
    assert responses[0][0] == "callback"
    assert responses[0][1]["type"] == 5  # deferred at once, within Discord's 3 seconds
    kind, body = responses[1]
    assert kind == "followup"
    assert body["content"].startswith("“Patients as partners” is live: 1 of 3 questions asked")
    refused = await server.fake.slash(server.bob, server.chat, "end", "now")
    await stored(chat, refused)
    kind, body = server.world.interactions[refused]["responses"][1]
    assert body["content"] == "Sorry, only the moderators of #hcsmeu can use “end”."


async def test_posts_are_split_escaped_and_never_ping(server: Server, chat: Chat) -> None:
    platform = discord_of(chat)
    ref = ChannelRef("discord", str(server.chat))
    text = f"*not bold* <@{server.ann.id}> @everyone " + "word " * 500
    sent = await platform.send(ref, text)
    parts = server.world.in_channel(server.chat)[-2:]
    assert sent.id == parts[0]["id"]
    assert all(len(p["content"]) <= 2000 for p in parts)
    assert parts[0]["content"].startswith("\\*not bold\\* ")
    assert all(p["allowed_mentions"]["parse"] == [] for p in parts)
    assert "".join(p["content"] for p in parts).count("word") == 500


async def test_a_retried_post_is_not_posted_twice(server: Server, chat: Chat) -> None:
    platform = discord_of(chat)
    ref = ChannelRef("discord", str(server.chat))
    first = await platform.send(ref, "Q9: once only", idempotency_key="s1:q9:discord")
    again = await platform.send(ref, "Q9: once only", idempotency_key="s1:q9:discord")
    assert first.id == again.id
    assert server.bot_texts(server.chat).count("Q9: once only") == 1


async def test_refusals_and_uncertain_deliveries(server: Server, chat: Chat) -> None:
    """Answered means not posted (the core retries); no answer means maybe posted."""
    platform = discord_of(chat)
    ref = ChannelRef("discord", str(server.chat))
    path = f"/channels/{server.chat}/messages"
    server.fake.faults.append(("POST", path, 403))
    with pytest.raises(PlatformError) as refused:
        await platform.send(ref, "refused")
    assert not isinstance(refused.value, DeliveryUncertain)
    assert not refused.value.retryable
    server.fake.faults.append(("POST", path, 503))
    with pytest.raises(PlatformError) as failed:
        await platform.send(ref, "failed", idempotency_key="s1:q1:discord")
    assert not isinstance(failed.value, DeliveryUncertain)
    assert failed.value.retryable
    assert "failed" not in server.bot_texts(server.chat)
    server.fake.faults.append(("POST", path, 429))  # a short rate limit: discord.py waits
    await platform.send(ref, "rate limited", idempotency_key="s1:q2:discord")
    assert server.bot_texts(server.chat).count("rate limited") == 1

    server.fake.faults.append(("POST", path, 0))  # posted, then the connection is cut
    with pytest.raises(DeliveryUncertain):
        await platform.send(ref, "Q3: cut off", idempotency_key="s1:q3:discord")
    await platform.send(ref, "Q3: cut off", idempotency_key="s1:q3:discord")
    assert server.bot_texts(server.chat).count("Q3: cut off") == 1  # the nonce holds


async def test_slow_mode_is_set_on_the_channel(server: Server, chat: Chat) -> None:
    platform = discord_of(chat)
    await platform.set_slow_mode(ChannelRef("discord", str(server.chat)), 30)
    assert server.world.channels[server.chat]["rate_limit_per_user"] == 30
    await platform.set_slow_mode(ChannelRef("discord", str(server.chat)), 0)
    assert server.world.channels[server.chat]["rate_limit_per_user"] == 0


async def test_the_token_never_reaches_the_logs(
    server: Server, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = server.adapter(tmp_path, (f"discord:{server.chat}",))  # type: ignore[arg-type]
    await c.boot()
    try:
        await c.at(10)
        said = await server.fake.say(server.ann, server.chat, "A1: logged?")
        await stored(c, said)
    finally:
        await c.stop()
    assert "A1: logged?" in caplog.text  # the debug log did record the traffic
    assert server.world.token not in caplog.text
    assert server.world.token not in repr(discord_of(c))


async def test_a_moderator_deletes_a_message_by_replying(server: Server, chat: Chat) -> None:
    await chat.at(10)
    spam = await server.fake.say(server.bob, server.chat, "A1: buy cheap pills")
    await stored(chat, spam)
    order = await server.fake.say(server.hélène, server.chat, "!delete", reply_to=spam)
    await stored(chat, order)
    assert spam in server.world.deleted
    await chat.at(61)
    assert transcript(chat)["messages"] == []


async def test_history_gives_what_participants_said_since(server: Server, chat: Chat) -> None:
    await chat.at(10)
    await server.fake.say(server.ann, server.chat, "A1: early")
    chat.clock.advance(timedelta(minutes=2))
    since = chat.clock.now()
    later = await server.fake.say(server.bob, server.chat, "A1: later", dispatch=False)
    found = await discord_of(chat).history(ChannelRef("discord", str(server.chat)), since)
    assert [(m.ref.id, m.text, m.author.name) for m in found] == [(str(later), "A1: later", "Bob")]
