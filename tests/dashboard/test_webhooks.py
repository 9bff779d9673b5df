"""The webhooks page: endpoints made and checked as the API does, a test event really sent, the
delivery log, the signing secret shown once, disable and delete, each change in the audit log."""

import pytest
from django.test import Client

from tenants.models import AuditEntry, Webhook, WebhookDelivery
from tenants.services import webhook_create
from tenants.webhooks import WebhookEvent, webhook_events_enqueue
from tests.tenants.test_webhooks import Receiver, verify_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(tenant_a, admin, tenant_client) -> Client:
    return tenant_client(tenant_a, admin)


def _webhook(tenant, url="https://hooks.example/parley") -> Webhook:
    return webhook_create(tenant=tenant, url=url, events=["message.created"])


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(tenant_a, admin_browser):
    response = admin_browser.post(
        "/webhooks/",
        {"url": "https://hooks.example/parley", "events": ["message.created"]},
    )

    assert response.status_code == 200
    webhook = Webhook.objects.get(tenant=tenant_a)
    assert webhook.events == ["message.created"]
    text = response.content.decode()
    assert webhook.secret in text
    assert response["Cache-Control"] == "no-store"
    assert "Webhook for https://hooks.example/parley created" in text
    assert AuditEntry.objects.filter(tenant=tenant_a, action="webhook.created").exists()
    listed = admin_browser.get("/webhooks/").content.decode()
    assert "https://hooks.example/parley" in listed
    assert webhook.secret not in listed


@pytest.mark.parametrize(
    ("posted", "shown"),
    [
        ({"url": "ftp://hooks.example/x", "events": ["message.created"]}, "must be http(s)"),
        ({"url": "https://user:pw@hooks.example/", "events": ["message.created"]}, "credentials"),
        ({"url": "https://hooks.example/", "events": []}, "Choose at least one event."),
        ({"url": "https://hooks.example/", "events": ["nope"]}, "Select a valid choice"),
    ],
)
def test_a_bad_webhook_is_refused_with_the_reason(tenant_a, admin_browser, posted, shown):
    response = admin_browser.post("/webhooks/", posted)

    assert response.status_code == 400
    assert shown in response.content.decode()
    assert not Webhook.objects.filter(tenant=tenant_a).exists()


def test_agents_may_not_see_webhooks(tenant_a, agent, tenant_client):
    browser = tenant_client(tenant_a, agent)
    assert browser.get("/webhooks/").status_code == 403
    assert browser.post("/webhooks/", {"url": "https://x.example/"}).status_code == 403


def test_another_tenants_webhook_is_not_found(tenant_b, admin_browser):
    theirs = _webhook(tenant_b)
    assert admin_browser.get(f"/webhooks/{theirs.pk}/").status_code == 404
    assert admin_browser.post(f"/webhooks/{theirs.pk}/delete/").status_code == 404
    assert admin_browser.post(f"/webhooks/{theirs.pk}/test/").status_code == 404
    assert Webhook.objects.filter(pk=theirs.pk).exists()


def test_a_test_event_is_sent_signed_and_its_result_shown(tenant_a, admin_browser):
    with Receiver(statuses=(204,)) as receiver:
        webhook = _webhook(tenant_a, url=receiver.url)
        response = admin_browser.post(f"/webhooks/{webhook.pk}/test/", follow=True)

    (headers, body) = receiver.requests[0]
    assert verify_signature(webhook.secret, headers, body)["type"] == "webhook.test"
    text = response.content.decode()
    assert "Test event delivered: HTTP 204" in text
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert f'data-delivery="{delivery.event_id}"' in text


def test_a_failing_test_event_says_why_and_is_retried(tenant_a, admin_browser):
    with Receiver(statuses=(500,)) as receiver:
        webhook = _webhook(tenant_a, url=receiver.url)
        response = admin_browser.post(f"/webhooks/{webhook.pk}/test/", follow=True)

    assert "Test event not delivered: the endpoint answered HTTP 500" in response.content.decode()
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.next_attempt_at is not None
    assert len(delivery.attempts) == 1


def test_rotating_the_secret_shows_the_new_one_once(tenant_a, admin_browser):
    webhook = _webhook(tenant_a)
    old = webhook.secret

    response = admin_browser.post(f"/webhooks/{webhook.pk}/secret/")

    webhook.refresh_from_db()
    assert webhook.secret != old
    assert webhook.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert webhook.secret not in admin_browser.get(f"/webhooks/{webhook.pk}/").content.decode()
    assert AuditEntry.objects.filter(tenant=tenant_a, action="webhook.secret_rotated").exists()


def test_a_disabled_webhook_gets_nothing_until_enabled(
    tenant_a, admin_browser, django_capture_on_commit_callbacks
):
    webhook = _webhook(tenant_a)
    event = WebhookEvent(type="message.created", build_data=dict)
    webhook_events_enqueue(tenant_id=tenant_a.pk, events=[event])
    waiting = WebhookDelivery.objects.get(webhook=webhook)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"/webhooks/{webhook.pk}/enabled/", {"enabled": "0"})
    assert response.status_code == 302

    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.Status.FAILED
    assert waiting.attempts[-1]["error"] == "not sent: the webhook was disabled"
    assert webhook_events_enqueue(tenant_id=tenant_a.pk, events=[event]) == 0
    assert "Disabled" in admin_browser.get(f"/webhooks/{webhook.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        admin_browser.post(f"/webhooks/{webhook.pk}/enabled/", {"enabled": "1"})
    assert webhook_events_enqueue(tenant_id=tenant_a.pk, events=[event]) == 1
    actions = set(AuditEntry.objects.filter(tenant=tenant_a).values_list("action", flat=True))
    assert {"webhook.disabled", "webhook.enabled"} <= actions


def test_deleting_a_webhook_confirms_it(tenant_a, admin_browser):
    webhook = _webhook(tenant_a)

    response = admin_browser.post(f"/webhooks/{webhook.pk}/delete/", follow=True)

    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    assert "Webhook for https://hooks.example/parley deleted." in response.content.decode()
    assert AuditEntry.objects.filter(tenant=tenant_a, action="webhook.deleted").exists()


def test_the_page_is_in_the_navigation_of_admins_only(
    tenant_a, admin_browser, agent, tenant_client
):
    assert 'id="nav-webhooks"' in admin_browser.get("/").content.decode()
    assert 'id="nav-webhooks"' not in tenant_client(tenant_a, agent).get("/").content.decode()
