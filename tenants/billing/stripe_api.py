"""The one place that builds Stripe clients and turns Stripe's failures into Parley errors."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import stripe
from django.conf import settings

from core.errors import BillingNotConfigured, PaymentProviderError


def billing_configured() -> bool:
    """Whether Stripe is configured. Without it everyone is on the default plan."""
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    if not billing_configured():
        raise BillingNotConfigured()
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    # STRIPE_API_BASE points tests at localstripe or a stand-in; production leaves it unset.
    base_addresses = {"api": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base_addresses, max_network_retries=2)


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Report any Stripe failure as `PaymentProviderError` (502), keeping the cause chained."""
    try:
        yield
    except stripe.StripeError as error:
        raise PaymentProviderError() from error


def is_not_found(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, stripe.InvalidRequestError) and cause.http_status == 404
