"""``hashchat demo``: a complete chat on the local platform, with simulated participants,
at accelerated time, printed live, ending with a written transcript.

It runs the production wiring: the same ``App``, runner and APScheduler alarm as
``hashchat run``, only on a clock that both the alarm and the runner read and that runs
``speed`` times faster than the wall clock. So the demo cannot pass while ``run`` is
broken: no step is posted unless the real alarm fires it.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bot.alarm import SchedulerAlarm
from bot.app import App
from bot.clock import ScaledClock, SystemClock
from bot.config import Config, parse_config
from bot.console.links import issue_link
from bot.demo_history import seed_history
from bot.domain import ChannelRef, MessageRef, UserRef
from bot.platforms.local.platform import LocalPlatform
from bot.platforms.local.view import TerminalView
from bot.site.build import build_site
from bot.site.pagefind import index_site
from bot.store.console import ConsoleStore, Visitor

ZONE = "Europe/Paris"
# The demo opens shortly before the chat, so its reminder is seen going out too.
LEAD = timedelta(minutes=2)
REMINDER_BEFORE = "1m"
NEXT_CHAT = timedelta(weeks=4)  # planned, not run: the site lists it as the next chat
Condition = Callable[[], Awaitable[bool]]
# Real seconds to wait, beyond the chat's own scaled time, before calling it stuck.
PATIENCE = 30.0


@dataclass(frozen=True, slots=True)
class DemoCommunity:
    id: str
    hashtag: str
    letter: str  # the answer letter people of this language use most

    @property
    def main(self) -> str:
        return f"local:{self.id}"

    @property
    def side(self) -> str:
        return f"local:{self.id}-mirror"


COMMUNITIES = {
    "en": DemoCommunity("hcsmeu", "#hcsmeu", "A"),
    "fr": DemoCommunity("hcsmeufr", "#hcsmeufr", "R"),
}


# The community's own words on its site's home page (config text, not a catalog's).
DESCRIPTIONS = {
    "en": "Patients, carers and health professionals from all over Europe talk about"
    " social media and digital health, one hour a month.",
    "fr": "Patients, aidants et soignants de toute l'Europe parlent de réseaux sociaux et"
    " de santé numérique, une heure par mois.",
}


@dataclass(frozen=True, slots=True)
class Step:
    at: timedelta  # from the start of the chat
    act: Callable[[], object]
    # What the person waits to see before acting: question n, or (0) the chat opened.
    after: int | None = None


def posted_question(local: LocalPlatform, channel: str, n: int) -> MessageRef | None:
    for post in local.bot_posts(channel):
        if post.text.startswith(f"Q{n}:"):
            return post.ref
    return None


def demo_config(out: Path, locale: str, start: datetime, port: int = 8080) -> Config:
    agenda = resources.files("bot") / "demo_data" / f"{locale}.toml"
    next_agenda = resources.files("bot") / "demo_data" / f"{locale}-next.toml"
    next_start = (start + NEXT_CHAT).astimezone(ZoneInfo(ZONE)).replace(tzinfo=None).isoformat()
    community = COMMUNITIES[locale]
    local_start = start.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None).isoformat()
    return parse_config(
        f"""
[bot]
database = "{out / "demo.db"}"
public_url = "http://127.0.0.1:{port}"
listen_port = {port}
# Accelerated time magnifies the scheduler's jitter: a millisecond is seconds here.
grace = "10m"
transcripts_dir = "{out / "transcripts"}"

[[communities]]
id = "{community.id}"
name = "Healthcare social media Europe"
description = "{DESCRIPTIONS[locale]}"
hashtag = "{community.hashtag}"
locale = "{locale}"
timezone = "{ZONE}"
moderators = ["local:moderator"]
channels = ["{community.main}", "{community.side}"]

[[communities.sessions]]
id = "demo"
at = {local_start}
duration = "60m"
reminders = ["{REMINDER_BEFORE}"]
agenda = "{agenda}"

