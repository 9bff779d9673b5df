"""The dashboard's attempt limits: failed sign-ins, signups and password resets, per client address.

Each is a `core.ratelimit.CacheWindow` whose numbers come from settings; the forms and views count
only what these limits are about (a failed sign-in, not a successful one) and tell the user how
long to wait.
"""

from django.conf import settings

from core.ratelimit import CacheWindow


def _from_setting(scope: str, limit_and_window: tuple[int, int]) -> CacheWindow:
    limit, window = limit_and_window
    return CacheWindow(scope, limit, window)


def login_throttle() -> CacheWindow:
    """Failed sign-ins per (tenant, client address, email)."""
    return _from_setting("login", settings.LOGIN_FAILURE_LIMIT)


def login_address_throttle() -> CacheWindow:
    """Failed sign-ins per client address over all emails and tenants (password spraying)."""
    return _from_setting("login-address", settings.LOGIN_ADDRESS_FAILURE_LIMIT)


def signup_throttle() -> CacheWindow:
    return _from_setting("signup", settings.SIGNUP_RATE_LIMIT)


def password_reset_throttle() -> CacheWindow:
    return _from_setting("password-reset", settings.PASSWORD_RESET_RATE_LIMIT)


def find_dashboard_throttle() -> CacheWindow:
    return _from_setting("find-dashboard", settings.FIND_DASHBOARD_RATE_LIMIT)


def wait_phrase(seconds: int) -> str:
    """ "30 seconds", "4 minutes": how long a throttled user must wait, for a message."""
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
