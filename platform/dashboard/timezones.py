"""The agent's time zone: every time the dashboard shows is in it, rendered by the server and by
the page's scripts (`static/dashboard/times.js`) with one rule (`chat_time_text`).

The zone is the member's own (`accounts.User.time_zone`) when set, else the browser's: the page
reports it in the `parley_tz` cookie, so the next page the server renders uses it too. Until the
browser has reported it (a first visit), the server renders UTC and the script re-renders the
page's times in the browser's zone, so an agent never sees two zones on one page.
"""

import zoneinfo
from datetime import datetime
from functools import cache

from django.utils import timezone

from dashboard.middleware import on_tenant_host

TIME_ZONE_COOKIE = "parley_tz"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_named(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The IANA zone of that name, or None for anything else (a cookie is the browser's word,
    so an unknown or made-up name is ignored, never an error)."""
    if not name or len(name) > 64 or name not in _known_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def chat_time_text(moment: datetime, now: datetime) -> str:
    """Same day as `now` (both in the active zone): "HH:MM"; else "Mon D, HH:MM"."""
    local, today = timezone.localtime(moment), timezone.localtime(now)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{MONTHS[local.month - 1]} {local.day}, {local:%H:%M}"


def chat_time_title(moment: datetime) -> str:
    """The full date, for the tooltip: "Thursday, December 3, 2026, 23:47 (Europe/Berlin)"."""
    local = timezone.localtime(moment)
    return (
        f"{WEEKDAYS[local.weekday()]}, {MONTH_NAMES[local.month - 1]} {local.day}, "
        f"{local.year}, {local:%H:%M} ({timezone.get_current_timezone_name()})"
    )


class TimeZoneMiddleware:
    """Activates the agent's zone for the request (`request.time_zone_source` says whose it is:
    "member", "browser" or "default")."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None) if on_tenant_host(request) else None
        own = time_zone_named(getattr(user, "time_zone", "")) if user else None
        browser = time_zone_named(request.COOKIES.get(TIME_ZONE_COOKIE))
        zone = own or browser
        request.time_zone_source = "member" if own else "browser" if browser else "default"
        if zone is None:
            timezone.deactivate()
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
