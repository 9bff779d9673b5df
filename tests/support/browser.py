"""Debian's chromium driven by Playwright, for end-to-end tests of the widget in a real browser.

`make test` installs chromium (`infra/dev/system-deps.sh`); Playwright's own browser downloads
(`playwright install`) are never used. Fixtures: `module_browser`, one chromium for a test module,
and `browser_page`, a page in a fresh context of it that records its console, its uncaught errors
and every Content-Security-Policy violation (`recorded_page(browser)` makes more such pages).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
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

    def errors(self) -> list[str]:
        """Uncaught errors and console errors, but for the browser's own favicon request (the
        test pages have none)."""
        logged = [
            m.text
            for m in self.console
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
        ]
        return self.page_errors + logged

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__cspViolations || []")
        logged = [t for t in self.console_texts() if "Content Security Policy" in t]
        return reported + logged

    def assert_clean(self) -> None:
        """No script error and no Content-Security-Policy violation so far."""
        assert self.errors() == []
        assert self.csp_violations() == []

    def screenshot(self, name: str, **options) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        (options.pop("locator", None) or self.page).screenshot(path=str(path), **options)
        return path


@contextmanager
def chromium() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def recorded_page(
    browser: Browser,
    *,
    width: int = 1024,
    height: int = 720,
    init_scripts: tuple[str, ...] = (),
    permissions: tuple[str, ...] = (),
    **context_options,
) -> Iterator[RecordedPage]:
    """A page in a fresh context (its own cookies and localStorage), recording what it reports.

    `init_scripts` run in every frame before the page's own; `permissions` are granted to the
    context (e.g. "notifications"); other options go to `browser.new_context` (`timezone_id`)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
    if permissions:
        context.grant_permissions(list(permissions))
    page = context.new_page()
    recorded = RecordedPage(page=page)
    for script in (RECORD_CSP_VIOLATIONS, *init_scripts):
        page.add_init_script(script)
    page.on("console", lambda message: recorded.console.append(message))
    page.on("pageerror", lambda error: recorded.page_errors.append(str(error)))
    try:
        yield recorded
    finally:
        context.close()


@pytest.fixture(scope="module")
def module_browser():
    """One chromium for every test of a module (each test takes fresh contexts from it).

    Playwright's sync API keeps its event loop registered as this thread's running loop for as
    long as it is started, so Django's async-safety check would refuse every query of the tests
    and fixtures in between. No Django code ever runs on that loop (Parley runs in daphne, the
    test's own queries run between Playwright calls), so the check is lifted while it lives."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with chromium() as launched:
            yield launched
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(module_browser: Browser):
    """A recorded page in a fresh context of the module's chromium."""
    with recorded_page(module_browser) as recorded:
        yield recorded
