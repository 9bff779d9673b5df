"""Allow-list entries are validated when saved and matched exactly against a page's Origin."""

import pytest

from tenants.origins import InvalidOrigin, normalize_allowed_origin, origin_allowed


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.com/", "https://shop.example.com"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("https://example.com:443", "https://example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://*.example.com", "https://*.example.com"),
    ],
)
def test_valid_entries_are_normalized(entry, canonical):
    assert normalize_allowed_origin(entry) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "example.com",
        "ftp://example.com",
        "https://example.com/path",
        "https://example.com?q=1",
        "https://user:pw@example.com",
        "http://*.example.com",
        "https://*.com",
        "https://*",
        "https://exa mple.com",
        "https://example.com:99999",
        "javascript:alert(1)",
        "null",
    ],
)
def test_invalid_entries_are_refused_with_a_reason(entry):
    with pytest.raises(InvalidOrigin):
        normalize_allowed_origin(entry)


ALLOWED = ["https://shop.example.com", "http://127.0.0.1:8001", "https://*.acme.io"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example.com", True),
        ("https://shop.example.com:443", True),
        ("http://shop.example.com", False),
        ("https://shop.example.com.evil.net", False),
        ("https://evilshop.example.com", False),
        ("http://127.0.0.1:8001", True),
        ("http://127.0.0.1:8002", False),
        ("https://eu.acme.io", True),
        ("https://a.b.acme.io", True),
        ("https://acme.io", False),
        ("https://evilacme.io", False),
        ("http://eu.acme.io", False),
        ("null", False),
        (None, False),
        ("", False),
    ],
)
def test_origin_matching(origin, allowed):
    assert origin_allowed(origin, ALLOWED) is allowed
