"""The community site as a reader uses it, in a real Chromium against the real process:
from the home page to a past chat, "add to calendar", times in the reader's own zone,
and on every page: axe-core, every XSS vector inert, a screenshot at 390 and 1280 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from bot.site.pages import PAGES
from tests.browser.conftest import COMMUNITY, PARIS, SUMMER, OpenPage, Site
from tests.browser.pages import assert_accessible, assert_inert, screenshot

# Every HTML page of the registry without parameters (home, search, numbers, links as
# they join it), and a published transcript.
SITE_PAGES = {
    (p.pattern.rstrip("/") or "home"): f"{COMMUNITY}/{p.pattern}"
    for p in PAGES
    if p.pattern.endswith("/") or p.pattern == ""
    if "{" not in p.pattern
}
PAGE_NAMES = [*SITE_PAGES, "transcript"]


def page_url(site: Site, name: str) -> str:
    return site.transcript_urls[-1] if name == "transcript" else site.url(SITE_PAGES[name])


def test_a_reader_goes_from_the_home_page_to_a_past_chat(site: Site, open_page: OpenPage) -> None:
    page = open_page(site.url(f"{COMMUNITY}/"))
    page.get_by_role("link", name="Patients as partners, part 2").click()
    page.wait_for_url(site.transcript_urls[1])
    expect(page.locator("h1")).to_contain_text("Patients as partners, part 2")
    expect(page.get_by_text("A2: a shared notebook, honestly")).to_be_visible()


def test_add_to_calendar_downloads_the_next_chats_ics(site: Site, open_page: OpenPage) -> None:
    page = open_page(site.url(f"{COMMUNITY}/"))
    with page.expect_download() as download:
        page.locator("#next").get_by_role("link", name="Add to calendar").first.click()
    path = Path(download.value.path())
    (event,) = Calendar.from_ical(path.read_text(encoding="utf-8")).walk("VEVENT")
    assert download.value.suggested_filename == f"{event['uid']}.ics"
    start = event.decoded("dtstart")
    assert (start.tzinfo, start.hour, start.minute) == (PARIS, 13, 0)
    assert str(event["status"]) == "CONFIRMED"


def test_in_vancouver_the_next_1pm_paris_chat_shows_4am(site: Site, open_page: OpenPage) -> None:
    page = open_page(site.url(f"{SUMMER}/"), timezone_id="America/Vancouver")
    expect(page.locator("#next time").first).to_contain_text("1:00")  # the community's time
    expect(page.locator("#next .tz-local").first).to_contain_text("04:00")  # the reader's


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_passes_axe(site: Site, open_page: OpenPage, name: str) -> None:
    assert_accessible(open_page(page_url(site, name), bypass_csp=True))


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_xss_vector_is_inert_on_every_page(
    site: Site, open_page: OpenPage, name: str
) -> None:
    # Once with the CSP off (escaping alone must hold), once as served.
    assert_inert(open_page(page_url(site, name), bypass_csp=True))
    assert_inert(open_page(page_url(site, name)))


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_is_kept_as_a_screenshot(
    site: Site, open_page: OpenPage, name: str, width: int
) -> None:
    page = open_page(page_url(site, name), width=width)
    assert screenshot(page, name).stat().st_size > 0
