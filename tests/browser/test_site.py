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
from tests.browser.pages import assert_accessible, assert_inert, axe_violations, screenshot

# Every HTML page of the registry without parameters (home, search, numbers, links as
# they join it), and a published transcript.
SITE_PAGES = {
    (p.pattern.rstrip("/") or "home"): f"{COMMUNITY}/{p.pattern}"
    for p in PAGES
    if p.pattern.endswith("/") or p.pattern == ""
    if "{" not in p.pattern
}
# Search results for a word every XSS vector holds, so they show the hostile messages.
SITE_PAGES["search-results"] = f"{COMMUNITY}/search/?q=window"
PAGE_NAMES = [*SITE_PAGES, "transcript"]


def page_url(site: Site, name: str) -> str:
    return site.transcript_urls[-1] if name == "transcript" else site.url(SITE_PAGES[name])


def test_a_word_searched_leads_to_the_answer_in_its_transcript(
    site: Site, open_page: OpenPage
) -> None:
    page = open_page(site.url(f"{COMMUNITY}/"))
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Search").click()
    page.get_by_label("Words").fill("notebook")
    page.get_by_role("button", name="Search").click()
    hit = page.locator("ol.hits > li").filter(has_text="part 2")
    expect(hit).to_contain_text("a shared notebook, honestly")
    hit.get_by_role("link").first.click()
    page.wait_for_url(f"{site.transcript_urls[1]}#m*")
    answer = page.locator(":target")
    expect(answer).to_contain_text("A2: a shared notebook, honestly")
    expect(answer).to_be_in_viewport()


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


SHOWN = {**SITE_PAGES, "search-results": f"{COMMUNITY}/search/?q=notebook"}
# The names the README's screenshots have (docs/screenshots/site-<name>-<width>.png).
FILE_NAMES = {"search": "search-form", "search-results": "search", "transcript": "chat"}


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", [*SHOWN, "transcript"])
def test_every_page_fits_the_screen_and_is_kept_as_a_screenshot(
    showcase: Site, open_page: OpenPage, name: str, width: int
) -> None:
    url = showcase.transcript_urls[-1] if name == "transcript" else showcase.url(SHOWN[name])
    page = open_page(url, width=width)
    assert screenshot(page, f"site-{FILE_NAMES.get(name, name)}").stat().st_size > 0
    # Readable on a phone: nothing runs off the side of the screen.
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} is {overflow} px wide in a {width} px window"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_hostile_text_never_widens_a_page_past_a_phone(
    site: Site, open_page: OpenPage, name: str
) -> None:
    page = open_page(page_url(site, name), width=390)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"{name} is {overflow} px wide in a 390 px window"


@pytest.mark.parametrize(
    ("name", "regions"),
    [
        ("home", ["Past chats"]),
        (
            "stats",
            [
                "Every chat in numbers",
                "Questions that drew most answers",
                "Messages per platform",
                "Most active participants",
            ],
        ),
    ],
)
def test_scrolling_tables_are_named_and_reached_by_keyboard_on_a_phone(
    site: Site, open_page: OpenPage, name: str, regions: list[str]
) -> None:
    """axe's scrollable-region-focusable: a table wider than a phone scrolls in a box a
    keyboard can reach (and scroll with its arrows), named for screen readers."""
    page = open_page(page_url(site, name), width=390, bypass_csp=True)
    for region in regions:
        box = page.get_by_role("region", name=region, exact=True)
        box.focus()
        expect(box).to_be_focused()
    found = [v["id"] for v in axe_violations(page, ("minor", "moderate", "serious", "critical"))]
    assert "scrollable-region-focusable" not in found
