"""What agents learn of a visitor's browser (PROTOCOL.md, Visitor context): the page, referrer,
locale and time zone the widget reports, validated; the user agent parsed into browser, OS and
device; the client address's place when an operator configures a GeoLite2 database.

Everything here is bounded: a hostile page can send at most the sizes below, and the parsers'
results are cached because a handful of user agents and addresses make up most sessions.
"""

import functools
import logging
import threading
import zoneinfo
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

import geoip2.database
import orjson
from django.conf import settings
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr
from ua_parser import parse as ua_parse

log = logging.getLogger(__name__)

MAX_URL_CHARS = 2000
MAX_TITLE_CHARS = 300
MAX_LOCALE_CHARS = 35
MAX_TIME_ZONE_CHARS = 64
MAX_USER_AGENT_CHARS = 500
# Custom attributes of `identify`: scalar values only, bounded one by one and all together.
MAX_ATTRIBUTES = 30
MAX_ATTRIBUTE_KEY_CHARS = 50
MAX_ATTRIBUTE_VALUE_CHARS = 500
MAX_ATTRIBUTES_BYTES = 4096


def _http_url(value: str) -> str:
    """An http(s) URL or nothing: a `javascript:` or `data:` URL must never become a link."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http or https URL")
    return value


def _time_zone(value: str) -> str:
    if value and value not in _time_zones():
        raise ValueError("is not an IANA time zone")
    return value


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _no_controls(value: str) -> str:
    if any(ord(char) < 32 for char in value):
        raise ValueError("must not contain control characters")
    return value


HttpUrl = Annotated[
    StrictStr,
    Field(max_length=MAX_URL_CHARS),
    AfterValidator(_no_controls),
    AfterValidator(_http_url),
]
Title = Annotated[
    StrictStr,
    Field(max_length=MAX_TITLE_CHARS * 4),  # longer titles are cut, not refused
    AfterValidator(lambda value: " ".join(value.split())[:MAX_TITLE_CHARS]),
]
Locale = Annotated[StrictStr, Field(max_length=MAX_LOCALE_CHARS, pattern=r"^([A-Za-z0-9-]*)$")]
TimeZone = Annotated[StrictStr, Field(max_length=MAX_TIME_ZONE_CHARS), AfterValidator(_time_zone)]


class PageContext(BaseModel):
    """The page the visitor is on: the session's `context` and the socket's `context` frame."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page_url: HttpUrl = ""
    page_title: Title = ""


class BrowserContext(PageContext):
    """The session's `context`: the page, and what the browser says of itself at start."""

    referrer: HttpUrl = ""
    locale: Locale = ""
    time_zone: TimeZone = ""


def attributes_clean(raw: object) -> dict[str, str | int | float | bool | None]:
    """The custom attributes of `identify`, or ValueError naming what is wrong.

    Keys are 1..50 characters; values are strings (up to 500 characters), numbers, booleans or
    null; at most 30 of them and 4 KiB of JSON in all. Nested objects and lists are refused:
    agents read these as facts beside the conversation, not as documents.
    """
    if not isinstance(raw, dict):
        raise ValueError("attributes must be an object")
    if len(raw) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    clean: dict[str, str | int | float | bool | None] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_ATTRIBUTE_KEY_CHARS:
            raise ValueError(f"an attribute name is 1..{MAX_ATTRIBUTE_KEY_CHARS} characters")
        if isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
                raise ValueError(f"{key}: at most {MAX_ATTRIBUTE_VALUE_CHARS} characters")
        elif value is not None and not isinstance(value, bool | int | float):
            raise ValueError(f"{key}: only text, numbers, true/false or null")
        if isinstance(value, float) and value != value:  # NaN is not JSON
            raise ValueError(f"{key}: not a number")
        clean[key] = value
    if len(orjson.dumps(clean)) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes are at most {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    return clean


# --- The user agent -------------------------------------------------------------------------


@dataclass(frozen=True)
class UserAgent:
    browser: str
    os: str
    device: str


def _version(family: str, major: str | None, minor: str | None = None) -> str:
    if not family or family == "Other":
        return ""
    return " ".join(part for part in (family, ".".join(p for p in (major, minor) if p)) if part)


@functools.lru_cache(maxsize=2048)
def user_agent_parse(user_agent: str) -> UserAgent:
    """Browser, OS and device of a User-Agent header (ua-parser's maintained uap-core rules).

    Cached: the same few strings arrive again and again, and a parse costs about a millisecond.
    """
    result = ua_parse(user_agent[:MAX_USER_AGENT_CHARS])
    browser = os = device = ""
    if result.user_agent is not None:
        browser = _version(result.user_agent.family, result.user_agent.major)
    if result.os is not None:
        os = _version(result.os.family, result.os.major, result.os.minor)
    if result.device is not None and result.device.family not in ("Other", ""):
        device = result.device.family
    return UserAgent(browser=browser[:100], os=os[:100], device=device[:100])


# --- The place of an address ----------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    country: str = ""
    city: str = ""


NOWHERE = Place()
_reader_lock = threading.Lock()
_reader_state: dict[str, object] = {}


def _reader():
    """The GeoIP database reader, opened once; None without a readable database (warned once)."""
    path = settings.PARLEY_GEOIP_PATH
    if not path:
        return None
    with _reader_lock:
        if _reader_state.get("path") != path:
            _reader_state.clear()
            _reader_state["path"] = path
            try:
                _reader_state["reader"] = geoip2.database.Reader(path)
            except Exception as error:  # a missing, unreadable or corrupt file alike
                log.warning(
                    "PARLEY_GEOIP_PATH %s cannot be read, no places are shown: %s", path, error
                )
                _reader_state["reader"] = None
        return _reader_state["reader"]


@functools.lru_cache(maxsize=4096)
def _place(path: str, address: str) -> Place:
    reader = _reader()
    if reader is None:
        return NOWHERE
    try:
        found = reader.city(address)
    except Exception:  # not in the database, not an address, a database of another type
        return NOWHERE
    return Place(
        country=(found.country.name or found.country.iso_code or "")[:100],
        city=(found.city.name or "")[:100],
    )


def place_of(address: str | None) -> Place:
    """The country and city of a client address, from `PARLEY_GEOIP_PATH` (GeoLite2-City or
    GeoIP2-City); no place when none is configured, the file cannot be read or the address is
    not in it."""
    if not address or not settings.PARLEY_GEOIP_PATH:
        return NOWHERE
    return _place(settings.PARLEY_GEOIP_PATH, address)


def place_cache_clear() -> None:
    """Forget the reader and the places (tests point PARLEY_GEOIP_PATH elsewhere)."""
    with _reader_lock:
        _reader_state.clear()
    _place.cache_clear()
