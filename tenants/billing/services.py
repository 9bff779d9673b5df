"""Services that change billing state: Stripe customers, Checkout and Portal sessions, webhooks.

Stripe is the source of truth. A webhook event only says *that* something changed; the handler
re-fetches the subscription (or invoice) it names and stores what Stripe holds now, so events that
arrive late, twice or out of order all converge on Stripe's latest state:

- each event id is recorded in the same transaction as its effect, so it is acted on once;
- the account row is locked while the state is fetched and stored, so two concurrent deliveries
  store states in the order Stripe produced them;
- an event older than the state already stored (`stripe_state_at`) is skipped without a fetch.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.db import transaction

from core.errors import BadRequest, BillingNotConfigured, PaymentProviderError
from tenants.audit import audit_record
from tenants.billing.limits import plan_cache_forget
from tenants.billing.models import LIVE_STATUSES, BillingAccount, ProcessedStripeEvent
from tenants.billing.plans import DEFAULT_PLAN, PLANS, plan_for_price
from tenants.billing.stripe_api import is_not_found, stripe_client, stripe_errors
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
UNPAID_STATUSES = frozenset({"past_due", "unpaid"})


def _locked_account(*, tenant_id: int) -> BillingAccount:
    """The tenant's billing account, created if missing, locked until the transaction ends."""
    BillingAccount.objects.get_or_create(tenant_id=tenant_id)
    return BillingAccount.objects.select_for_update().get(tenant_id=tenant_id)


def _forget_cached_plan(account: BillingAccount) -> None:
    transaction.on_commit(lambda: plan_cache_forget(account.tenant_id))


@transaction.atomic
def stripe_customer_ensure(*, tenant: Tenant) -> str:
    """The tenant's Stripe customer id, creating the customer on first need."""
    # The row stays locked during Stripe's answer: two first needs at once make one customer.
    account = _locked_account(tenant_id=tenant.pk)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    with stripe_errors():
        customer = stripe_client().v1.customers.create(
            params={
                "name": tenant.name,
                "metadata": {"tenant_id": str(tenant.pk), "tenant_slug": tenant.slug},
            }
        )
    account.stripe_customer_id = customer.id
    account.save(update_fields=["stripe_customer_id", "updated_at"])
    return customer.id


def checkout_session_create(
    *, tenant: Tenant, plan_code: str, success_url: str, cancel_url: str
) -> str:
    """Start an upgrade to a paid plan through Stripe Checkout; returns the Checkout page URL."""
    plan = PLANS.get(plan_code)
    if plan is None or not plan.is_paid:
        raise BadRequest(f"There is no paid plan named {plan_code!r}.")
    client = stripe_client()
    if not plan.stripe_price_id:
        raise BillingNotConfigured(f"The {plan.name} plan has no Stripe price configured.")
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is not None and account.stripe_subscription_id and account.status in LIVE_STATUSES:
        # A second Checkout would start a second subscription; plan changes go through the Portal.
        raise BadRequest("This tenant already has a subscription; change it in the billing portal.")
    customer_id = stripe_customer_ensure(tenant=tenant)
    with stripe_errors():
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer_id,
                "client_reference_id": str(tenant.pk),
                "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": {"tenant_id": str(tenant.pk), "plan": plan.code},
                "subscription_data": {"metadata": {"tenant_id": str(tenant.pk)}},
            }
        )
    return session.url


def portal_session_create(*, tenant: Tenant, return_url: str) -> str:
    """A Stripe Billing Portal session to change or cancel the plan; returns its URL."""
    client = stripe_client()
    customer_id = stripe_customer_ensure(tenant=tenant)
    with stripe_errors():
        session = client.v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    return session.url


