"""Outbound webhooks: turning events into signed, retried deliveries to tenants' endpoints.

Nothing here runs on the request or socket path beyond one insert. An event is enqueued inside
the transaction that causes it: one `WebhookDelivery` row per subscribed webhook, holding the
exact JSON body, committed with the change or not at all (an after-commit hook would lose it to
a crash between the commit and the hook). `manage.py webhooks_worker` claims due rows
(`FOR UPDATE SKIP LOCKED`, so several workers can run), POSTs them with httpx, and records every
attempt. A failed attempt is retried after `WEBHOOK_RETRY_SCHEDULE` (10 s, 1 min, 5 min, 30 min,
2 h by default); after the last one the delivery is `failed`. Tenants read the log through
`GET /api/v1/webhooks/{id}/deliveries`; the worker deletes finished deliveries older than
`WEBHOOK_DELIVERY_RETENTION_DAYS`.

Each request carries `Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
receivers recompute it over the raw body and should refuse timestamps older than a few minutes.
"""

import hmac
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

import httpx
import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F, JSONField, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from core.caches import ProcessCache
from tenants.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

USER_AGENT = "Parley-Webhooks/1"
SECRET_PREFIX = "whsec_"
# A claimed delivery is retried if its worker dies mid-send: the claim lasts this long.
CLAIM_SECONDS = 120

# tenant id -> ((webhook id, events), ...): the socket path asks on every message.
_subscriptions: ProcessCache[int, tuple[tuple[int, tuple[str, ...]], ...]] = ProcessCache(
    "webhook-subscriptions", maxsize=10_000, ttl=settings.SITE_CACHE_SECONDS
)