[[communities.sessions]]
id = "next"
at = {next_start}
duration = "60m"
agenda = "{next_agenda}"
""",
        source="<demo>",
    )


def _script(local: LocalPlatform, locale: str, seed: int) -> list[Step]:
    """What the simulated participants do, relative to the start; questions are found on
    the platform when each action runs, as a person would see them."""
    data = tomllib.loads((resources.files("bot") / "demo_data" / "people.toml").read_text("utf-8"))
    lines = data[locale]
    rng = random.Random(seed)
    people = [UserRef("local", f"u{i}", name) for i, name in enumerate(data["names"], 1)]
    community = COMMUNITIES[locale]
    main, side, tag = community.main, community.side, community.letter
    steps: list[Step] = []

    def question(channel: str, n: int) -> MessageRef:
        ref = posted_question(local, channel, n)
        if ref is None:
            raise LookupError(f"Q{n} not posted in {channel}")
        return ref

    def answer(person: UserRef, channel: str, text: str, form: str, n: int) -> None:
        if form == "reply":
            local.say(person, channel, text, reply_to=question(channel, n))
        elif form == "thread":
            ref = question(channel, n)
            local.say(person, ChannelRef("local", ref.channel.id, thread=ref.id), text)
        elif form == "trailing":
            local.say(person, channel, f"{text} {community.hashtag} {tag}{n}")
        elif form == "bold":
            local.say(person, channel, f"**{tag}{n}** {text}")
        else:
            local.say(person, channel, f"A{n}: {text}")  # "A" is understood everywhere

    def at(minutes: float, act: Callable[[], object], after: int | None = None) -> None:
        steps.append(Step(timedelta(minutes=minutes), act, after))

    for i, person in enumerate(rng.sample(people, 8)):
        hello = lines["hello"][i % len(lines["hello"])]
        at(0.5 + i * 0.4, partial(local.say, person, main if i % 3 else side, hello), after=0)
    for n in range(1, 7):
        posted = 5 + (n - 1) * 8
        for k in range(rng.randint(9, 13)):
            form = rng.choice(["tag", "tag", "tag", "reply", "thread", "trailing", "bold"])
            channel = side if k % 4 == 3 else main
            act = partial(
                answer, rng.choice(people), channel, rng.choice(lines["answers"]), form, n
            )
            at(posted + 0.4 + k * 0.5, act, after=n)
        at(posted + 3.1, partial(local.say, rng.choice(people), main, rng.choice(lines["chatter"])))
    # One answer corrected after posting, and one message taken back.
    typo: list[MessageRef] = []
    at(13.7, lambda: typo.append(local.say(people[4], main, f"A2: {lines['typo']}")), after=2)
    at(14.6, lambda: local.edit(typo[0], f"A2: {lines['typo_fixed']}"))
    oops: list[MessageRef] = []
    at(22.0, lambda: oops.append(local.say(people[7], main, lines["oops"])))
    at(22.4, lambda: local.remove(oops[0]))
    return sorted(steps, key=lambda s: s.at)


@dataclass(frozen=True, slots=True)
class DemoResult:
    transcript: Path  # the live chat's transcript folder
    site: str  # the community site's address, served while the demo runs
    export: Path  # the same site as static files (hashchat site build)


async def run_demo(
    out: Path,
    *,
    locale: str = "en",
    speed: float = 120.0,
    echo: Callable[[str], None] = click.echo,
    seed: int = 7,
    serve: bool = False,
    announce: Callable[[DemoResult], None] = lambda _: None,
) -> DemoResult:
    """Run the whole chat through the real alarm, after earlier chats were seeded, and
    export the site; with ``serve``, keep serving it once ``announce`` was called."""
    shutil.rmtree(out, ignore_errors=True)
    tomorrow = SystemClock().now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(13, 0), ZoneInfo(ZONE))
    clock = ScaledClock(start - LEAD, speed)
    alarm = SchedulerAlarm(clock)
    config = demo_config(out, locale, start, free_port())
    await seed_history(config, start, seed=seed)
    local = LocalPlatform(
        clock, admins=[UserRef("local", "moderator")], view=TerminalView(ZONE, echo)
    )
    app = App(config, platforms={"local": local}, clock=clock, alarm=alarm)
    alarm.start()
    try:
        await app.start()
        await _console_link(app, local, COMMUNITIES[locale].main, echo)
        script = _script(local, locale, seed)
        for step in script:
            await asyncio.sleep(clock.wall_delay(start + step.at))
            if step.after is not None:
                await _until(_seen(app, local, COMMUNITIES[locale], step.after))
            step.act()
            await app.settle()
        end = start + timedelta(minutes=61)
        await _until(_closed(app), clock.wall_delay(end) + PATIENCE)
        community = COMMUNITIES[locale].id
        result = DemoResult(
            transcript=app.transcripts_root / community / start.date().isoformat(),
            site=f"{config.bot.public_url}/{community}/",
            export=out / "site",
        )
        await build_site(config, result.export, clock.now())
        echo(index_site(result.export))  # the export's search, as `hashchat site build` does
    finally:
        alarm.shutdown()
        await app.stop()
    if serve:
        await _serve(config, result, COMMUNITIES[locale].id, announce, echo)
    else:
        announce(result)
    return result


async def _serve(
    config: Config,
    result: DemoResult,
    community: str,
    announce: Callable[[DemoResult], None],
    echo: Callable[[str], None],
) -> None:
    """Serve the site and the console on the real clock until Ctrl-C, as ``hashchat
    run`` would between chats: at the demo's speed a login link's ten minutes, and a
    session's twelve hours, would be over in seconds."""
    clock = SystemClock()
    alarm = SchedulerAlarm(clock)
    local = LocalPlatform(clock, admins=[UserRef("local", "moderator")])
    app = App(config, platforms={"local": local}, clock=clock, alarm=alarm)
    alarm.start()
    try:
        await app.start()
        assert config.bot.public_url is not None
        moderator = Visitor("local:moderator", "Moderator", community)
        link = await issue_link(
            ConsoleStore(app.store.db), config.bot.public_url, moderator, clock.now()
        )
        click.secho("The moderators' console (this link works once, within 10 minutes):", bold=True)
        echo(f"  {link}")
        announce(result)  # the site's address comes last
        await asyncio.Event().wait()  # until Ctrl-C
    finally:
        alarm.shutdown()
        await app.stop()


