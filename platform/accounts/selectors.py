"""Reads of a tenant's people."""

from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Tenant


def member_count(tenant: Tenant) -> int:
    """The tenant's dashboard users, pending invitations included: what the plan's agents count."""
    with schema_context(tenant.schema_name):
        return User.objects.count()
