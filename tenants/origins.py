"""Origin allow-lists: validating entries when a site is saved, matching a request's Origin.

The one place that knows what an allowed origin is. Used by CORS for the widget HTTP API and by
the chat socket's handshake.

An entry is `scheme://host[:port]` exactly (http or https, no path, no credentials), or
`https://*.example.com`, which allows any subdomain of example.com (not example.com itself).
"""

import re
from urllib.parse import urlsplit

_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^{_HOST_LABEL}(\.{_HOST_LABEL})*$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOrigin(ValueError):
    """An allow-list entry that is not an origin Parley can match."""


def normalize_allowed_origin(entry: str) -> str:
    """Return the canonical form of an allow-list entry, or raise InvalidOrigin saying why."""
    if not isinstance(entry, str) or not entry.strip():
        raise InvalidOrigin("an origin must be a non-empty string")
    raw = entry.strip()
    wildcard = "://*." in raw
    candidate = raw.replace("://*.", "://", 1) if wildcard else raw
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as error:
        raise InvalidOrigin(f"{raw!r} is not a valid origin ({error})") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise InvalidOrigin(f"{raw!r} must start with http:// or https://")
    if parts.username or parts.password:
        raise InvalidOrigin(f"{raw!r} must not carry credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidOrigin(f"{raw!r} must be scheme://host[:port] with no path, query or fragment")
    host = (parts.hostname or "").lower()
    if not (_HOST.match(host) or _IPV4.match(host)):
        raise InvalidOrigin(f"{raw!r} has no valid host name")
    if wildcard:
        if parts.scheme != "https":
            raise InvalidOrigin(f"{raw!r}: subdomain wildcards are allowed only for https")
        if "." not in host or _IPV4.match(host):
            raise InvalidOrigin(f"{raw!r}: a wildcard needs a domain, e.g. *.example.com")
    shown_port = f":{port}" if port is not None and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{'*.' if wildcard else ''}{host}{shown_port}"


def origin_allowed(origin: str | None, allowed_origins: list[str]) -> bool:
    """Whether a browser's `Origin` header value matches one of a site's allow-list entries."""
    if not origin or origin == "null":
        return False
    try:
        canonical = normalize_allowed_origin(origin)
    except InvalidOrigin:
        return False
    if "*" in canonical:  # a page's origin never contains a wildcard
        return False
    scheme, _, host_port = canonical.partition("://")
    wildcard_prefix = f"{scheme}://*."
    for entry in allowed_origins:
        if entry == canonical:
            return True
        if entry.startswith(wildcard_prefix):
            domain = entry[len(wildcard_prefix) :]  # "example.com[:port]"
            if host_port.endswith("." + domain):
                return True
    return False
