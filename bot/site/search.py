"""The community's search page: served, it asks the store's FTS5 index; exported, it is
the same form answered in the browser by the Pagefind index of the exported pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from bot.i18n import Messages
from bot.site import urls
from bot.site.context import Rendered, SiteContext
from bot.site.render import render_page
from bot.store.search import ChatChoice, SearchFilters, SearchHit, chats, search

PER_PAGE = 20
MAX_PAGE = 50  # deeper than anyone reads; keeps OFFSET (and its cost) bounded
# The exported page runs Pagefind's WebAssembly; no other page may compile any.
STATIC_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self';"
    " style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchForm:
    """What the reader asked, read leniently: a field that does not parse is left empty."""

    q: str = ""
    chat: str = ""
    question: int | None = None
    author: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> SearchForm:
        return cls(
            q=params.get("q", "").strip()[:500],
            chat=params.get("chat", "").strip()[:40],
            question=_int(params.get("question", "").lstrip("Qq"), 1, 999),
            author=params.get("author", "").strip()[:200],
            since=_day(params.get("from", "")),
            until=_day(params.get("to", "")),
            page=_int(params.get("page", ""), 1, MAX_PAGE) or 1,
        )

    def fields(self) -> dict[str, str]:
        """The non-empty fields as query parameters, for the links to other pages."""
        values = {
            "q": self.q,
            "chat": self.chat,
            "question": "" if self.question is None else str(self.question),
            "author": self.author,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}

    def link(self, page: int) -> str:
        return "?" + urlencode({**self.fields(), **({"page": str(page)} if page > 1 else {})})


def _int(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchView:
    form: SearchForm
    chats: tuple[ChatChoice, ...]
    hits: tuple[SearchHit, ...]
    more: bool
    static: bool  # the exported page: the browser searches, with Pagefind


async def search_page(ctx: SiteContext, params: Mapping[str, str]) -> Rendered:
    """The form, and when served with a query, one page of results."""
    form = SearchForm.parse({} if ctx.static else params)
    db = ctx.store.db
    hits: list[SearchHit] = []
    more = False
    if not ctx.static and form.q:
        filters = SearchFilters(
            community=ctx.community.id,
            chat=form.chat or None,
            question=form.question,
            author=form.author or None,
            since=form.since,
            until=form.until,
        )
        offset = (form.page - 1) * PER_PAGE
        hits, more = await search(db, form.q, filters, offset=offset, limit=PER_PAGE)
    view = SearchView(
        form=form,
        chats=tuple(await chats(db, ctx.community.id)),
        hits=tuple(hits),
        more=more,
        static=ctx.static,
    )
    here = urls.search(ctx.community.id)
    crumbs = ((Messages(ctx.community.locale).gettext("Search"), here),)
    body = render_page(
        "site/search.html",
        community=ctx.community,
        here=here,
        crumbs=crumbs,
        view=view,
        csp=STATIC_CSP,
    )
    return Rendered(body)
