"""What accounts hears from Django's auth: a member signing out ends what their session opened.

Connected once, when the app loads (`accounts.apps`).
"""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from accounts.services import member_access_changed


@receiver(user_logged_out)
def _signed_out(sender, *, request, user, **kwargs) -> None:
    # `user` is None when the session named nobody. A sign-out happens on a tenant's host only.
    if user is not None:
        member_access_changed(tenant=request.tenant, user_id=user.pk)
