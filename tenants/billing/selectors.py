"""Read-only billing queries: the billing account and the invoices Stripe holds."""

from dataclasses import dataclass
from datetime import UTC, datetime

from tenants.billing.models import BillingAccount
from tenants.billing.stripe_api import billing_configured, stripe_client, stripe_errors
from tenants.models import Tenant


@dataclass(frozen=True)
class Invoice:
    number: str
    created: datetime
    amount_cents: int
    currency: str
    status: str
    url: str

    @property
    def amount(self) -> str:
        return f"{self.amount_cents / 100:.2f} {self.currency.upper()}"


def billing_account_of(tenant: Tenant) -> BillingAccount | None:
    return BillingAccount.objects.filter(tenant=tenant).first()


def tenant_invoices(*, tenant: Tenant, limit: int = 12) -> list[Invoice]:
    """The tenant's latest invoices from Stripe, newest first; none without Stripe or a customer."""
    account = billing_account_of(tenant)
    if not billing_configured() or account is None or not account.stripe_customer_id:
        return []
    with stripe_errors():
        page = stripe_client().v1.invoices.list(
            params={"customer": account.stripe_customer_id, "limit": limit}
        )
    invoices = [invoice.to_dict() for invoice in page.data]
    return sorted(
        (
            Invoice(
                number=invoice.get("number") or invoice["id"],
                created=datetime.fromtimestamp(invoice["created"], tz=UTC),
                amount_cents=invoice.get("total") or 0,
                currency=invoice.get("currency") or "usd",
                status=invoice.get("status") or "",
                url=invoice.get("hosted_invoice_url") or "",
            )
            for invoice in invoices
        ),
        key=lambda invoice: invoice.created,
        reverse=True,
    )
