"""Chat commands for participants' question suggestions, their votes and moderators' curation."""

from __future__ import annotations

import re

from bot.commands import Access, Context, Outcome, command, too_long_for_a_question
from bot.i18n import N_
from bot.store.suggestions import Suggestion, SuggestionStore

LISTED = 10  # a chat reply, not a report: the rest is counted, not shown

_ID = re.compile(r"#?(?P<id>\d+)")
_APPROVE = re.compile(r"#?(?P<id>\d+)(?:\s+at\s+[Qq]?(?P<position>\d+))?", re.I)
_MERGE = re.compile(r"#?(?P<id>\d+)\s+into\s+#?(?P<into>\d+)", re.I)


def _store(ctx: Context) -> SuggestionStore:
    return SuggestionStore(ctx.services.store.db)


async def _find(ctx: Context, suggestion_id: int) -> Suggestion | None:
    """Numbers are global, so another community's suggestion is as unknown as a missing one."""
    found = await _store(ctx).get(suggestion_id)
    return found if found is not None and found.community == ctx.community.id else None


def _unknown(ctx: Context, suggestion_id: int) -> Outcome:
    return Outcome(ctx.m.gettext("There is no suggestion #{id}.", id=suggestion_id))


def _closed(ctx: Context, suggestion_id: int) -> Outcome:
    return Outcome(ctx.m.gettext("Suggestion #{id} is no longer open.", id=suggestion_id))


@command("suggest", Access.EVERYONE, N_("suggest a question for a coming chat"))
async def _suggest(ctx: Context) -> Outcome:
    text = " ".join(ctx.args.split())
    if not text:
        return Outcome(
            ctx.m.gettext(
                "Write your question after the command, for example"
                " “suggest How do you involve patients?”."
            )
        )
    if (refusal := too_long_for_a_question(ctx, text)) is not None:
        return refusal
    added = await _store(ctx).add(
        ctx.community.id,
        ctx.author.key,
        ctx.author.name or ctx.author.id,
        text,
        ctx.services.clock.now(),
    )
    return Outcome(
        ctx.m.gettext(
            "Thanks! Your suggestion #{id} is in the list;"
            " others can vote for it with “vote {id}”.",
            id=added.id,
        )
    )


@command("suggestions", Access.EVERYONE, N_("the suggested questions, most votes first"))
async def _suggestions(ctx: Context) -> Outcome:
    found = await _store(ctx).open_by_votes(ctx.community.id)
    if not found:
        return Outcome(
            ctx.m.gettext("No suggestions yet: send “suggest” and your question to add one.")
        )
    lines = [ctx.m.gettext("Suggested questions, most votes first:")]
    for s in found[:LISTED]:
        label = ctx.m.ngettext("#{id} ({n} vote)", "#{id} ({n} votes)", s.votes, id=s.id)
        lines.append(f"{label} {s.text}")  # a participant's words stay out of format strings
    if len(found) > LISTED:
        rest = len(found) - LISTED
        lines.append(ctx.m.ngettext("… and {n} more.", "… and {n} more.", rest))
    return Outcome("\n".join(lines))


@command("vote", Access.EVERYONE, N_("vote for a suggested question, e.g. vote 4"))
async def _vote(ctx: Context) -> Outcome:
    """One vote per person, by command; reactions, where a platform has them, are for its
    adapter to turn into this same vote."""
    match = _ID.fullmatch(ctx.args)
    if match is None:
        return Outcome(ctx.m.gettext("Say which suggestion, for example “vote 4”."))
    asked = int(match["id"])
    if await _find(ctx, asked) is None:
        return _unknown(ctx, asked)
    store = _store(ctx)
    target = await store.resolve(asked)  # a duplicate's vote goes to the one kept
    if target is None or target.state != "open":
        return _closed(ctx, asked)
    if not await store.vote(target.id, ctx.author.key, ctx.services.clock.now()):
        return Outcome(ctx.m.gettext("You have already voted for #{id}.", id=target.id))
    return Outcome(ctx.m.gettext("Thanks, your vote for #{id} is counted.", id=target.id))


