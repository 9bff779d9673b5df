"""axe-core over every dashboard page, in chromium, at desktop width and at 375 px.

A serious or critical violation fails the page's test, printed with the rule, its help page and
the elements at fault (tests/support/axe.py).

A new page is one more row of `PAGES`. Screenshots of every page at both widths go to artifacts/.
"""

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import invitation_link
from demo.mail import maildir_open
from tenants.models import WebhookDelivery
from tenants.services import webhook_create
from tests.support.axe import AXE, RUN_AXE, readable
from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.factories import visitor_conversation
from widget.mail.addresses import reply_address
from widget.mail.unsubscribe import unsubscribe_url
from widget.models import Conversation
from widget.services.canned_replies import canned_reply_create
from widget.services.conversations import conversation_close
from widget.services.labels import label_create
from widget.services.ratings import conversation_rate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WIDTHS = {"desktop": 1280, "375": 375}


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # formatted with the server's `seeded` values
    signed_in: bool = True
    platform_host: bool = False  # the platform's own pages (front page, signup)
    status: int = 200


PAGES = [
    Page("inbox", "/"),
    Page("conversation", "/conversations/{conversation}/"),
    Page("conversation-rated", "/conversations/{rated}/"),
    Page("sites", "/sites/"),
    Page("site", "/sites/{site}/"),
    Page("site-new", "/sites/new/"),
    Page("team", "/team/"),
    Page("api-keys", "/api-keys/"),
    Page("billing", "/billing/"),
    Page("webhooks", "/webhooks/"),
    Page("webhook", "/webhooks/{webhook}/"),
    Page("audit", "/audit/"),
    Page("canned-replies", "/canned-replies/"),
    Page("canned-reply", "/canned-replies/{canned_reply}/"),
    Page("labels", "/labels/"),
    Page("inbox-label", "/?label={label}"),
    Page("inbox-search", "/?q=anyone"),
    Page("inbox-closed", "/?view=closed"),
    Page("account", "/account/"),
    Page("profile", "/profile/"),
    Page("login", "/login/", signed_in=False),
    Page("password-reset", "/password-reset/", signed_in=False),
    Page("password-reset-sent", "/password-reset/sent/", signed_in=False),
    Page("password-reset-invalid", "/reset/MQ/not-a-token/", signed_in=False),
    Page("password-reset-done", "/reset/done/", signed_in=False),
    Page("invitation", "{invitation}", signed_in=False),
    Page("invitation-invalid", "/invitation/MQ/not-a-token/", signed_in=False, status=400),
    Page("login-link-invalid", "/login/link/not-a-token/", signed_in=False, status=400),
    Page("demo-mail", "/demo/mail/"),
    Page("email-unsubscribe", "{unsubscribe}", signed_in=False, platform_host=True),
    Page(
        "email-unsubscribe-invalid",
        "/email/unsubscribe/not-a-token/",
        signed_in=False,
        platform_host=True,
        status=404,
    ),
    Page("landing", "/", signed_in=False, platform_host=True),
    Page("signup", "/signup/", signed_in=False, platform_host=True),
]


