"""How a console page is declared and guarded: every request is checked the same way.

A page is an ``async def`` taking a ``ConsoleRequest``, registered with ``@page``. Before
it runs, the guard has found the session (else: how to log in), asked the moderators'
decision again for the community in the URL (else: 403, and nothing of that community
is shown), and, for a POST, compared the form's CSRF token with the session's (else:
403). Every response carries the strict security headers.

To add a page: a module in ``bot/console/`` with ``@page("/path")`` (and
``@page("/path", method="POST")`` for its changes, which then need the form's ``csrf``),
imported in ``mount.py``; a template extending ``console_base.html`` rendered with
``req.render``; ``req.audit(...)`` for every change; ``NAV`` for a menu entry and
``chats.CHAT_LINKS`` for a link on each coming chat.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.config import CommunityConfig
from bot.console.access import may_moderate
from bot.console.host import ConsoleHost
from bot.console.links import find_session
from bot.domain import UserRef
from bot.i18n import N_, Messages, translations
from bot.store.audit import Action
from bot.store.console import ConsoleStore

COOKIE = "hashchat_console"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A login link holds its token in the path: never pass it on as a referrer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleRequest:
    """One checked request: the moderator, the community they may act in, and helpers."""

    request: web.Request
    host: ConsoleHost
    community: CommunityConfig
    moderator: UserRef  # with the display name the platform gave at login
    csrf: str
    m: Messages
    form: Mapping[str, str] = field(default_factory=dict)

    def url(self, path: str = "/") -> str:
        return f"/console/{self.community.id}{path}"

    def render(self, template: str, *, status: int = 200, **values: Any) -> web.Response:
        return render(
            self.m.locale,
            template,
            status=status,
            community=self.community,
            moderator=self.moderator,
            csrf=self.csrf,
            base=self.url(""),
            nav=[(self.url(path), self.m.gettext(label)) for path, label in NAV],
            **values,
        )

    def redirect(self, path: str) -> web.Response:
        """After a change: 303 to a page of this community (never elsewhere)."""
        return secure(web.Response(status=303, headers={"Location": self.url(path)}))

    async def audit(
        self, action: str, *, target: str = "", reason: str = "", session_id: int | None = None
    ) -> None:
        """Written like a chat command's entry, with the moderator's identity."""
        await self.host.store.audit.record(
            Action(
                community=self.community.id,
                session_id=session_id,
                action=action,
                actor=self.moderator.key,
                actor_name=self.moderator.name or self.moderator.id,
                target=target,
                reason=reason,
                at=self.host.clock.now(),
            )
        )


R = TypeVar("R", bound=web.StreamResponse)
PageHandler = Callable[[ConsoleRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Page:
    method: str
    path: str  # under /console/{community}, such as "/" or "/chats/{session}/agenda"
    run: PageHandler


PAGES: list[Page] = []
# The console's menu: (path under the community, label marked with N_), in order.
NAV: list[tuple[str, str]] = [("/", N_("Coming chats"))]


def page(path: str, *, method: str = "GET") -> Callable[[PageHandler], PageHandler]:
    """Register a console page; a POST is a change: its form must carry ``csrf``."""

    def register(run: PageHandler) -> PageHandler:
        PAGES.append(Page(method, path, run))
        return run

    return register


@cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(("html",), default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(locale: str, template: str, *, status: int = 200, **values: Any) -> web.Response:
    values.setdefault("community", None)
    values.setdefault("moderator", None)
    values.setdefault("csrf", "")
    values.setdefault("base", "")
    values.setdefault("nav", [])
    body = _environment(locale).get_template(template).render(lang=locale, **values)
    return secure(web.Response(text=body, content_type="text/html", status=status))


def secure(response: R) -> R:
    response.headers.update(HEADERS)
    return response


def message_page(locale: str, status: int, title: str, text: str) -> web.Response:
    return render(locale, "console_message.html", status=status, title=title, text=text)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(host: Callable[[], ConsoleHost], spec: Page) -> Handler:
    """``spec`` behind the session, permission and CSRF checks."""

    async def handle(request: web.Request) -> web.StreamResponse:
        app = host()
        store = ConsoleStore(app.store.db)
        fallback = app.config.communities[0].locale
        session_id = request.cookies.get(COOKIE, "")
        row = await find_session(store, session_id, app.clock.now()) if session_id else None
        if row is None:
            m = Messages(fallback)
            return message_page(
                fallback,
                401,
                m.gettext("Please log in"),
                m.gettext(
                    "Send “login” to the bot in your community's chat: it answers with a"
                    " private link that opens the console."
                ),
            )
        user = UserRef.parse(row.visitor.user)
        moderator = UserRef(user.platform, user.id, row.visitor.name)
        wanted = request.match_info.get("community", "")
        community = next((c for c in app.config.communities if c.id == wanted), None)
        if community is None or not await may_moderate(moderator, community, app.platforms):
            # An unknown community and another's look the same: nothing is revealed.
            m = Messages(fallback)
            return message_page(
                fallback,
                403,
                m.gettext("Not yours to moderate"),
                m.gettext("Only the moderators of this community can open its console."),
            )
        m = Messages(community.locale)
        form: dict[str, str] = {}
        if request.method == "POST":
            if request.content_type == "application/json":
                sent = request.headers.get("X-CSRF-Token", "")
            else:
                posted = await request.post()
                form = {k: v for k, v in posted.items() if isinstance(v, str)}
                sent = form.get("csrf", "")
            if not hmac.compare_digest(sent.encode(), row.csrf.encode()):
                return message_page(
                    community.locale,
                    403,
                    m.gettext("This change was refused"),
                    m.gettext(
                        "It did not come from a console page of this session (a missing or"
                        " stale form token). Reload the page and try again."
                    ),
                )
        try:
            response = await spec.run(
                ConsoleRequest(
                    request=request,
                    host=app,
                    community=community,
                    moderator=moderator,
                    csrf=row.csrf,
                    m=m,
                    form=form,
                )
            )
        except web.HTTPException as exc:
            secure(exc)
            raise
        return secure(response)

    return handle
