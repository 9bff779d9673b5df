"""Reads of a tenant's people."""

from django.conf import settings
from django_tenants.utils import schema_context

from accounts.models import User
from core.errors import NotFound
from tenants.models import Tenant


def member_count(tenant: Tenant) -> int:
    """The tenant's dashboard users, pending invitations included: what the plan's agents count."""
    with schema_context(tenant.schema_name):
        return User.objects.count()


def dashboards_of_email(email: str) -> list[Tenant]:
    """The tenants where `email` is an active member, for "find my dashboard". Asks each tenant's
    schema in turn: a few milliseconds a tenant, fine for the thousands an installation has."""
    found = []
    for tenant in Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("name"):
        with schema_context(tenant.schema_name):
            if User.objects.filter(email__iexact=email, is_active=True).exists():
                found.append(tenant)
    return found


def member_list():
    """The team (inside the tenant's schema), pending invitations included."""
    return User.objects.all()


def member_get(*, member_id: int) -> User:
    """A member of the team (inside the tenant's schema); NotFound when the tenant has none with
    this id."""
    member = User.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound("No member has this id.")
    return member


def members_available(*, member_ids: set[int]) -> set[int]:
    """Of `member_ids` (members with the dashboard open), the active ones not switched away
    (inside the tenant's schema): who counts as online for the visitors."""
    if not member_ids:
        return set()
    return set(
        User.objects.filter(pk__in=member_ids, is_active=True, away=False).values_list(
            "pk", flat=True
        )
    )
