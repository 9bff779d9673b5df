"""Visitor context (PROTOCOL.md, Visitor context): what the widget reports is validated and
bounded, the user agent is parsed, the address's place comes from a real MaxMind-format
database, and the session endpoint stores it all on the visitor."""

import logging

import pytest
from django_tenants.utils import schema_context
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from pydantic import ValidationError

from tenants.selectors import site_current_key
from tenants.services import site_create
from tests.support.api_clients import PlatformClient, error_code
from widget.models import Visitor
from widget.visitor_context import (
    BrowserContext,
    PageContext,
    attributes_clean,
    place_cache_clear,
    place_of,
    user_agent_parse,
)

ORIGIN = "https://shop.example.com"
CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


# --- validation ---------------------------------------------------------------------------------


def test_a_browser_context_keeps_what_is_valid():
    context = BrowserContext(
        page_url="https://shop.example.com/pricing?plan=pro#faq",
        page_title="  Pricing \n and   plans ",
        referrer="https://www.google.com/",
        locale="de-AT",
        time_zone="Europe/Vienna",
    )
    assert context.page_title == "Pricing and plans"
    assert context.time_zone == "Europe/Vienna"


@pytest.mark.parametrize(
    "fields",
    [
        {"page_url": "javascript:alert(1)"},
        {"page_url": "data:text/html,hi"},
        {"page_url": "https://"},
        {"page_url": "https://shop.example.com/" + "a" * 2000},
        {"page_url": "https://shop.example.com/\nx"},
        {"referrer": "ftp://files.example.com/"},
        {"locale": "de_AT; drop table"},
        {"time_zone": "Mars/Olympus"},
        {"page_url": 42},
    ],
)
def test_a_browser_context_refuses_what_is_not(fields):
    with pytest.raises(ValidationError):
        BrowserContext(**fields)


def test_a_long_title_is_cut_and_a_far_too_long_one_refused():
    assert len(PageContext(page_title="t" * 1000).page_title) == 300
    with pytest.raises(ValidationError):
        PageContext(page_title="t" * 5000)


def test_attributes_are_scalars_and_bounded():
    assert attributes_clean({"plan": "pro", "seats": 12, "trial": False, "mrr": 99.5, "x": None})
    for bad in (
        {"nested": {"a": 1}},
        {"list": [1, 2]},
        {"": "empty key"},
        {"k" * 51: "long key"},
        {"v": "x" * 501},
        {f"k{i}": i for i in range(31)},
        {f"k{i}": "x" * 400 for i in range(15)},  # each fine, 6 KB in all
        "not an object",
    ):
        with pytest.raises(ValueError, match=r"."):
            attributes_clean(bad)


# --- the user agent -----------------------------------------------------------------------------


def test_user_agents_are_parsed_into_browser_os_and_device():
    desktop = user_agent_parse(CHROME_ON_MAC)
    assert desktop.browser == "Chrome 131"
    assert desktop.os.startswith("Mac OS X")
    phone = user_agent_parse(SAFARI_ON_IPHONE)
    assert phone.browser == "Mobile Safari 17"
    assert phone.os == "iOS 17.5"
    assert phone.device == "iPhone"
    assert user_agent_parse("curl/8.5.0").browser.startswith("curl")
    assert user_agent_parse("") == user_agent_parse("")  # cached, and nothing for nothing
    assert user_agent_parse("").browser == ""


# --- the place of an address --------------------------------------------------------------------


