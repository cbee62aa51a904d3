"""A published transcript page in a real browser: participants' hostile text shows as
text and never runs, the page passes axe, and it is kept as a screenshot per width."""

from __future__ import annotations

import pytest

from tests.browser.conftest import OpenPage, Site
from tests.browser.pages import assert_accessible, assert_inert, screenshot, xss_vectors


def test_every_xss_vector_in_messages_and_names_shows_as_text_and_never_runs(
    site: Site, open_page: OpenPage
) -> None:
    # The CSP is off here: escaping alone must keep every payload inert.
    page = open_page(site.transcript_urls[-1], bypass_csp=True)
    assert_inert(page)
    body = page.inner_text("body")
    for vector in xss_vectors():
        assert vector in body, f"{vector!r} is not shown as text"


def test_the_transcript_page_has_no_serious_accessibility_violation(
    site: Site, open_page: OpenPage
) -> None:
    assert_accessible(open_page(site.transcript_urls[-1], bypass_csp=True))


@pytest.mark.parametrize("width", [390, 1280])
def test_the_transcript_page_is_kept_as_a_screenshot(
    site: Site, open_page: OpenPage, width: int
) -> None:
    page = open_page(site.transcript_urls[0], width=width)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert screenshot(page, "transcript").stat().st_size > 0
