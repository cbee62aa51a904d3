"""A chat's close and a planner pass at the same moment: both finish.

The planner takes its lock and then each chat's (planning a chat wakes it), and a close
used to hold its chat's lock while it waited for the planner: the hourly pass, a reload
or another chat's close meeting a close froze both, and every later chat waited behind
them. Seen in bench/scale.py, with a thousand chats closing through hourly passes.
"""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.timeline import PlannedStep, SessionPlan
from tests.conftest import Chat


async def test_a_planner_pass_meeting_a_close_lets_both_finish(chat: Chat) -> None:
    """The pass lists the chat a moment before its end and reaches it once it closes."""
    app = chat.app
    assert isinstance(app, App)
    await chat.at(59)
    add, publish, wake = app.runner.add, app.runner.publish, app.runner.wake
    listed, go_on = asyncio.Event(), asyncio.Event()
    publishing, release, planner_waits = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_add(plan: SessionPlan, steps: list[PlannedStep]) -> int:
        listed.set()
        await go_on.wait()  # the pass is slow to come to this chat: the end comes first
        return await add(plan, steps)

    async def held_publish(session_id: int) -> str:
        publishing.set()
        await release.wait()  # the close holds its chat while the pass comes to it
        return await publish(session_id)

    async def watched_wake(session_id: int) -> None:
        planner_waits.set()
        await wake(session_id)

    app.runner.add = slow_add  # type: ignore[method-assign]
    app.runner.publish = held_publish
    app.runner.wake = watched_wake  # type: ignore[method-assign]
    chat.alarm.cancel("planner")  # this pass stands for the hourly one
    planning = asyncio.create_task(app.plan_upcoming())
    async with asyncio.timeout(10):
        await listed.wait()
    closing = asyncio.create_task(chat.at(61))
    async with asyncio.timeout(10):
        await publishing.wait()
    go_on.set()
    async with asyncio.timeout(10):
        await planner_waits.wait()
    release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(closing, planning)
    assert "transcript" in chat.posts()[-1].lower()
    assert (await app.store.open_sessions()) == []