# --- Webhooks -------------------------------------------------------------------------------------


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Verify a webhook delivery on its raw body and process its event.

    Returns "processed", "duplicate" or "ignored"; raises `BadRequest` when the signature does not
    match the body (nothing is changed then).
    """
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise BillingNotConfigured()
    try:
        stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError as error:
        raise BadRequest("The Stripe signature is missing or does not match the body.") from error
    except ValueError as error:  # signed, but not JSON
        raise BadRequest("The body is not a Stripe event.") from error
    event = json.loads(payload)
    if not _is_event(event):
        raise BadRequest("The body is not a Stripe event.")
    return stripe_event_process(event=event)


def _is_event(event) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


@transaction.atomic
def stripe_event_process(*, event: dict) -> str:
    """Act once on a verified Stripe event. Unknown types are ignored."""
    handler = EVENT_HANDLERS.get(event["type"])
    if handler is None:
        return "ignored"
    _, first_time = ProcessedStripeEvent.objects.get_or_create(
        event_id=event["id"], defaults={"type": event["type"]}
    )
    if not first_time:
        return "duplicate"
    # A failure (Stripe unreachable while re-fetching) rolls back the event id too: Stripe retries.
    handler(event)
    return "processed"


def _event_time(event: dict) -> datetime:
    return datetime.fromtimestamp(event["created"], tz=UTC)


def _event_object(event: dict) -> dict:
    return event["data"]["object"]


def _account_for_event(*, customer_id: str | None, tenant_hint: str | None):
    """The locked account of the Stripe customer, else of the tenant Parley tagged the object with.

    Returns None for a customer Parley does not know (an event of another integration)."""
    if customer_id:
        account = (
            BillingAccount.objects.select_for_update()
            .filter(stripe_customer_id=customer_id)
            .first()
        )
        if account is not None:
            return account
    if (
        isinstance(tenant_hint, str)
        and tenant_hint.isdigit()
        and Tenant.objects.filter(pk=tenant_hint).exists()
    ):
        account = _locked_account(tenant_id=int(tenant_hint))
        if not account.stripe_customer_id and customer_id:
            account.stripe_customer_id = customer_id
            account.save(update_fields=["stripe_customer_id", "updated_at"])
        if account.stripe_customer_id == customer_id:
            return account
    logger.warning("Stripe event for an unknown customer %s ignored", customer_id)
    return None


def _retrieve(service, object_id: str) -> dict | None:
    """The object as Stripe holds it now (`service`: a StripeClient service such as
    `client.v1.subscriptions`), or None when Stripe has no such object."""
    try:
        with stripe_errors():
            return service.retrieve(object_id).to_dict()
    except PaymentProviderError as error:
        if is_not_found(error):
            return None
        raise


def _subscription_price_id(subscription: dict) -> str:
    items = subscription.get("items", {}).get("data", [])
    if not items:
        return ""
    item = items[0]
    # Current API versions sell through prices; legacy (and localstripe) through plans.
    return (item.get("price") or {}).get("id") or (item.get("plan") or {}).get("id") or ""


def _subscription_period_end(subscription: dict) -> datetime | None:
    # API versions from 2025-03-31 carry the period on the items, older ones on the subscription.
    items = subscription.get("items", {}).get("data", [])
    timestamp = subscription.get("current_period_end") or (
        items[0].get("current_period_end") if items else None
    )
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def _invoice_subscription_id(invoice: dict) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or invoice.get("subscription")


def _subscription_sync(
    account: BillingAccount, *, subscription_id: str, event_time: datetime
) -> None:
    """Store the subscription's current state (fetched from Stripe) on the locked account."""
    if account.stripe_state_at is not None and event_time < account.stripe_state_at:
        return  # an older event: the stored state already reflects something newer
    subscription = _retrieve(stripe_client().v1.subscriptions, subscription_id)
    status = subscription["status"] if subscription is not None else "canceled"
    tracked = account.stripe_subscription_id
    if tracked and tracked != subscription_id and status not in LIVE_STATUSES:
        return  # another, older subscription ended; the one the tenant has is unaffected
    plan = plan_for_price(_subscription_price_id(subscription)) if subscription else None
    if status in LIVE_STATUSES and plan is None:
        logger.warning("Subscription %s sells no configured plan", subscription_id)
    if tracked != subscription_id:
        account.payment_failed_at = None
    account.stripe_subscription_id = "" if status in ENDED_STATUSES else subscription_id
    account.plan = plan.code if plan is not None and status in LIVE_STATUSES else DEFAULT_PLAN.code
    account.status = status
    account.current_period_end = _subscription_period_end(subscription) if subscription else None
    if status in UNPAID_STATUSES and account.payment_failed_at is None:
        account.payment_failed_at = event_time
    if status in ENDED_STATUSES:
        account.payment_failed_at = None
    account.stripe_state_at = max(event_time, account.stripe_state_at or event_time)
    account.save()
    _forget_cached_plan(account)


def _on_subscription_event(event: dict) -> None:
    subscription = _event_object(event)
    account = _account_for_event(
        customer_id=subscription.get("customer"),
        tenant_hint=(subscription.get("metadata") or {}).get("tenant_id"),
    )
    if account is not None:
        _subscription_sync(
            account, subscription_id=subscription["id"], event_time=_event_time(event)
        )


def _on_checkout_completed(event: dict) -> None:
    session = _event_object(event)
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    account = _account_for_event(
        customer_id=session.get("customer"), tenant_hint=session.get("client_reference_id")
    )
    if account is not None:
        _subscription_sync(
            account, subscription_id=session["subscription"], event_time=_event_time(event)
        )


