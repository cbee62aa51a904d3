"""The site's URL map, shared by every page, the mount and the static build.

Every path is site-absolute (``/hcsmeu/stats/``); pages link with :func:`href`, which
makes the link relative to the page it is on, so a static export works under any folder
of any static host and when opened from the disk.
"""

from __future__ import annotations

import posixpath

ASSETS = "/_site/"
CSS = "/_site/site.css"
JS = "/_site/site.js"
PER_PAGE = 20  # past chats per page of the home and its older pages
LINKS_PER_PAGE = 50  # links per page of the links page


def home(community: str) -> str:
    return f"/{community}/"


def past(community: str, page: int) -> str:
    """Page 1 is the home page itself; older chats are on ``past/2/``, ``past/3/``..."""
    return home(community) if page <= 1 else f"/{community}/past/{page}/"


def chat(slug: str) -> str:
    """A published transcript: ``slug`` is ``community/yyyy-mm-dd`` (bot/transcript/)."""
    return f"/{slug}/"


def search(community: str) -> str:
    return f"/{community}/search/"


def stats(community: str) -> str:
    return f"/{community}/stats/"


def links(community: str, page: int = 1) -> str:
    """Page 1 lists the most shared links; the next ones are ``links/2/``, ``links/3/``..."""
    return f"/{community}/links/" if page <= 1 else f"/{community}/links/{page}/"


def calendar(community: str) -> str:
    return f"/{community}/calendar.ics"


def event(community: str, uid: str) -> str:
    return f"/{community}/calendar/{uid}.ics"


def atom(community: str) -> str:
    return f"/{community}/feed.atom"


def chats_json(community: str) -> str:
    return f"/{community}/chats.json"


def chat_uid(community: str, series: str, slug: str) -> str:
    """The iCalendar UID of a chat, also the name of its ``.ics``: the series and the
    day it is planned for, so it stays the same across restarts and re-plans."""
    day = slug.rsplit("/", 1)[-1][:10]  # without the -2 of a second chat that day
    return f"{series}-{day}@{community}.hashchat"


def href(here: str, target: str) -> str:
    """``target`` as a link relative to the page at ``here`` (both site-absolute)."""
    base = here if here.endswith("/") else posixpath.dirname(here) + "/"
    rel = posixpath.relpath(target, base)
    if target.endswith("/") and rel != ".":
        rel += "/"
    return "./" if rel == "." else rel
