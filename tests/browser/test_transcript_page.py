"""A published transcript page in a real browser: participants' hostile text shows as
text and never runs (axe, the CSP-on check and the screenshots of every page, this one
included, are in test_site.py)."""

from __future__ import annotations

from tests.browser.conftest import OpenPage, Site
from tests.browser.pages import assert_inert, xss_vectors


def test_every_xss_vector_in_messages_and_names_shows_as_text_and_never_runs(
    site: Site, open_page: OpenPage
) -> None:
    # The CSP is off here: escaping alone must keep every payload inert.
    page = open_page(site.transcript_urls[-1], bypass_csp=True)
    assert_inert(page)
    body = page.inner_text("body")
    for vector in xss_vectors():
        assert vector in body, f"{vector!r} is not shown as text"
