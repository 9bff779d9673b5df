"""Public-schema billing state: each tenant's Stripe account, processed events, message usage."""

from datetime import timedelta

from django.conf import settings
from django.db import models

from tenants.billing.plans import DEFAULT_PLAN, PLANS, Plan, plan_named
from tenants.models import Tenant

# Subscription statuses under which the subscribed plan applies (past_due/unpaid: only during the
# grace period that follows a failed payment).
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid"})


class BillingAccount(models.Model):
    """A tenant's billing state, as last learnt from Stripe. Absent: the default plan applies."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="billing_account")
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    # The plan of the subscription; `effective_plan` says which plan applies now.
    plan = models.CharField(
        max_length=20,
        choices=[(plan.code, plan.name) for plan in PLANS.values()],
        default=DEFAULT_PLAN.code,
    )
    status = models.CharField(max_length=30, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # Start of the grace period after a failed payment; None while payments succeed.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    # The Stripe timestamp (event `created`) of the state stored here: older events are stale.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    # A plan an operator put the tenant on (a contract, a trial, a favour): it applies instead of
    # Stripe's and of the installation's default until `granted_until` (None: until taken back).
    granted_plan = models.CharField(
        max_length=20, blank=True, choices=[(plan.code, plan.name) for plan in PLANS.values()]
    )
    granted_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.plan}:{self.status or 'none'}"

    def grace_ends_at(self):
        if self.payment_failed_at is None:
            return None
        return self.payment_failed_at + timedelta(days=settings.BILLING_GRACE_DAYS)

    def grant_at(self, now) -> Plan | None:
        """The operator's plan, while it lasts."""
        if not self.granted_plan or (self.granted_until is not None and self.granted_until <= now):
            return None
        return plan_named(self.granted_plan)

    def effective_plan(self, now) -> Plan:
        """The plan that applies at `now`: the subscribed one while it is live and paid (or in its
        grace period after a failed payment), else the default plan."""
        if self.status not in LIVE_STATUSES:
            return DEFAULT_PLAN
        grace_ends_at = self.grace_ends_at()
        if grace_ends_at is not None and now >= grace_ends_at:
            return DEFAULT_PLAN
        return plan_named(self.plan)


class ProcessedStripeEvent(models.Model):
    """A Stripe event already handled: Stripe delivers at least once, Parley acts once."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id


class MonthlyUsage(models.Model):
    """Messages a tenant sent in a calendar month (UTC), written by periodic flushes of counts."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.DateField(help_text="The first day of the month.")
    messages = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="billing_usage_tenant_month")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.month:%Y-%m}:{self.messages}"
