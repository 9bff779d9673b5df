"""Every dashboard view names the capability it needs (`accounts.roles` says which role has it).

A page refused for lack of a role answers 403; a visitor who is not signed in goes to the login.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.roles import Capability, user_can


def requires(capability: Capability):
    """View decorator: sign-in first (redirect to the login page), then the role (403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(request, *args, **kwargs):
            if not user_can(request.user, capability):
                raise PermissionDenied(f"Your role may not use {capability.value}.")
            return view(request, *args, **kwargs)

        return guarded

    return decorator
