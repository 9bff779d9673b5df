"""What every dashboard template needs: which sections the user may open (navigation), and what
the page tells the member of new conversations (notifications)."""

from django.conf import settings

from accounts.roles import Capability, user_can
from tenants.billing.limits import monthly_messages_used, plan_for
from tenants.billing.stripe_api import billing_configured
from widget.selectors import unread_rooms

NOTICE_PERCENT = 80  # the month's messages used from which the owner is told

# The navigation entry a page belongs to, by the first segment of its path.
_SECTIONS = {
    "": "inbox",
    "conversations": "inbox",
    "sites": "sites",
    "team": "team",
    "api-keys": "api_keys",
    "webhooks": "webhooks",
    "billing": "billing",
    "audit": "audit",
    "account": "account",
    "profile": "profile",
    "labels": "labels",
    "canned-replies": "canned_replies",
}
# The sections the navigation's "Settings" menu holds (the admin pages); while one is open, the
# menu's button is shown as the current entry.
_SETTINGS_SECTIONS = frozenset(
    {"api_keys", "webhooks", "billing", "audit", "labels", "canned_replies", "account"}
)


def navigation(request) -> dict:
    tenant = getattr(request, "tenant", None)
    # The platform host has no users: its schema has no user table to look a session up in.
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return {"can": {}, "on_tenant_host": False}
    user = request.user
    if not user.is_authenticated:
        return {"can": {}, "on_tenant_host": True}
    can_bill = user_can(user, Capability.BILLING)
    section = _SECTIONS.get(request.path.strip("/").split("/")[0], "")
    return {
        "can": {capability.value: user_can(user, capability) for capability in Capability},
        "messages_notice": _messages_notice(request.tenant) if can_bill else None,
        "on_tenant_host": True,
        "section": section,
        "in_settings": section in _SETTINGS_SECTIONS,
        "suspension": getattr(request, "suspension", None),
    }


def _messages_notice(tenant) -> dict | None:
    """The owner's notice once the month's messages pass 80% of the plan's: how far, and whether
    an upgrade can be bought here."""
    usage = monthly_messages_used(tenant.pk)
    if usage.unlimited or usage.used is None or usage.used * 100 < NOTICE_PERCENT * usage.limit:
        return None
    return {"usage": usage, "plan": plan_for(tenant.pk), "can_upgrade": billing_configured()}


def notifications(request) -> dict:
    """What `notifications.js` needs on every page of a member who uses the inbox: their
    preferences and the conversations waiting to be read (the tab title counts them)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return {}
    user = request.user
    if not user_can(user, Capability.INBOX):
        return {}
    return {
        "notify": {
            "sound": user.notify_sound,
            "desktop": user.notify_desktop,
            # A callable: the template calls it where it shows it, so no other page pays its query.
            "unread_rooms": unread_rooms,
        }
    }
