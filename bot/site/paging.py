"""Numbered pages of a list (the home's past chats, the links): page 1 is the list's own
address, the next ones ``…/2/``, ``…/3/`` (bot/site/urls.py), each with one address."""

from __future__ import annotations

from collections.abc import Mapping


def page_count(total: int, per_page: int) -> int:
    """At least one page: an empty list still has its first page."""
    return max(1, -(-total // per_page))


def later_page(params: Mapping[str, str]) -> int | None:
    """The page number of a ``…/<n>/`` address, or None for the mount to answer 404:
    page 1 is the list's own address, and "02" would be a second address for page 2."""
    n = params.get("n", "")
    if not n.isdecimal() or int(n) < 2 or n != str(int(n)):
        return None
    return int(n)


def later_pages(pages: int) -> list[dict[str, str]]:
    """The route parameters of pages 2 to ``pages``, for the static build."""
    return [{"n": str(n)} for n in range(2, pages + 1)]
