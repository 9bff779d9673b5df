"""Operators' sign-in: email, password and a TOTP code, every time; throttled per address and per
email like the dashboard's sign-in; the session names the operator and the password it was opened
with, so a new password ends every other session."""

import hashlib
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.ratelimit import CacheWindow
from operators.models import Operator

SESSION_KEY = "parley_operator"
SESSION_SECONDS = 8 * 3600
TOTP_WINDOW = 1  # the code of the previous and the next 30 s step are accepted too (clock drift)


def failures_by_address() -> CacheWindow:
    return CacheWindow("operator-login-address", *settings.LOGIN_ADDRESS_FAILURE_LIMIT)


def failures_by_email() -> CacheWindow:
    return CacheWindow("operator-login", *settings.LOGIN_FAILURE_LIMIT)


def totp_uri(operator: Operator) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(operator.totp_secret).provisioning_uri(
        name=operator.email, issuer_name=f"Parley {settings.PLATFORM_HOST}"
    )


def _session_stamp(operator: Operator) -> str:
    return hashlib.sha256(f"{operator.pk}:{operator.password}".encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    operator: Operator | None
    wait_seconds: int = 0  # past a throttle: how long to wait


def authenticate(*, email: str, password: str, code: str, address: str) -> SignIn:
    """The operator these credentials sign in, or None; failures are counted, a throttled
    address or email is refused before anything is checked."""
    email = email.strip().lower()
    by_address, by_email = failures_by_address(), failures_by_email()
    wait = max(by_address.retry_after(address), by_email.retry_after(email))
    if wait:
        return SignIn(None, wait)
    operator = _verified(email, password, code)
    if operator is None:
        by_address.hit(address)
        by_email.hit(email)
        return SignIn(None)
    by_email.reset(email)
    return SignIn(operator)


@transaction.atomic
def _verified(email: str, password: str, code: str) -> Operator | None:
    operator = Operator.objects.select_for_update().filter(email=email, is_active=True).first()
    if operator is None:
        Operator(password="").check_password(password)  # the same work as for a real one
        return None
    if not operator.check_password(password):
        return None
    step = _accepted_step(operator, code.strip().replace(" ", ""))
    if step is None:
        return None
    operator.totp_last_step = step
    operator.last_login_at = timezone.now()
    operator.save(update_fields=["totp_last_step", "last_login_at"])
    return operator


def _accepted_step(operator: Operator, code: str) -> int | None:
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(operator.totp_secret)
    now = timezone.now()
    current = totp.timecode(now)
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        step = current + offset
        if step > operator.totp_last_step and pyotp.utils.strings_equal(
            totp.generate_otp(step), code
        ):
            return step
    return None


def session_open(request, operator: Operator) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[SESSION_KEY] = {"id": operator.pk, "stamp": _session_stamp(operator)}
    request.session.set_expiry(SESSION_SECONDS)


def session_operator(request) -> Operator | None:
    opened = request.session.get(SESSION_KEY)
    if not isinstance(opened, dict):
        return None
    operator = Operator.objects.filter(pk=opened.get("id"), is_active=True).first()
    if operator is None or opened.get("stamp") != _session_stamp(operator):
        return None
    return operator


def session_close(request) -> None:
    request.session.flush()
