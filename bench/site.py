"""Site benchmark: a community of 500 chats x 800 messages (400,000 messages).

It writes the community into a temporary SQLite store through the store's own SQL (the
writer's multi-row insert, so the search triggers run as in production), publishes every
transcript page as the bot leaves them (untimed: the build copies the current ones), then
prints search p50/p95 over a fixed set of queries, the home and numbers pages' render
times (the numbers page warm and cold), the full static build time with its Pagefind
index, and peak RSS; the last line is JSON.

    python -m bench.site [--chats 500] [--messages 800]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, parse_config
from bot.publishing import write_page
from bot.site.build import build_site
from bot.site.context import SiteContext
from bot.site.pagefind import index_site
from bot.site.pages import PAGES
from bot.store import Store
from bot.store.connection import connect
from bot.store.search import SearchFilters, search
from bot.store.search_index import catch_up
from bot.store.site import SiteStore
from bot.store.site_stats import forget_figures
from bot.store.writer import StoredMessage, insert_row, insert_sql
from bot.timeline import QuestionPlan, SessionPlan, plan_steps

PUBLISHING: list[float] = []  # ms per chat to close and publish it in the store
TARGETS = {"search_p95_ms": 50.0, "page_ms": 150.0, "build_s": 60.0}
FIRST = datetime(2016, 1, 6, 12, 0, tzinfo=UTC)
PUBLIC_URL = "http://127.0.0.1:1"
CONFIG = """
[bot]
database = "site.db"
transcripts_dir = "pages"

[[communities]]
id = "bench"
name = "Bench community"
hashtag = "#benchchat"
locale = "en"
timezone = "Europe/Paris"
channels = ["local:main"]
"""
# A vocabulary with a long tail, as chats have: a few words everyone uses, many rare ones.
COMMON = [
    "patients",
    "care",
    "data",
    "health",
    "team",
    "nurses",
    "doctors",
    "access",
    "records",
    "tools",
    "trust",
    "families",
    "decisions",
    "online",
    "shared",
    "digital",
    "change",
    "first",
    "time",
    "people",
    "hospital",
    "clinic",
    "app",
]
RARE = [f"{a}{b}" for a in ("co", "tele", "re", "pre", "inter", "auto") for b in COMMON]
ACCENTED = ["éducation", "thérapeutique", "santé", "données", "équipe", "médecin", "hôpital"]
FILLER = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "we",
    "our",
    "for",
    "with",
    "that",
    "this",
    "on",
    "at",
    "be",
    "was",
]
FIRST_NAMES = [
    "Ann",
    "Bob",
    "Cat",
    "Dan",
    "Eve",
    "Fay",
    "Gus",
    "Hal",
    "Ida",
    "Jon",
    "Kim",
    "Lea",
    "Max",
    "Nia",
    "Oto",
    "Pia",
]
SURNAMES = [
    "Martin",
    "Dubois",
    "Rossi",
    "Smith",
    "Jansen",
    "Garcia",
    "Müller",
    "Novak",
    "Silva",
    "Costa",
]
PEOPLE = [f"{a} {b}" for a in FIRST_NAMES for b in SURNAMES] * 2  # 320 people, 160 names
QUERIES = (
    ("patients", {}),
    ("education", {}),
    ("shared decisions", {}),
    ('"trust comes"', {}),
    ("telerecords", {}),
    ("nurses tools", {"question": 2}),
    ("hospital", {"author": "muller"}),
    ("data", {"since": "2020-01-01", "until": "2020-12-31"}),
    ("xyzzy", {}),
    ('NEAR "unbalanced *', {}),
)


def message_text(rng: random.Random) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(4, 18))]
    for _ in range(rng.randint(1, 4)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(COMMON))
    if rng.random() < 0.2:
        words.append(rng.choice(RARE))
    if rng.random() < 0.1:
        words.append(rng.choice(ACCENTED))
    if rng.random() < 0.02:
        words += ["trust", "comes", "first"]
    if rng.random() < 0.03:  # a link, sometimes with tracking parameters
        words.append(f"https://{rng.choice(COMMON)}.example/{rng.choice(RARE)}?utm_source=x")
    return " ".join(words)


def plan_of(i: int) -> SessionPlan:
    starts = FIRST + timedelta(weeks=i)
    return SessionPlan(
        community="bench",
        series="weekly",
        slug=f"bench/{starts.date().isoformat()}",
        title=f"Chat {i + 1}: {COMMON[i % len(COMMON)]} and {COMMON[(i * 7) % len(COMMON)]}",
        hashtag="#benchchat",
        locale="en",
        timezone="Europe/Paris",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        channels=("local:main",),
        questions=tuple(
            QuestionPlan(
                n, f"Q{n}: what about {COMMON[(i + n) % len(COMMON)]}?", timedelta(minutes=10 * n)
            )
            for n in range(1, 6)
        ),
    )


async def seed(database: Path, chats: int, per_chat: int) -> float:
    """The sessions through the Store; the messages in the writer's 500-row statements."""
    began = time.perf_counter()
    rng = random.Random(11)
    store = await Store.open(database)
    sessions: list[tuple[int, SessionPlan]] = []
    for i in range(chats):
        plan = plan_of(i)
        sid = await store.ensure_session(plan, plan_steps(plan), plan.starts_at)
        sessions.append((sid, plan))
    db = await connect(database, autocommit=True)
    pid = 0
    for sid, plan in sessions:
        rows = []
        for k in range(per_chat):
            pid += 1
            sent = plan.starts_at + timedelta(seconds=4 * k + 1)
            n = rng.randrange(7)  # 1..5: an answer; 0 or 6: general discussion
            person = rng.randrange(len(PEOPLE))
            rows.append(
                insert_row(
                    StoredMessage(
                        session_id=sid,
                        platform="local",
                        channel="main",
                        thread=None,
                        platform_id=str(pid),
                        author_key=f"local:p{person}",
                        author_name=PEOPLE[person],
                        text=message_text(rng),
                        sent_at=sent,
                        reply_to=None,
                        url=None,
                        questions=frozenset({n}) if 1 <= n <= 5 else frozenset(),
                        received_at=sent,
                    )
                )
            )
        await db.execute("BEGIN")
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            await db.execute(insert_sql(len(chunk)), [v for row in chunk for v in row])
        await db.execute("COMMIT")
        await catch_up(store.db)  # indexed for search, as the writer does once quiet
    await db.close()
    closing = time.perf_counter()
    for sid, plan in sessions:  # as the bot publishes them: the numbers follow each
        await store.set_state(sid, "closed")
        await store.set_transcript_url(sid, f"{PUBLIC_URL}/{plan.slug}/")
    PUBLISHING.append((time.perf_counter() - closing) * 1000 / chats)
    await store.close()
    return time.perf_counter() - began


