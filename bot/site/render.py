"""Renders the site's templates: one Jinja2 environment per locale, autoescaped, with the
community's Babel formatting and the link helper every page uses."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.config import CommunityConfig
from bot.i18n import translations
from bot.site import urls
from bot.transcript.render import Formatter, lang_tag


class SiteFormatter(Formatter):
    """The transcript's formatting, plus the day alone for lists of chats."""

    def day(self, dt: datetime) -> str:
        return format_date(dt.astimezone(self.zone), "medium", locale=self.locale)


@cache
def environment(locale: str) -> Environment:
    """One environment per locale, so concurrent renders never swap each other's catalog."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(("html", "htm"), default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["urls"] = urls
    return env


def utc_iso(dt: datetime) -> str:
    """A ``<time datetime>`` value: UTC, to the second, with a Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_page(
    template: str,
    *,
    community: CommunityConfig,
    here: str,
    crumbs: tuple[tuple[str, str], ...] = (),
    **context: Any,
) -> str:
    """``here`` is the page's own site-absolute path; ``crumbs`` the breadcrumb after the
    community, as (label, path) pairs, the last one being this page."""
    fmt = SiteFormatter(community.locale, community.timezone)

    def href(target: str) -> str:
        return urls.href(here, target)

    return (
        environment(community.locale)
        .get_template(template)
        .render(
            community=community,
            here=here,
            crumbs=crumbs,
            fmt=fmt,
            lang=lang_tag(community.locale),
            href=href,
            utc_iso=utc_iso,
            **context,
        )
    )
