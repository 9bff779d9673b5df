"""Debian's chromium driven by Playwright, for end-to-end tests of the widget in a real browser.

`make test` installs chromium (`infra/dev/system-deps.sh`); Playwright's own browser downloads
(`playwright install`) are never used. Fixtures: `browser` (one chromium per test) and
`browser_page`, a page that records its console, its uncaught errors and every Content-Security-
Policy violation. Playwright's sync API runs an event loop on the test's thread, so a test does
its database work before it asks for these fixtures.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# Runs in every frame before the page's own scripts (Playwright injects it past the page's CSP).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
}, true);
"""


@dataclass
class RecordedPage:
    page: Page
    console: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def console_texts(self, kind: str | None = None) -> list[str]:
        return [m.text for m in self.console if kind is None or m.type == kind]

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations || []")
        logged = [t for t in self.console_texts() if "Content Security Policy" in t]
        return reported + logged

    def screenshot(self, name: str, **options) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        (options.pop("locator", None) or self.page).screenshot(path=str(path), **options)
        return path


@pytest.fixture
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(browser: Browser):
    context = browser.new_context(viewport={"width": 1024, "height": 720})
    page = context.new_page()
    recorded = RecordedPage(page=page)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("console", lambda message: recorded.console.append(message))
    page.on("pageerror", lambda error: recorded.page_errors.append(str(error)))
    try:
        yield recorded
    finally:
        context.close()
