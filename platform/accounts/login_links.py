"""One-time links that sign a user in on their tenant's host.

Signup happens on the platform host, but the dashboard's session cookie belongs to the tenant's
host (`<slug>.<platform host>`): a session made on the platform host would not be sent there, and
a cookie for the parent domain would be shared by every tenant. So signup ends with a redirect to a
short-lived signed link on the tenant's host, which signs the new owner in there.

The link is signed with SECRET_KEY, names the tenant's schema (it is refused on any other host)
and carries the user's `last_login` as it was when the link was made: signing in changes it, so a
link works once, with no server-side state to share between workers.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from tenants.models import Tenant
from tenants.services import tenant_url

_SALT = "parley.dashboard.login-link.v1"


def _last_login_stamp(user) -> str:
    return user.last_login.isoformat() if user.last_login else ""


def login_link(*, tenant: Tenant, user) -> str:
    """The absolute URL, on the tenant's host, that signs `user` in once."""
    token = signing.dumps(
        {"schema": tenant.schema_name, "user": user.pk, "seen": _last_login_stamp(user)},
        salt=_SALT,
    )
    # Signup runs on the platform host, whose URLconf is not the dashboard's.
    return tenant_url(tenant) + reverse("login_link", args=[token], urlconf=settings.ROOT_URLCONF)


def login_link_user(*, tenant: Tenant, token: str):
    """The user a link signs in on this tenant's host, or None if it is bad, used or expired."""
    try:
        claims = signing.loads(token, salt=_SALT, max_age=settings.SIGNUP_LOGIN_LINK_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("schema") != tenant.schema_name:
        return None
    user = get_user_model().objects.filter(pk=claims.get("user"), is_active=True).first()
    if user is None or _last_login_stamp(user) != claims.get("seen"):
        return None
    return user
