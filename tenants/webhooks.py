"""Outbound webhooks: turning events into signed, retried deliveries to tenants' endpoints.

Nothing here runs on the request or socket path beyond one insert. An event is enqueued after the
transaction that caused it commits (`transaction.on_commit`): one `WebhookDelivery` row per
subscribed webhook, holding the exact JSON body. `manage.py webhooks_worker` claims due rows
(`FOR UPDATE SKIP LOCKED`, so several workers can run), POSTs them with httpx, and records every
attempt. A failed attempt is retried after `WEBHOOK_RETRY_SCHEDULE` (10 s, 1 min, 5 min, 30 min,
2 h by default); after the last one the delivery is `failed`. Tenants read the log through
`GET /api/v1/webhooks/{id}/deliveries`.

Each request carries `Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
receivers recompute it over the raw body and should refuse timestamps older than a few minutes.
"""

import hmac
import ipaddress
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from hashlib import sha256
from urllib.parse import urlsplit

import httpx
import orjson
from cachetools import TTLCache
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from tenants.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

USER_AGENT = "Parley-Webhooks/1"
SECRET_PREFIX = "whsec_"
# A claimed delivery is retried if its worker dies mid-send: the claim lasts this long.
CLAIM_SECONDS = 120

# tenant id -> ((webhook id, events), ...): the socket path asks on every message.
_subscriptions: TTLCache = TTLCache(maxsize=10_000, ttl=settings.SITE_CACHE_SECONDS)
_subscriptions_lock = threading.Lock()


def new_webhook_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Parley-Signature` header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- Enqueueing -------------------------------------------------------------------------------


def _subscribers(tenant_id: int, event_type: str) -> list[int]:
    with _subscriptions_lock:
        subscriptions = _subscriptions.get(tenant_id)
    if subscriptions is None:
        subscriptions = tuple(
            (webhook_id, tuple(events))
            for webhook_id, events in Webhook.objects.filter(tenant_id=tenant_id).values_list(
                "id", "events"
            )
        )
        with _subscriptions_lock:
            _subscriptions[tenant_id] = subscriptions
    return [webhook_id for webhook_id, events in subscriptions if event_type in events]


def subscriptions_cache_clear() -> None:
    with _subscriptions_lock:
        _subscriptions.clear()


@receiver([post_save, post_delete], sender=Webhook)
def _webhooks_changed(sender, instance: Webhook, **kwargs) -> None:
    tenant_id = instance.tenant_id

    def forget() -> None:
        with _subscriptions_lock:
            _subscriptions.pop(tenant_id, None)

    transaction.on_commit(forget)


def webhook_event_enqueue(
    *, tenant_id: int, event_type: str, build_data: Callable[[], dict]
) -> int:
    """Queue one delivery of the event per subscribed webhook. Returns how many were queued.

    `build_data` is called only when a webhook wants the event: most tenants have none, and
    then an event costs no query and no serialization.
    """
    webhook_ids = _subscribers(tenant_id, event_type)
    if not webhook_ids:
        return 0
    now = timezone.now()
    event_id = "evt_" + secrets.token_urlsafe(16)
    body = orjson.dumps(
        {"id": event_id, "type": event_type, "created_at": now, "data": build_data()}
    ).decode()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook_id=webhook_id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            next_attempt_at=now,
        )
        for webhook_id in webhook_ids
    )
    return len(webhook_ids)


# The payloads use the site-key API's shapes. Imported when first needed: `tenants.api` imports
# the services, which import this module.


def _conversation_data(conversation) -> dict:
    from tenants.api.schemas import ConversationOut

    return ConversationOut.from_orm(conversation).model_dump(mode="json")


def on_message_created(tenant_id: int, conversation, message) -> None:
    """Hook for `widget.services.messages.message_post`: call it after the message is committed."""
    from tenants.api.schemas import MessageOut
    from widget.frames import message_of

    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.MESSAGE_CREATED,
        build_data=lambda: {
            "conversation": _conversation_data(conversation),
            "message": MessageOut.model_validate(message_of(message)).model_dump(mode="json"),
        },
    )


def on_conversation_created(tenant_id: int, conversation) -> None:
    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.CONVERSATION_CREATED,
        build_data=lambda: {"conversation": _conversation_data(conversation)},
    )


def on_conversation_closed(tenant_id: int, conversation) -> None:
    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.CONVERSATION_CLOSED,
        build_data=lambda: {"conversation": _conversation_data(conversation)},
    )


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


def _refused_address(url: str) -> str:
    """Why this URL may not be called from Parley's network, or "" when it may."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return ""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "the host name does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"the host resolves to a non-public address ({address})"
    return ""


def _attempt(delivery: WebhookDelivery) -> dict:
    """POST the delivery once. Returns the attempt's record."""
    started = time.monotonic()
    attempt = {"at": timezone.now().isoformat(), "status_code": None, "error": ""}
    refused = _refused_address(delivery.webhook.url)
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
            response = httpx.post(
                delivery.webhook.url,
                content=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                follow_redirects=False,
            )
            attempt["status_code"] = response.status_code
            if not response.is_success:
                attempt["error"] = f"the endpoint answered HTTP {response.status_code}"
        except httpx.HTTPError as error:
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
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])


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