async def publish(database: Path, root: Path) -> float:
    """Every chat's page in the transcripts folder, as the bot leaves it: written when the
    chat closed, again when the next one was published (here once, with both neighbours)."""
    began = time.perf_counter()
    store = await Store.open(database)
    try:
        for session_id in await SiteStore(store.db).published_ids("bench"):
            await write_page(store, root, PUBLIC_URL, session_id)
    finally:
        await store.close()
    return time.perf_counter() - began


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench_search(store: Store, rounds: int) -> tuple[float, float, dict[str, float]]:
    times: list[float] = []
    per_query: dict[str, float] = {}
    for text, extra in QUERIES:
        filters = SearchFilters(
            community="bench",
            question=extra.get("question"),  # type: ignore[arg-type]
            author=extra.get("author"),  # type: ignore[arg-type]
            since=datetime.fromisoformat(str(extra["since"])).date() if "since" in extra else None,
            until=datetime.fromisoformat(str(extra["until"])).date() if "until" in extra else None,
        )
        mine = []
        for _ in range(rounds):
            began = time.perf_counter()
            await search(store.db, text, filters, offset=0, limit=20)
            mine.append((time.perf_counter() - began) * 1000)
        per_query[text] = round(statistics.median(mine), 2)
        times += mine
    return pct(times, 0.5), pct(times, 0.95), per_query


