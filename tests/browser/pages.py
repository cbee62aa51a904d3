"""What the browser tests check on every page: axe-core finds no serious or critical
accessibility violation, no XSS vector of the project's list runs, and a screenshot at
each width is kept (``test-output/screenshots/``; ``UPDATE_SCREENSHOTS=1`` also refreshes
the README's ``docs/screenshots/``)."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
VECTORS = REPO / "tests" / "data" / "xss_vectors.txt"
SCREENSHOTS = REPO / "test-output" / "screenshots"
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"
BLOCKING = ("serious", "critical")


@cache
def xss_vectors() -> tuple[str, ...]:
    """The payloads, each setting ``window.__xss`` if it ever runs."""
    lines = VECTORS.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line.strip() and not line.startswith("#"))


def axe_violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's violations of ``impacts`` on the page as loaded. The page's strict CSP
    blocks the injected script unless its context was opened with ``bypass_csp``."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(page: Page) -> None:
    found = axe_violations(page)
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; "
        + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in found
    )
    assert not found, f"axe on {page.url}:\n{report}"


# Inline handlers and script URLs a payload would need to act once a reader clicks,
# hovers or focuses; the site itself uses none (its CSP would block them).
_SCRIPTABLE = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.trim().toLowerCase();
      if (a.name.startsWith('on') || (['href', 'src', 'action', 'formaction', 'srcdoc']
            .includes(a.name) && (v.startsWith('javascript:') || a.name === 'srcdoc')))
        found.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 60)}">`);
    }
  }
  return found;
}"""


def assert_inert(page: Page) -> None:
    """No payload ran (the marker is unset) and none could run on a click, a hover or a
    focus (no inline handler, no ``javascript:`` URL, no ``srcdoc`` in the page)."""
    page.wait_for_load_state("load")
    assert page.evaluate("() => window.__xss") is None, f"an XSS vector ran on {page.url}"
    scriptable = page.evaluate(_SCRIPTABLE)
    assert not scriptable, f"scriptable markup on {page.url}: {scriptable}"
    for frame in page.frames[1:]:
        assert frame.evaluate("() => window.__xss") is None, f"an XSS vector ran in {frame.url}"


def screenshot(page: Page, name: str) -> Path:
    """``<name>-<width>.png`` of the whole page, kept as test output."""
    viewport = page.viewport_size
    width = viewport["width"] if viewport else 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / path.name)
    return path