@command(
    "approve",
    Access.MODERATORS,
    N_("put a suggestion into the next chat's agenda, e.g. approve 4 at 2"),
)
async def _approve(ctx: Context) -> Outcome:
    match = _APPROVE.fullmatch(ctx.args)
    if match is None:
        return Outcome(
            ctx.m.gettext("Say which suggestion and, if you like, where: “approve 4 at 2”.")
        )
    sid = int(match["id"])
    position = None if match["position"] is None else int(match["position"])
    session = ctx.session
    if session is None:
        return Outcome(
            ctx.m.gettext("No chat is planned for {hashtag}.", hashtag=ctx.community.hashtag)
        )
    found = await _find(ctx, sid)
    if found is None:
        return _unknown(ctx, sid)
    if found.state != "open":
        return _closed(ctx, sid)
    runner = ctx.services.steering.runner
    # The runner's lock: the chat cannot start while its timeline is being renumbered.
    async with runner.lock(session.id):
        row = await ctx.services.store.session(session.id)
        if row.state != "planned":
            return Outcome(
                ctx.m.gettext(
                    "“{title}” has already started: its agenda can no longer change.",
                    title=row.plan.title,
                )
            )
        last = len(row.plan.questions) + 1
        if position is not None and not 1 <= position <= last:
            return Outcome(ctx.m.gettext("Choose a position from 1 to {n}.", n=last))
        try:
            number = await _store(ctx).approve_into(
                session.id, sid, position, ctx.services.clock.now()
            )
        except ValueError:  # another moderator decided it a moment ago
            return _closed(ctx, sid)
        await runner.wake_locked(session.id)
    return Outcome(
        ctx.m.gettext(
            "Suggestion #{id} is now Q{n} of “{title}”.", id=sid, n=number, title=row.plan.title
        ),
        target=f"suggestion {sid}",
    )


@command("reject", Access.MODERATORS, N_("turn a suggestion down, e.g. reject 4"))
async def _reject(ctx: Context) -> Outcome:
    match = _ID.fullmatch(ctx.args)
    if match is None:
        return Outcome(ctx.m.gettext("Say which suggestion, for example “reject 4”."))
    sid = int(match["id"])
    found = await _find(ctx, sid)
    if found is None:
        return _unknown(ctx, sid)
    if found.state != "open":
        return _closed(ctx, sid)
    try:
        await _store(ctx).reject(sid, ctx.services.clock.now())
    except ValueError:  # another moderator decided it a moment ago
        return _closed(ctx, sid)
    return Outcome(ctx.m.gettext("Suggestion #{id} is rejected.", id=sid), f"suggestion {sid}")


@command(
    "merge", Access.MODERATORS, N_("fold a duplicate into another suggestion, e.g. merge 5 into 4")
)
async def _merge(ctx: Context) -> Outcome:
    match = _MERGE.fullmatch(ctx.args)
    if match is None:
        return Outcome(
            ctx.m.gettext("Say which suggestion goes into which, for example “merge 5 into 4”.")
        )
    sid, into = int(match["id"]), int(match["into"])
    if sid == into:
        return Outcome(ctx.m.gettext("A suggestion cannot be merged into itself."))
    pair = [await _find(ctx, sid), await _find(ctx, into)]
    for number, found in zip((sid, into), pair, strict=True):
        if found is None:
            return _unknown(ctx, number)
        if found.state != "open":
            return _closed(ctx, number)
    store = _store(ctx)
    try:
        await store.merge(sid, into, ctx.services.clock.now())
    except ValueError:  # another moderator decided one of them a moment ago
        return _closed(ctx, sid)
    kept = await store.get(into)
    assert kept is not None
    return Outcome(
        ctx.m.ngettext(
            "Suggestion #{id} is merged into #{into}, which now has {n} vote.",
            "Suggestion #{id} is merged into #{into}, which now has {n} votes.",
            kept.votes,
            id=sid,
            into=into,
        ),
        target=f"suggestion {sid}",
    )
