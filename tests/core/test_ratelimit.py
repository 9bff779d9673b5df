"""The client address the per-address limits count by: one rule for requests and sockets."""

import pytest
from django.test import RequestFactory

from core.ratelimit import client_address

SOCKET = "198.51.100.1"  # the peer: nginx, or the client itself when no proxy is trusted


def request_with(forwarded_for: str | None):
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=SOCKET, **headers)


def scope_with(forwarded_for: str | None) -> dict:
    headers = [(b"host", b"localhost")]
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    return {"type": "websocket", "client": (SOCKET, 50123), "headers": headers}


CASES = [
    # (trusted proxies, X-Forwarded-For, the client's address)
    (0, None, SOCKET),
    (0, "203.0.113.9", SOCKET),  # no proxy is trusted: the header is the client's word
    (1, None, SOCKET),
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),  # a forged entry, then nginx's
    (2, "10.0.0.1, 203.0.113.9, 192.0.2.4", "203.0.113.9"),  # the load balancer's, then nginx's
    (2, "192.0.2.4", SOCKET),  # fewer entries than proxies: it did not come through them all
]


@pytest.mark.parametrize(("proxies", "forwarded_for", "expected"), CASES)
def test_a_request_is_counted_by_the_address_the_trusted_proxies_saw(
    settings, proxies, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_with(forwarded_for)) == expected


@pytest.mark.parametrize(("proxies", "forwarded_for", "expected"), CASES)
def test_a_socket_is_counted_by_the_same_rule(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(scope_with(forwarded_for)) == expected


def test_a_socket_without_a_peer_address_has_none(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address({"type": "websocket", "client": None, "headers": []}) == ""