async def bench_pages(config: Config, store: Store) -> dict[str, float]:
    """Render time of the home, numbers and search pages, where the site registers them
    (the home and numbers pages come from the other parts of the site)."""
    ctx = SiteContext(
        config=config,
        community=config.communities[0],
        store=store,
        now=FIRST + timedelta(weeks=600),
        transcripts_root=config.resolve(config.bot.transcripts_dir),
    )
    wanted = {
        "": "home_ms",
        "stats/": "stats_ms",
        "links/": "links_ms",
        "search/": "search_page_ms",
    }
    params = {"search/": {"q": "patients data"}}
    found: dict[str, float] = {}
    for page in PAGES:
        if page.pattern not in wanted:
            continue
        runs = []
        for _ in range(5):
            began = time.perf_counter()
            await page.render(ctx, params.get(page.pattern, {}))
            runs.append((time.perf_counter() - began) * 1000)
        found[wanted[page.pattern]] = round(statistics.median(runs), 1)
        if page.pattern == "stats/":  # the figures read again, as after any change
            runs = []
            for _ in range(3):
                forget_figures(store.db)
                began = time.perf_counter()
                await page.render(ctx, {})
                runs.append((time.perf_counter() - began) * 1000)
            found["stats_cold_ms"] = round(statistics.median(runs), 1)
    return found


def peak_rss_mb() -> tuple[float, float]:
    """This process's peak, and its largest child's (Pagefind)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(own / 1024, 1), round(children / 1024, 1)


async def main(chats: int, per_chat: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="hashchat-bench-site-") as tmp:
        work = Path(tmp)
        config = parse_config(CONFIG, source=str(work / "hashchat.toml"), base_dir=work)
        database = config.resolve(config.bot.database)
        seeded_s = await seed(database, chats, per_chat)
        print(f"seeded {chats} chats x {per_chat} messages in {seeded_s:.1f} s; closing and"
              f" publishing a chat in the store: {PUBLISHING[0]:.1f} ms each")  # fmt: skip
        published_s = await publish(database, config.resolve(config.bot.transcripts_dir))
        print(f"published every transcript page (one after another) in {published_s:.1f} s")
        store = await Store.open(database)
        try:
            p50, p95, per_query = await bench_search(store, rounds)
            print(f"search: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= 50 ms)")
            for text, ms in per_query.items():
                print(f"  {text!r}: median {ms} ms")
            pages = await bench_pages(config, store)
        finally:
            await store.close()
        for name, ms in pages.items():
            print(f"{name.removesuffix('_ms').replace('_', ' ')} page: {ms} ms (target <= 150 ms)")
        missing = [k for k in ("home_ms", "stats_ms") if k not in pages]
        if missing:
            # HOOK for the lead at merge: the page registers in bot/site/pages.py and is
            # timed here by its pattern; nothing to fill in once it is registered.
            print(f"not registered on this branch, not timed: {', '.join(missing)}")
        began = time.perf_counter()
        written = await build_site(config, work / "site", datetime.now(UTC))
        pages_s = time.perf_counter() - began
        line = await asyncio.to_thread(index_site, work / "site")
        build_s = time.perf_counter() - began
        print(f"static build: {len(written)} files in {pages_s:.1f} s, with the search index"
              f" {build_s:.1f} s (target <= 60 s); {line}")  # fmt: skip
    rss, pagefind_rss = peak_rss_mb()
    print(f"peak RSS: {rss} MB; Pagefind's: {pagefind_rss} MB")
    return {
        "bench": "site",
        "chats": chats,
        "messages": chats * per_chat,
        "seed_s": round(seeded_s, 1),
        "publish_all_s": round(published_s, 1),
        "store_publish_ms": round(PUBLISHING[0], 1),
        "search_p50_ms": round(p50, 2),
        "search_p95_ms": round(p95, 2),
        **pages,
        "build_pages_s": round(pages_s, 1),
        "build_s": round(build_s, 1),
        "peak_rss_mb": rss,
        "pagefind_rss_mb": pagefind_rss,
        "targets": TARGETS,
        "ok": p95 <= TARGETS["search_p95_ms"]
        and build_s <= TARGETS["build_s"]
        and all(v <= TARGETS["page_ms"] for k, v in pages.items() if k != "search_page_ms"),
    }


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s")
    logging.getLogger("bot.site.build").setLevel(logging.INFO)  # transcripts copied/rendered
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--messages", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    result = asyncio.run(main(args.chats, args.messages, args.rounds))
    print(json.dumps(result))
    sys.exit(0)