def _seed(tenant, site, owner) -> dict:
    conversation = visitor_conversation(
        tenant,
        site_id=site.id,
        room="cv_axe",
        texts=(
            ("visitor", "Hello, is anyone there?"),
            ("visitor", "Order **1042**, _still_ `in transit`: https://shop.test/orders/1042"),
        ),
        name="Greta",
        page_url="https://shop.test/",
    )
    invited = User(
        email="new@axe.test", username="new@axe.test", role=Role.AGENT, is_active=False,
        invited_by=owner, invited_at=timezone.now(),
    )  # fmt: skip
    invited.set_unusable_password()
    invited.save()
    link = invitation_link(user=invited, dashboard_url="/")
    webhook = webhook_create(
        tenant=tenant, url="https://hooks.test/parley", events=["message.created"]
    )
    for status, attempt in (
        ("delivered", {"status_code": 200, "error": ""}),
        ("failed", {"status_code": 500, "error": "the endpoint answered HTTP 500"}),
    ):
        WebhookDelivery.objects.create(
            webhook=webhook,
            event_id=f"evt_{status}",
            event_type="message.created",
            body="{}",
            status=status,
            attempts=[{"at": "2026-12-01T10:00:00+00:00", "duration_ms": 41, **attempt}],
        )
    label = label_create(name="Billing", color="#b45309")
    conversation.labels.add(label)
    canned_reply = canned_reply_create(
        tenant=tenant,
        shortcut="hello",
        title="Greeting",
        body="Hi {{visitor.name|there}}, how can I help?",
        created_by=owner,
    )
    # A closed conversation its visitor rated: on its page, the team's and the site's.
    rated = visitor_conversation(
        tenant, site_id=site.id, room="cv_rated", texts=(("visitor", "Thanks!"),), name="Ravi"
    )
    Conversation.objects.filter(pk=rated.pk).update(assignee=owner)
    rated.refresh_from_db()
    conversation_close(tenant_id=tenant.id, conversation=rated)
    conversation_rate(
        tenant_id=tenant.id, conversation=rated, score=4, comment="Quick and kind, thank you."
    )
    return {
        "unsubscribe": urlsplit(
            unsubscribe_url(tenant_id=tenant.id, visitor_id=conversation.visitor_id)
        ).path,
        "reply_address": reply_address(
            tenant_id=tenant.id,
            conversation_id=conversation.pk,
            visitor_id=conversation.visitor_id,
        ),
        "rated": rated.pk,
        "canned_reply": canned_reply.pk,
        "conversation": conversation.pk,
        "label": label.pk,
        "site": site.pk,
        "invitation": link,
        "webhook": webhook.pk,
    }


def _caught(folder, reply_to: str) -> None:
    """An email in the demo's mail catcher, as the email continuity sender writes one."""
    message = EmailMessage()
    message["From"], message["To"] = "Axe Audit <no-reply@localhost>", "greta@example.com"
    message["Subject"], message["Reply-To"] = "Axe Audit: 1 new message for you", reply_to
    message["Date"] = "Fri, 04 Dec 2026 10:02:00 +0000"
    message.set_content("Hello Greta,\n\nAnn · 04 Dec 2026, 10:01\nYes, two left in size 38.\n")
    maildir_open(folder).add(message.as_bytes())


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-mail")
    with dashboard_server(
        django_db_blocker,
        slug="axe-e2e",
        name="Axe Audit",
        seed=_seed,
        PARLEY_DEMO_MAIL_DIR=str(folder),
    ) as up:
        _caught(folder, up.seeded["reply_address"])
        yield up


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_no_serious_accessibility_violation(server, module_browser, page):
    base = server.platform_url if page.platform_host else server.tenant_url
    url = base + page.path.format(**server.seeded)
    with recorded_page(module_browser) as recorded:
        recorded.page.add_init_script(path=str(AXE))
        if page.signed_in:
            log_in(recorded.page, server)
        found = {}
        for label, width in WIDTHS.items():
            recorded.page.set_viewport_size({"width": width, "height": 800})
            response = recorded.page.goto(url)
            assert response.status == page.status
            found[label] = recorded.page.evaluate(RUN_AXE)
            recorded.screenshot(f"axe-{page.name}-{label}.png", full_page=True)
            if width == 375:
                scroll = recorded.page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= 375, f"{page.name} scrolls sideways at 375 px ({scroll} px)"
        # A page answered with an error status is reported by chromium as a failed load.
        failed_load = f"the server responded with a status of {page.status}"
        assert [e for e in recorded.errors() if page.status == 200 or failed_load not in e] == []
        assert recorded.csp_violations() == []
    report = "\n".join(f"at {label}:\n{readable(v)}" for label, v in found.items() if v)
    assert not report, f"{page.name} ({url}):\n{report}"