def new_webhook_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Parley-Signature` header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- Enqueueing -------------------------------------------------------------------------------


def _subscribers(tenant_id: int, event_type: str) -> list[int]:
    subscriptions = _subscriptions.get_or_load(
        tenant_id,
        lambda: tuple(
            (webhook_id, tuple(events))
            for webhook_id, events in Webhook.objects.filter(
                tenant_id=tenant_id, disabled_at__isnull=True
            ).values_list("id", "events")
        ),
    )
    return [webhook_id for webhook_id, events in subscriptions if event_type in events]


@receiver([post_save, post_delete], sender=Webhook)
def _webhooks_changed(sender, instance: Webhook, **kwargs) -> None:
    tenant_id = instance.tenant_id

    transaction.on_commit(lambda: _subscriptions.pop(tenant_id))


@dataclass(frozen=True)
class WebhookEvent:
    """One event to queue: its type, and what builds its `data` (called only when a webhook
    wants the event: most tenants have none, and then an event costs no query and no
    serialization)."""

    type: str
    build_data: Callable[[], dict]
    # Whose personal data `data` carries ("" for nobody's): see `webhook_deliveries_erase`.
    subject: str = ""


def webhook_events_enqueue(*, tenant_id: int, events: Iterable[WebhookEvent]) -> int:
    """Queue one delivery of each event per webhook subscribed to it, in one insert. Call it
    inside the transaction that makes the events. Returns how many deliveries were queued."""
    now = timezone.now()
    deliveries = []
    for event in events:
        webhook_ids = _subscribers(tenant_id, event.type)
        if not webhook_ids:
            continue
        event_id = "evt_" + secrets.token_urlsafe(16)
        body = orjson.dumps(
            {"id": event_id, "type": event.type, "created_at": now, "data": event.build_data()}
        ).decode()
        deliveries.extend(
            WebhookDelivery(
                webhook_id=webhook_id,
                event_id=event_id,
                event_type=event.type,
                body=body,
                subject=event.subject,
                next_attempt_at=now,
            )
            for webhook_id in webhook_ids
        )
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
    return len(deliveries)


def webhook_deliveries_erase(*, tenant_id: int, subject: str) -> int:
    """Erase a person from the tenant's deliveries (an erasure request): every body about them
    is emptied, and those not sent yet never will be (`failed`, the reason in their log).
    Returns how many deliveries were erased."""
    deliveries = WebhookDelivery.objects.filter(webhook__tenant_id=tenant_id, subject=subject)
    _never_send(deliveries, reason="not sent: the person it was about was erased")
    return deliveries.update(body="", subject="")


def webhook_deliveries_cancel(*, webhook: Webhook, reason: str) -> int:
    """Give up the webhook's deliveries not sent yet (`failed`, `reason` in their log): a
    disabled webhook gets nothing, not even late. Returns how many."""
    return _never_send(WebhookDelivery.objects.filter(webhook=webhook), reason=reason)


def _never_send(deliveries, *, reason: str) -> int:
    never_sent = {
        "at": timezone.now().isoformat(),
        "status_code": None,
        "error": reason,
        "duration_ms": 0,
    }
    return deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=None,
        attempts=CombinedExpression(F("attempts"), "||", Value([never_sent], JSONField())),
    )


PRUNE_BATCH = 5000


def webhook_deliveries_prune(*, before: datetime) -> int:
    """Delete the delivered and failed deliveries created before `before`, in batches (short
    transactions, short locks; rows another worker is deleting are skipped); returns how many.
    Pending ones stay until they are sent or fail."""
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .filter(created_at__lt=before)
                .exclude(status=WebhookDelivery.Status.PENDING)
                .order_by("id")
                .values_list("id", flat=True)[:PRUNE_BATCH]
            )
            if not batch:
                return deleted
            deleted += WebhookDelivery.objects.filter(id__in=batch).delete()[0]


# --- Delivering ---------------------------------------------------------------------------


def _claim_due(now: datetime, limit: int) -> list[WebhookDelivery]:
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:limit]
        )
        if due:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return due


DEFAULT_PORTS = {"http": 80, "https": 443}


def _checked_address(url: httpx.URL) -> tuple[str, str]:
    """The address to call for this URL, and why it may not be called ("" when it may).

    The host is resolved once, here, and the request goes to the address checked: resolving it
    again to connect would let a name that answers a public address to the check and a private
    one to the connection (DNS rebinding) reach Parley's own network."""
    try:
        infos = socket.getaddrinfo(
            url.raw_host.decode("ascii"),
            url.port or DEFAULT_PORTS[url.scheme],
            type=socket.SOCK_STREAM,
        )
    except (socket.gaierror, UnicodeError):
        return "", "the host name does not resolve"
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not address.is_global:
                return "", f"the host resolves to a non-public address ({address})"
    return str(addresses[0]), ""


def _post(url: httpx.URL, address: str, *, body: bytes, headers: dict) -> httpx.Response:
    """POST to `address` as to the URL's host: its Host header, and for HTTPS its server name
    (SNI) and certificate, are those of the host, not of the address."""
    host = url.raw_host.decode("ascii")
    with httpx.Client(timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False) as client:
        return client.post(
            url.copy_with(host=address),
            content=body,
            headers={**headers, "Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": host},
        )


def _attempt(delivery: WebhookDelivery) -> dict:
    """POST the delivery once. Returns the attempt's record."""
    started = time.monotonic()
    attempt = {"at": timezone.now().isoformat(), "status_code": None, "error": ""}
    try:
        url = httpx.URL(delivery.webhook.url)
        address, refused = _checked_address(url)
    except httpx.InvalidURL as error:  # a row saved before URLs were parsed as here
        address, refused = "", f"the URL is not valid: {error}"[:500]
    if refused:
        attempt["error"] = refused
    else:
        body = delivery.body.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Parley-Signature": webhook_signature(
                secret=delivery.webhook.secret, timestamp=timestamp, body=body
            ),
            "Parley-Event": delivery.event_type,
            "Parley-Event-Id": delivery.event_id,
        }
        try:
            response = _post(url, address, body=body, headers=headers)
            attempt["status_code"] = response.status_code
            if not response.is_success:
                attempt["error"] = f"the endpoint answered HTTP {response.status_code}"
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            attempt["error"] = f"{type(error).__name__}: {error}"[:500]
    attempt["duration_ms"] = int((time.monotonic() - started) * 1000)
    return attempt


def _record(delivery: WebhookDelivery, attempt: dict) -> None:
    delivery.attempts = [*delivery.attempts, attempt]
    now = timezone.now()
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if not attempt["error"]:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif len(delivery.attempts) > len(schedule):
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=schedule[len(delivery.attempts) - 1])
    # Only while still pending: a delivery erased during its attempt stays erased.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        attempts=delivery.attempts,
        status=delivery.status,
        delivered_at=delivery.delivered_at,
        next_attempt_at=delivery.next_attempt_at,
    )


TEST_EVENT = "webhook.test"


def webhook_test_send(*, webhook: Webhook) -> WebhookDelivery:
    """Send `webhook` a test event now, through the same path as every delivery (signed, the
    address checked, the attempt recorded, retried on the schedule when it fails), and return
    the delivery with its first attempt. Its claim keeps the worker off it meanwhile."""
    now = timezone.now()
    event_id = "evt_" + secrets.token_urlsafe(16)
    body = orjson.dumps(
        {
            "id": event_id,
            "type": TEST_EVENT,
            "created_at": now,
            "data": {"message": "A test event sent from the Parley dashboard."},
        }
    ).decode()
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=event_id,
        event_type=TEST_EVENT,
        body=body,
        next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
    )
    _record(delivery, _attempt(delivery))
    delivery.refresh_from_db()
    return delivery


def webhooks_deliver_due(*, limit: int = 20, concurrency: int = 8) -> int:
    """Attempt every delivery that is due (up to `limit`), in parallel. Returns how many."""
    due = _claim_due(timezone.now(), limit)
    if not due:
        return 0
    with ThreadPoolExecutor(max_workers=min(concurrency, len(due))) as pool:
        attempts = list(pool.map(_attempt, due))
    for delivery, attempt in zip(due, attempts, strict=True):
        _record(delivery, attempt)
        if attempt["error"]:
            logger.info("webhook delivery %s failed: %s", delivery.pk, attempt["error"])
    return len(due)
