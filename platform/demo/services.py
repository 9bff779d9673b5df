"""The demo tenant that `make run` starts with: one tenant, one agent login, one site.

The demo site allows the demo customer page's origin, which `make run` serves on a second origin
so that the widget is embedded cross-origin, as on a real customer's site.
"""

from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.db import transaction
from django_tenants.utils import tenant_context
from operators.models import Operator

from accounts.models import Role, User
from tenants.models import Site, Tenant
from tenants.origins import normalize_allowed_origin
from tenants.selectors import site_current_key
from tenants.services import (
    api_key_create,
    public_tenant_ensure,
    site_create,
    tenant_get_or_create,
    tenant_url,
)

DEMO_SLUG = "demo"
DEMO_AGENT_EMAIL = "agent@demo.parley.test"
DEMO_AGENT_PASSWORD = "parley-demo"  # a published demo login, development only
DEMO_SITE_NAME = "Demo customer page"
DEMO_OPERATOR_EMAIL = "operator@demo.parley.test"
DEMO_OPERATOR_PASSWORD = "parley-demo-operator"  # development only, like the agent's


@dataclass(frozen=True)
class Demo:
    tenant: Tenant
    site: Site
    site_key: str
    agent_email: str
    agent_password: str
    operator: Operator


@transaction.atomic
def demo_ensure() -> Demo:
    """Create what is missing of the demo tenant, its agent and its site. Idempotent."""
    public_tenant_ensure()
    tenant, _ = tenant_get_or_create(name="Demo Co", slug=DEMO_SLUG)
    with tenant_context(tenant):
        if not User.objects.filter(email=DEMO_AGENT_EMAIL).exists():
            User.objects.create_user(
                email=DEMO_AGENT_EMAIL,
                password=DEMO_AGENT_PASSWORD,
                display_name="Demo Agent",
                role=Role.OWNER,
            )
    origin = normalize_allowed_origin(settings.DEMO_CUSTOMER_PAGE_URL)
    site = tenant.sites.filter(name=DEMO_SITE_NAME).first()
    if site is None:
        site = site_create(
            tenant=tenant, name=DEMO_SITE_NAME, allowed_origins=[origin], public_rooms=True
        )
    return Demo(
        tenant=tenant,
        site=site,
        site_key=site_current_key(site).key,
        agent_email=DEMO_AGENT_EMAIL,
        agent_password=DEMO_AGENT_PASSWORD,
        operator=_demo_operator(),
    )


def _demo_operator() -> Operator:
    """The installation's operator of the demo, with a TOTP secret kept between runs."""
    operator = Operator.objects.filter(email=DEMO_OPERATOR_EMAIL).first()
    if operator is None:
        operator = Operator(email=DEMO_OPERATOR_EMAIL, totp_secret=pyotp.random_base32())
        operator.set_password(DEMO_OPERATOR_PASSWORD)
        operator.save()
    return operator


def demo_description(demo: Demo, *, with_api_key: bool = True) -> dict:
    """What a developer needs to try the demo, with a fresh API key (keys are stored hashed)."""
    description = {
        "platform_url": settings.PLATFORM_URL,
        "tenant_url": tenant_url(demo.tenant),
        "customer_page_url": settings.DEMO_CUSTOMER_PAGE_URL.rstrip("/") + "/",
        "site_key": demo.site_key,
        "agent": {"email": demo.agent_email, "password": demo.agent_password},
        "operator": {
            "console_url": f"{settings.PLATFORM_URL}/operator/",
            "email": demo.operator.email,
            "password": DEMO_OPERATOR_PASSWORD,
            "totp_secret": demo.operator.totp_secret,
        },
        "allowed_origins": demo.site.allowed_origins,
    }
    if with_api_key:
        _, description["api_key"] = api_key_create(tenant=demo.tenant, name="demo")
    return description
