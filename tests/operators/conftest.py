"""Operator fixtures: chromium for the console's browser test."""

from tests.support.browser import browser_page, module_browser  # noqa: F401 (chromium fixtures)
