"""The dashboard's main navigation in chromium: Inbox, Sites and Team, then a "Settings" menu
holding the admin pages. The menu opens and closes by mouse and by keyboard (Enter, Space, Esc,
the arrows, tabbing out), closes on a click outside it, marks the current page's entry and its
own button as current, passes axe open, and no width scrolls the page sideways. 1280 px and
375 px; screenshots in artifacts/."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role, User
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.dashboard_server import OWNER_PASSWORD, dashboard_server, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WIDTHS = (1280, 375)
AGENT_EMAIL = "agent@nav-e2e.test"
TENANT_NAME = "Northwind Outdoor Equipment Company"  # long: the bar must still fit
# The owner's Settings menu, in its order.
SETTINGS = [
    ("nav-api-keys", "API keys"),
    ("nav-webhooks", "Webhooks"),
    ("nav-billing", "Billing"),
    ("nav-audit", "Audit log"),
    ("nav-labels", "Labels"),
    ("nav-canned-replies", "Canned replies"),
    ("nav-account", "Account"),
]


def _seed(tenant, site, owner) -> dict:
    User.objects.create_user(email=AGENT_EMAIL, password=OWNER_PASSWORD, role=Role.AGENT)
    return {}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="nav-e2e", name=TENANT_NAME, seed=_seed) as up:
        yield up


def _no_sideways_scroll(page) -> None:
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert sizes["scroll"] <= sizes["client"], sizes


def _menu_open(page) -> bool:
    return page.evaluate("document.getElementById('nav-settings').open")


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_settings_menu_by_mouse(server, module_browser, width):
    with recorded_page(module_browser, width=width, height=800) as recorded:
        page = recorded.page
        page.add_init_script(path=str(AXE))
        log_in(page, server)
        nav = page.get_by_role("navigation", name="Main")
        # Primary entries are links in the bar; the admin pages are behind the closed menu.
        for entry in ("#nav-inbox", "#nav-sites", "#nav-team", "#nav-settings-button"):
            expect(nav.locator(entry)).to_be_visible()
        expect(page.locator("#nav-inbox")).to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-settings-button")).not_to_have_attribute("aria-current", "true")
        for entry, _ in SETTINGS:
            expect(page.locator(f"#{entry}")).to_be_hidden()
        _no_sideways_scroll(page)

        page.click("#nav-settings-button")
        assert _menu_open(page)
        links = page.locator(".nav-menu-list a")
        expect(links).to_have_text([name for _, name in SETTINGS])
        for entry, _ in SETTINGS:
            expect(page.locator(f"#{entry}")).to_be_in_viewport()
        _no_sideways_scroll(page)
        recorded.screenshot(f"navigation-menu-open-{width}.png")
        violations = serious_violations(page)
        assert not violations, readable(violations)

        # A click outside closes it; its button closes it too.
        page.mouse.click(8, 790)  # the page's empty bottom corner, outside the menu
        expect(page.locator("#nav-api-keys")).to_be_hidden()
        assert not _menu_open(page)
        page.click("#nav-settings-button")
        expect(page.locator("#nav-api-keys")).to_be_visible()
        page.click("#nav-settings-button")
        expect(page.locator("#nav-api-keys")).to_be_hidden()

        # On an admin page: its entry is the current page, and the menu's button is current.
        page.click("#nav-settings-button")
        page.click("#nav-webhooks")
        page.wait_for_url(f"{server.tenant_url}/webhooks/")
        expect(page.locator("#nav-settings-button")).to_have_attribute("aria-current", "true")
        expect(page.locator("#nav-inbox")).not_to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-webhooks")).to_have_attribute("aria-current", "page")
        current = page.locator(".mainnav [aria-current]")
        expect(current).to_have_count(2)  # the button, and the page's entry inside the menu
        page.click("#nav-settings-button")
        recorded.screenshot(f"navigation-menu-current-{width}.png")
        _no_sideways_scroll(page)
        # A primary entry's page: the menu's button is not current any more.
        page.keyboard.press("Escape")
        page.click("#nav-team")
        page.wait_for_url(f"{server.tenant_url}/team/")
        expect(page.locator("#nav-team")).to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-settings-button")).not_to_have_attribute("aria-current", "true")
        recorded.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_settings_menu_by_keyboard(server, module_browser, width):
    with recorded_page(module_browser, width=width, height=800) as recorded:
        page = recorded.page
        log_in(page, server)
        # Tab reaches the menu's button right after Team.
        page.focus("#nav-team")
        page.keyboard.press("Tab")
        assert _focused_id(page) == "nav-settings-button"

        page.keyboard.press("Enter")
        expect(page.locator("#nav-api-keys")).to_be_visible()
        page.keyboard.press("ArrowDown")
        assert _focused_id(page) == "nav-api-keys"
        page.keyboard.press("ArrowUp")
        assert _focused_id(page) == "nav-account"  # round to the last
        page.keyboard.press("ArrowDown")
        assert _focused_id(page) == "nav-api-keys"
        assert page.evaluate("document.activeElement.matches(':focus-visible')")
        recorded.screenshot(f"navigation-menu-keyboard-{width}.png")

        # Esc closes it and gives the focus back to its button.
        page.keyboard.press("Escape")
        expect(page.locator("#nav-api-keys")).to_be_hidden()
        assert _focused_id(page) == "nav-settings-button"

        # Space opens it too; tabbing past its last entry closes it.
        page.keyboard.press("Space")
        expect(page.locator("#nav-api-keys")).to_be_visible()
        for _ in SETTINGS:
            page.keyboard.press("Tab")
        assert _focused_id(page) == "nav-account"
        assert _menu_open(page)
        page.keyboard.press("Tab")
        expect(page.locator("#nav-api-keys")).to_be_hidden()
        assert not _menu_open(page)

        # Enter on an entry opens its page.
        page.focus("#nav-settings-button")
        page.keyboard.press("Enter")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert _focused_id(page) == "nav-webhooks"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.tenant_url}/webhooks/")
        expect(page.locator("#nav-webhooks")).to_have_attribute("aria-current", "page")
        _no_sideways_scroll(page)
        recorded.assert_clean()


def test_no_width_scrolls_the_page_sideways_with_the_menu_open(server, module_browser):
    with recorded_page(module_browser, width=1280, height=800) as recorded:
        page = recorded.page
        log_in(page, server)
        page.click("#nav-settings-button")
        for width in (320, 375, 600, 601, 899, 900, 1024, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            expect(page.locator("#nav-account")).to_be_in_viewport()
            _no_sideways_scroll(page)
            if width == 900:  # the narrowest width with the bar in one row
                recorded.screenshot("navigation-menu-open-900.png")
        recorded.assert_clean()


def test_an_agent_s_menu_holds_what_the_role_may_open(server, module_browser):
    with recorded_page(module_browser, width=375, height=800) as recorded:
        page = recorded.page
        log_in(page, server, email=AGENT_EMAIL, password=OWNER_PASSWORD)
        expect(page.locator("#nav-sites")).to_have_count(0)
        expect(page.locator("#nav-team")).to_have_count(0)
        page.click("#nav-settings-button")
        expect(page.locator(".nav-menu-list a")).to_have_text(["Canned replies"])
        _no_sideways_scroll(page)
        recorded.screenshot("navigation-menu-agent-375.png")
        recorded.assert_clean()
