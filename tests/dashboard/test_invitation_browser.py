"""Invitations in chromium against a real daphne, at desktop width and at 375 px: invite, copy
the link with the Copy button (the clipboard read back with the permission granted), resend,
the old link refused and the new one accepted in a fresh browser. Screenshots in artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tenants.models import AuditEntry
from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WIDTHS = {"desktop": 1280, "375": 375}
CLIPBOARD = ("clipboard-read", "clipboard-write")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    # Pro: both widths' invitations get a seat.
    with dashboard_server(
        django_db_blocker, slug="invite-e2e", name="Invite Co", PARLEY_DEFAULT_PLAN="pro"
    ) as running:
        yield running


def _fits(page) -> None:
    if page.viewport_size["width"] == 375:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375


def _copied_link(recorded) -> str:
    page = recorded.page
    card = page.locator("#invitation-link-card")
    expect(card).to_be_visible()
    page.click("#copy-invitation-link")
    expect(page.locator("#copy-invitation-link")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#invitation-link")
    return copied


@pytest.mark.parametrize("width", WIDTHS)
def test_invite_copy_resend_and_accept(server, module_browser, width):
    email = f"new-{width}@invite-e2e.test"
    link_shape = re.compile(re.escape(server.tenant_url) + r"/invitation/[\w-]+/[\w-]+/")
    with recorded_page(
        module_browser, width=WIDTHS[width], height=900, permissions=CLIPBOARD
    ) as admin:
        page = admin.page
        log_in(page, server)
        page.goto(f"{server.tenant_url}/team/")
        page.fill("#id_email", email)
        page.select_option("#id_role", "agent")
        page.click("#invite-submit")
        expect(page.locator("#flash")).to_contain_text(f"Invitation sent to {email}.")
        first = _copied_link(admin)
        assert link_shape.fullmatch(first)
        row = page.locator(f'tr[data-invitation="{email}"]')
        expect(row).to_contain_text("Just now")
        expect(row).to_contain_text("owner")  # the owner's name, from the email
        _fits(page)
        admin.screenshot(f"invitation-link-{width}.png", full_page=True)

        row.get_by_role("button", name=f"Resend the invitation to {email}").click()
        expect(page.locator("#flash")).to_contain_text("The previous link no longer works.")
        second = _copied_link(admin)
        assert link_shape.fullmatch(second)
        assert second != first
        _fits(page)
        admin.screenshot(f"invitation-resent-{width}.png", full_page=True)
        admin.assert_clean()

    with recorded_page(module_browser, width=WIDTHS[width], height=900) as stale:
        assert stale.page.goto(first).status == 400
        expect(stale.page.locator("h1")).to_have_text("This invitation is not valid")
        # The browser reports the page's 400 itself; nothing else went wrong.
        assert all("status of 400" in error for error in stale.errors())
        assert stale.csp_violations() == []

    with recorded_page(module_browser, width=WIDTHS[width], height=900) as invitee:
        page = invitee.page
        page.goto(second)
        page.fill("#id_display_name", f"Nia {width}")
        page.fill("#id_new_password1", "chosen-passphrase-77")
        page.fill("#id_new_password2", "chosen-passphrase-77")
        page.click("#invitation-submit")
        page.wait_for_url(f"{server.tenant_url}/")
        expect(page.locator("#flash")).to_contain_text("Welcome to Invite Co's team.")
        _fits(page)
        invitee.screenshot(f"invitation-accepted-{width}.png", full_page=True)
        invitee.assert_clean()

    with server.in_tenant():
        member = User.objects.get(email=email)
        assert member.is_active
        assert member.display_name == f"Nia {width}"
    actions = AuditEntry.objects.filter(tenant=server.tenant, target=email).order_by("id")
    assert [entry.action for entry in actions] == ["member.invited", "member.invitation_resent"]