def _city_database(path) -> None:
    """A real MaxMind DB file in the GeoIP2-City layout (written by mmdb-writer); the places are
    made up for the test, the format is the one GeoLite2-City files have."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City")
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
            "city": {"names": {"en": "London"}},
        },
    )
    writer.insert_network(
        IPSet(["2001:db8::/32"]),
        {"country": {"iso_code": "AT", "names": {"en": "Austria"}}},
    )
    writer.to_db_file(str(path))


@pytest.fixture
def geoip(tmp_path, settings):
    path = tmp_path / "City.mmdb"
    _city_database(path)
    settings.PARLEY_GEOIP_PATH = str(path)
    place_cache_clear()
    yield path
    place_cache_clear()


def test_a_configured_database_gives_country_and_city(geoip):
    assert place_of("81.2.69.160").country == "United Kingdom"
    assert place_of("81.2.69.160").city == "London"
    assert place_of("2001:db8::1").country == "Austria"
    assert place_of("2001:db8::1").city == ""
    assert place_of("127.0.0.1").country == ""  # not in it
    assert place_of("not an address").country == ""


def test_an_unreadable_database_gives_no_place_and_warns_once(tmp_path, settings, caplog):
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"this is not a MaxMind database")
    for path in (broken, tmp_path / "missing.mmdb"):
        settings.PARLEY_GEOIP_PATH = str(path)
        place_cache_clear()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="widget.visitor_context"):
            assert place_of("81.2.69.160").country == ""
            assert place_of("81.2.69.161").country == ""
        assert len([r for r in caplog.records if "PARLEY_GEOIP_PATH" in r.getMessage()]) == 1
    place_cache_clear()


def test_without_a_database_there_is_no_place(settings):
    settings.PARLEY_GEOIP_PATH = ""
    place_cache_clear()
    assert place_of("81.2.69.160").country == ""


# --- the session endpoint -----------------------------------------------------------------------


@pytest.fixture
def site_key(tenant_a):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=[ORIGIN])
    return site_current_key(site).key


CONTEXT = {
    "page_url": "https://shop.example.com/pricing",
    "page_title": "Pricing",
    "referrer": "https://www.google.com/",
    "locale": "de-AT",
    "time_zone": "Europe/Vienna",
}


@pytest.mark.django_db
@pytest.mark.usefixtures("platform")
def test_the_session_stores_the_context_the_user_agent_the_place_and_attributes(
    tenant_a, site_key, geoip
):
    browser = PlatformClient(
        HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=SAFARI_ON_IPHONE, REMOTE_ADDR="81.2.69.160"
    )
    user = {"id": "u-1", "name": "Greta", "attributes": {"plan": "pro", "seats": 3}}
    response = browser.post_json(
        "/api/widget/v1/session", {"site_key": site_key, "context": CONTEXT, "user": user}
    )
    assert response.status_code == 200, response.content
    assert response.json()["site"]["typing_preview"] is False
    with schema_context(tenant_a.schema_name):
        visitor = Visitor.objects.get(pk=response.json()["visitor_id"])
    assert (visitor.page_url, visitor.page_title) == (CONTEXT["page_url"], "Pricing")
    assert (visitor.referrer, visitor.locale, visitor.time_zone) == (
        "https://www.google.com/",
        "de-AT",
        "Europe/Vienna",
    )
    assert (visitor.browser, visitor.os, visitor.device) == (
        "Mobile Safari 17",
        "iOS 17.5",
        "iPhone",
    )
    assert (visitor.country, visitor.city) == ("United Kingdom", "London")
    assert visitor.attributes == {"plan": "pro", "seats": 3}


@pytest.mark.django_db
@pytest.mark.usefixtures("platform")
@pytest.mark.parametrize(
    "body",
    [
        {"context": {"page_url": "javascript:alert(1)"}},
        {"context": {"time_zone": "Nowhere/Land"}},
        {"context": "https://shop.example.com/"},
        {"user": {"id": "u-1", "attributes": {"nested": {"a": 1}}}},
        {"user": {"id": "u-1", "attributes": {f"k{i}": i for i in range(40)}}},
    ],
)
def test_a_bad_context_or_attributes_is_a_clear_400(site_key, body):
    browser = PlatformClient(HTTP_ORIGIN=ORIGIN)
    response = browser.post_json("/api/widget/v1/session", {"site_key": site_key, **body})
    assert response.status_code == 400, response.content
    assert error_code(response) == "bad_request"