def free_port() -> int:
    """A port for the demo's site, chosen before the config that names it is written."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _console_link(
    app: App, local: LocalPlatform, channel: str, echo: Callable[[str], None]
) -> None:
    """The demo's moderator asks for a console link, as a moderator would, and gets it
    privately (in demo time: at 120x its ten minutes are five seconds)."""
    moderator = UserRef("local", "moderator", "Moderator")
    local.say(moderator, channel, "/login")
    await app.settle()
    for message in local.bot_posts(f"local:@{moderator.id}"):
        echo(f"Moderators' console: {message.text.rsplit(' ', 1)[-1]}")


def _seen(app: App, local: LocalPlatform, community: DemoCommunity, n: int) -> Condition:
    async def check() -> bool:
        if n == 0:
            return app.live.for_channel(ChannelRef.parse(community.main)) is not None
        return all(posted_question(local, c, n) for c in (community.main, community.side))

    return check


def _closed(app: App) -> Condition:
    async def check() -> bool:
        return all(row.plan.series != "demo" for row in await app.store.open_sessions())

    return check


async def _until(condition: Condition, seconds: float | None = None) -> None:
    """Poll every 10 ms until the bot has done what the script waits for; a bot that
    does not (its alarm never fired) fails the demo instead of hanging it."""
    deadline = asyncio.get_running_loop().time() + (PATIENCE if seconds is None else seconds)
    while True:
        if await condition():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the demo chat did not go on by itself: is the alarm firing?")
        await asyncio.sleep(0.01)
