"""The console's routes on the bot's web server: login, logout, static files, the pages."""

from __future__ import annotations

import hmac
import re
from importlib import resources

from aiohttp import web

# Importing a page module registers its pages (and its links on the coming chats).
from bot.console import (  # noqa: F401
    chats,
    editor,
    live_panel,
    moderation_page,
    schedule_page,
    signups_page,
    suggestions_page,
)
from bot.console.framework import COOKIE, PAGES, guarded, message_page, render, secure
from bot.console.host import ConsoleHost
from bot.console.links import end_session, find_session, open_session, redeem
from bot.i18n import Messages
from bot.store.audit import Action
from bot.store.console import ConsoleStore, Redeemed, Visitor

_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
_SAFE_NEXT = re.compile(r"/console/[A-Za-z0-9_\-/]*")


def safe_next(value: str | None) -> str | None:
    """Only a path of the console itself: never another host (``//evil``, ``https:``,
    a backslash some browsers read as a slash)."""
    if value and _SAFE_NEXT.fullmatch(value) and "//" not in value:
        return value
    return None


class ConsoleMount:
    """Mounted by the app before the server starts; reads the app at each request."""

    def __init__(self, host: ConsoleHost) -> None:
        self._host = host

    def _app(self) -> ConsoleHost:
        return self._host

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/console/static/{name}", self.static)
        app.router.add_get("/console/login/{token}", self.login_form)
        app.router.add_post("/console/login/{token}", self.login)
        app.router.add_post("/console/logout", self.logout)
        app.router.add_get("/console/", self.home)
        for spec in PAGES:
            path = "/console/{community}" + spec.path
            app.router.add_route(spec.method, path, guarded(self._app, spec))

    def _locale(self) -> str:
        return self._host.config.communities[0].locale

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        body = (resources.files("bot.console") / "static" / name).read_bytes()
        return secure(web.Response(body=body, content_type=_STATIC[name], charset="utf-8"))

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        """Opening the link only shows a button: link previews (Telegram, Discord fetch
        every URL posted) must not use up the one-time token."""
        return render(
            self._locale(),
            "console_login.html",
            action=request.path,
            next=safe_next(request.query.get("next")) or "",
        )

    async def login(self, request: web.Request) -> web.StreamResponse:
        host, m = self._host, Messages(self._locale())
        store = ConsoleStore(host.store.db)
        now = host.clock.now()
        status, who = await redeem(store, request.match_info["token"], now)
        if status is not Redeemed.OK or who is None:
            why = {
                Redeemed.USED: m.gettext("This link has already been used: each works once."),
                Redeemed.EXPIRED: m.gettext("This link has expired: links work for 10 minutes."),
            }.get(status, m.gettext("This link is not valid."))
            return message_page(
                m.locale,
                403,
                m.gettext("The link does not open the console"),
                f"{why} {m.gettext('Send “login” to the bot again for a new one.')}",
            )
        if old := request.cookies.get(COOKIE):
            await end_session(store, old)  # a new id at each login: never a fixated one
        opened = await open_session(store, who, now)
        await audit(host, who, "console login")
        posted = await request.post()
        wanted = posted.get("next")
        target = safe_next(wanted if isinstance(wanted, str) else None)
        response = web.Response(
            status=303, headers={"Location": target or f"/console/{who.community}/"}
        )
        response.set_cookie(
            COOKIE,
            opened.session_id,
            path="/console",
            httponly=True,
            samesite="Lax",
            secure=(host.config.bot.public_url or "").startswith("https://"),
            max_age=12 * 3600,
        )
        return secure(response)

    async def logout(self, request: web.Request) -> web.StreamResponse:
        host, m = self._host, Messages(self._locale())
        store = ConsoleStore(host.store.db)
        session_id = request.cookies.get(COOKIE, "")
        row = await find_session(store, session_id, host.clock.now()) if session_id else None
        posted = await request.post()
        sent = posted.get("csrf")
        if row is not None:
            if not (isinstance(sent, str) and hmac.compare_digest(sent, row.csrf)):
                refused, why = m.gettext("This change was refused"), m.gettext("Reload the page.")
                return message_page(m.locale, 403, refused, why)
            await end_session(store, session_id)
            await audit(host, row.visitor, "console logout")
        response = message_page(
            m.locale, 200, m.gettext("Logged out"), m.gettext("The console session has ended.")
        )
        response.del_cookie(COOKIE, path="/console")
        return response

    async def home(self, request: web.Request) -> web.StreamResponse:
        host = self._host
        session_id = request.cookies.get(COOKIE, "")
        store = ConsoleStore(host.store.db)
        row = await find_session(store, session_id, host.clock.now()) if session_id else None
        target = f"/console/{row.visitor.community}/" if row else "/console/none/"
        return secure(web.Response(status=303, headers={"Location": target}))


async def audit(host: ConsoleHost, who: Visitor, action: str) -> None:
    await host.store.audit.record(
        Action(
            community=who.community,
            action=action,
            actor=who.user,
            actor_name=who.name or who.user,
            at=host.clock.now(),
        )
    )
