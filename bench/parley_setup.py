"""Create what the benchmark needs in Parley: a tenant, a site with public rooms, visitors.

Usage: parley_setup.py '{"room": members, ...}' ORIGIN   (prints one JSON line)
"""

import json
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from tenants.billing.models import BillingAccount, MonthlyUsage  # noqa: E402
from tenants.selectors import site_current_key  # noqa: E402
from tenants.services import public_tenant_ensure, site_create, tenant_get_or_create  # noqa: E402
from tenants.tokens import token_issue  # noqa: E402
from widget.models import Visitor  # noqa: E402


def main() -> None:
    rooms: dict[str, int] = json.loads(sys.argv[1])
    origin = sys.argv[2]
    call_command("migrate_schemas", interactive=False, verbosity=0)
    public_tenant_ensure()
    tenant, _ = tenant_get_or_create(name="Bench", slug="bench")
    # The biggest plan, its month's usage reset: the benchmark measures speed, not plan limits
    # (the servers run with a STRIPE_SECRET_KEY so that the plan applies; Stripe is never called).
    BillingAccount.objects.update_or_create(
        tenant=tenant, defaults={"plan": "enterprise", "status": "active"}
    )
    MonthlyUsage.objects.filter(tenant=tenant).delete()
    site = tenant.sites.filter(name="bench").first() or site_create(
        tenant=tenant, name="bench", allowed_origins=[origin], public_rooms=True
    )
    tokens: dict[str, list[str]] = {}
    with schema_context(tenant.schema_name):
        for room, members in rooms.items():
            visitors = Visitor.objects.bulk_create(Visitor(site_id=site.id) for _ in range(members))
            tokens[room] = [
                token_issue(
                    tenant_id=tenant.id,
                    site_id=site.id,
                    visitor_id=str(visitor.id),
                    conversation=f"cv_{uuid.uuid4().hex[:16]}",
                )[0]
                for visitor in visitors
            ]
    print(json.dumps({"site_key": site_current_key(site).key, "tokens": tokens}))


if __name__ == "__main__":
    main()
