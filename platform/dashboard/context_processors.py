"""What every dashboard template needs for its navigation: which sections the user may open."""

from django.conf import settings

from accounts.roles import Capability, user_can

# The navigation entry a page belongs to, by the first segment of its path.
_SECTIONS = {
    "": "inbox",
    "conversations": "inbox",
    "sites": "sites",
    "team": "team",
    "api-keys": "api_keys",
    "billing": "billing",
}


def navigation(request) -> dict:
    tenant = getattr(request, "tenant", None)
    # The platform host has no users: its schema has no user table to look a session up in.
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return {"can": {}, "on_tenant_host": False}
    user = request.user
    if not user.is_authenticated:
        return {"can": {}, "on_tenant_host": True}
    return {
        "can": {capability.value: user_can(user, capability) for capability in Capability},
        "on_tenant_host": True,
        "section": _SECTIONS.get(request.path.strip("/").split("/")[0], ""),
        "suspension": getattr(request, "suspension", None),
    }
