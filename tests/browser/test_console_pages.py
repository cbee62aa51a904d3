"""The console's other pages in a real Chromium against the real ``hashchat run``: a
participant's suggestion approved into Q2 of the coming chat shows in its agenda editor
and on the coming chats; hostile suggestions and sign-up names stay text on every page."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage
from tests.browser.pages import assert_accessible, assert_inert, screenshot, xss_vectors
from tests.browser.test_console import Console, console, field, log_in, until

__all__ = ["console"]  # the module's hashchat run, from the editor's tests

SUGGESTED = "Who pays for co-design?"


def say(console: Console, user: str, name: str, text: str) -> None:
    body = json.dumps({"channel": "main", "user": user, "name": name, "text": text})
    request = urllib.request.Request(
        f"{console.local}/api/messages",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def test_approve_a_suggestion_into_q2(console: Console, open_page: OpenPage) -> None:
    say(console, "ann", "Ann", f"/suggest {SUGGESTED}")
    say(console, "bob", "Bob", "/suggest How do you involve patients from the start?")
    say(console, "eve", "Eve", "/vote 1")
    until(lambda: [t for t in console.bot_posts("main") if "your vote for #1" in t], "the vote")
    page = log_in(open_page, console)
    page.click("nav >> text=Suggestions")
    screenshot(page, "console-suggestions")
    row = page.locator("tr", has_text=SUGGESTED)
    row.locator('input[name="position"]').fill("2")
    row.locator("text=Approve").click()
    expect(page.locator("#outcome")).to_contain_text("is now Q2 of “Patients as partners”")
    page.click("nav >> text=Coming chats")
    expect(page.locator(".steps")).to_contain_text(SUGGESTED)
    page.click("text=Edit the agenda")
    expect(field(page, "questions[2].text")).to_have_value(SUGGESTED)
    expect(field(page, "questions[3].text")).to_have_value("Which tool helped most?")


def test_hostile_suggestions_and_names_stay_text(console: Console, open_page: OpenPage) -> None:
    for n, vector in enumerate(xss_vectors()):
        say(console, f"x{n}", vector[:60], f"/suggest {vector}")
        say(console, f"x{n}", vector[:60], "/rsvp")
    count = len(xss_vectors())
    until(lambda: len([t for t in console.bot_posts("main") if "Signed up" in t]) >= count, "rsvp")
    page = log_in(open_page, console, bypass_csp=True)  # escaping alone must hold
    signups = page.get_attribute("text=Sign-ups and host", "href")
    assert signups is not None
    for path in ["/console/hcsmeu/suggestions", signups, "/console/hcsmeu/moderation",
                 "/console/hcsmeu/audit", "/console/hcsmeu/schedule"]:  # fmt: skip
        page.goto(console.base_url + path)
        assert_inert(page)
        assert_accessible(page)
    page.goto(console.base_url + "/console/hcsmeu/suggestions")
    shown = page.inner_text("table.queue")
    assert any(v in shown for v in xss_vectors())


def test_skip_the_coming_chat_then_undo(console: Console, open_page: OpenPage) -> None:
    """Last in this module: the running bot drops the chat at once, and plans it again."""
    page = log_in(open_page, console)
    expect(page.locator("section.chat")).to_have_count(1)
    page.click("nav >> text=Schedule")
    page.click("#skip button")
    expect(page.locator("#outcome")).to_contain_text("is skipped")
    screenshot(page, "console-schedule")
    page.click("nav >> text=Coming chats")
    expect(page.locator("section.chat")).to_have_count(0)
    expect(page.locator("#exceptions")).to_contain_text("is skipped")
    page.click("nav >> text=Schedule")
    page.click("#exceptions button")
    expect(page.locator("#outcome")).to_have_text("The exception is undone.")
    page.click("nav >> text=Coming chats")
    expect(page.locator("section.chat")).to_have_count(1)