def _invoice_subscription_synced(event: dict):
    """An invoice event's account, with its subscription synced from Stripe first; None when the
    invoice belongs to no account of ours or to no subscription."""
    invoice = _event_object(event)
    account = _account_for_event(customer_id=invoice.get("customer"), tenant_hint=None)
    subscription_id = _invoice_subscription_id(invoice)
    if account is None or not subscription_id:
        return None
    event_time = _event_time(event)
    _subscription_sync(account, subscription_id=subscription_id, event_time=event_time)
    return invoice, account, subscription_id, event_time


def _on_invoice_paid(event: dict) -> None:
    synced = _invoice_subscription_synced(event)
    if synced is None:
        return
    _, account, _, event_time = synced
    # A payment newer than the failure ends the grace period; an older one (late) does not.
    if account.payment_failed_at is not None and event_time >= account.payment_failed_at:
        account.payment_failed_at = None
        account.save(update_fields=["payment_failed_at", "updated_at"])
        _forget_cached_plan(account)


def _on_invoice_payment_failed(event: dict) -> None:
    synced = _invoice_subscription_synced(event)
    if synced is None:
        return
    invoice, account, subscription_id, event_time = synced
    if account.stripe_subscription_id != subscription_id or account.payment_failed_at is not None:
        return
    current = _retrieve(stripe_client().v1.invoices, invoice["id"])
    if current is not None and current["status"] in ("paid", "void"):
        return  # paid (or voided) since: the failure is over
    account.payment_failed_at = event_time
    account.save(update_fields=["payment_failed_at", "updated_at"])
    _forget_cached_plan(account)


EVENT_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "invoice.paid": _on_invoice_paid,
    # Sent with `invoice.paid` by Stripe; the only one localstripe sends.
    "invoice.payment_succeeded": _on_invoice_paid,
    "invoice.payment_failed": _on_invoice_payment_failed,
}


@transaction.atomic
def billing_grace_expire(*, now: datetime) -> list[int]:
    """Put on the default plan every tenant whose grace period after a failed payment is over.

    Reads already apply the default plan past the grace period; this makes the stored state
    (and the billing page) agree. Returns the tenant ids downgraded."""
    cutoff = now - timedelta(days=settings.BILLING_GRACE_DAYS)
    expired = list(
        BillingAccount.objects.select_for_update()
        .filter(payment_failed_at__lte=cutoff)
        .exclude(plan=DEFAULT_PLAN.code)
    )
    for account in expired:
        account.plan = DEFAULT_PLAN.code
        account.save(update_fields=["plan", "updated_at"])
        _forget_cached_plan(account)
    return [account.tenant_id for account in expired]


# --- An operator's plan ---------------------------------------------------------------------------


@transaction.atomic
def plan_grant(*, tenant_id: int, plan_code: str, until: datetime | None = None) -> BillingAccount:
    """Put the tenant on `plan_code` until `until` (None: until taken back), whatever Stripe says;
    an empty `plan_code` takes a grant back. Every worker applies it within the plan cache's
    lifetime (`BILLING_PLAN_CACHE_SECONDS`), this process at once."""
    if plan_code and plan_code not in PLANS:
        raise BadRequest(f"plan: unknown plan {plan_code[:40]!r}; one of {', '.join(PLANS)}")
    if until is not None and until <= datetime.now(UTC):
        raise BadRequest("until: the end of the plan must be in the future")
    account = _locked_account(tenant_id=tenant_id)
    account.granted_plan = plan_code
    account.granted_until = until if plan_code else None
    account.save(update_fields=["granted_plan", "granted_until", "updated_at"])
    audit_record(
        "tenant.plan_granted" if plan_code else "tenant.plan_grant_ended",
        tenant=account.tenant,
        details={"plan": plan_code, "until": until.isoformat() if until else None},
    )
    _forget_cached_plan(account)
    return account


def subscription_cancel_now(*, tenant_id: int) -> str | None:
    """Cancel the tenant's Stripe subscription at once (the tenant is being deleted); returns
    the cancelled subscription's id, None when there is none to cancel."""
    account = BillingAccount.objects.filter(tenant_id=tenant_id).first()
    if account is None or not account.stripe_subscription_id or not settings.STRIPE_SECRET_KEY:
        return None
    with stripe_errors():
        try:
            stripe_client().v1.subscriptions.cancel(account.stripe_subscription_id)
        except stripe.StripeError as error:
            if not is_not_found(error):  # already gone at Stripe: nothing to cancel
                raise
    return account.stripe_subscription_id
