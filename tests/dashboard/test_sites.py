"""Sites in the dashboard: creation and validation, the embed snippet, key rotation and the
identity secret shown once."""

import io
import re

import pytest
from django_tenants.utils import schema_context

from accounts.models import Role
from dashboard.forms import ATTACHMENT_TYPE_CHOICES
from tenants.models import ATTACHMENT_TYPES_ALLOWED, DEFAULT_ATTACHMENT_TYPES, Site
from tenants.selectors import site_current_key
from tenants.site_directory import site_cache_clear
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import SiteFixture, make_visitor
from widget import assets
from widget.models import Conversation

pytestmark = pytest.mark.django_db

GOOD_SITE = {
    "name": "Shop",
    "allowed_origins": "https://shop.example\nhttp://localhost:3000\n\nhttps://*.example.org",
    "color": "#112233",
    "greeting": "Hello there",
    "position": "left",
    "locale": "pt-BR",
    "public_rooms": "on",
}


@pytest.fixture
def client(tenant_a, admin, tenant_client):
    return tenant_client(tenant_a, admin)


def test_an_admin_creates_a_site_and_gets_its_snippet(tenant_a, client):
    response = client.post("/sites/new/", GOOD_SITE)
    assert response.status_code == 302
    site = Site.objects.get(tenant=tenant_a)
    assert response["Location"] == f"/sites/{site.pk}/"
    assert site.allowed_origins == [
        "https://shop.example",
        "http://localhost:3000",
        "https://*.example.org",
    ]
    assert (site.color, site.greeting, site.position, site.locale) == (
        "#112233",
        "Hello there",
        "left",
        "pt-BR",
    )
    assert site.public_rooms is True
    assert site.require_identity is False

    page = client.get(response["Location"]).content.decode()
    key = site_current_key(site).key
    snippet = f'<script src="http://localhost:8000/widget.js" data-site-key="{key}" async></script>'
    assert snippet.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in page


def test_bad_origins_are_reported_line_by_line_and_nothing_is_saved(tenant_a, client):
    response = client.post(
        "/sites/new/",
        GOOD_SITE
        | {
            "allowed_origins": "https://ok.example\nshop.example\nhttps://x.example/path\nftp://a.b"
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Line 2: &#x27;shop.example&#x27; must start with http:// or https://" in body
    assert "Line 3:" in body
    assert "no path" in body
    assert "Line 4:" in body
    assert "Line 1" not in body
    assert not Site.objects.filter(tenant=tenant_a).exists()


def test_a_site_needs_an_origin_and_valid_appearance(tenant_a, client):
    response = client.post(
        "/sites/new/", GOOD_SITE | {"allowed_origins": " \n", "color": "blue", "locale": "?"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Add at least one origin" in body
    assert "Use a color like #4f46e5." in body
    assert "Use a language code like en or pt-BR." in body
    assert not Site.objects.filter(tenant=tenant_a).exists()


def test_editing_a_site_validates_before_saving(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)

    bad = client.post(f"/sites/{site.pk}/", GOOD_SITE | {"allowed_origins": "https://*.com:x"})
    assert bad.status_code == 400
    site.refresh_from_db()
    assert site.allowed_origins[0] == "https://shop.example"

    edited = GOOD_SITE | {
        "name": "Shop EU",
        "allowed_origins": "https://SHOP.example:443/",
        "require_identity": "on",
    }
    edited.pop("public_rooms")
    assert client.post(f"/sites/{site.pk}/", edited).status_code == 302
    site.refresh_from_db()
    assert site.name == "Shop EU"
    assert site.allowed_origins == ["https://shop.example"]  # normalised
    assert site.require_identity is True
    assert site.public_rooms is False


def test_rotating_the_key_keeps_the_old_one_for_the_grace_period(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    old = site_current_key(site)

    response = client.post(f"/sites/{site.pk}/rotate-key/", follow=True)
    assert "New site key issued" in response.content.decode()
    new = site_current_key(site)
    assert new.key != old.key
    old.refresh_from_db()
    assert old.expires_at is not None
    assert old.revoked_at is None
    page = response.content.decode()
    assert f'data-site-key="{new.key}"'.replace('"', "&quot;") in page


def test_the_identity_secret_is_shown_once_after_generating_it(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    assert site.identity_secret not in client.get(f"/sites/{site.pk}/").content.decode()

    response = client.post(f"/sites/{site.pk}/identity-secret/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    site.refresh_from_db()
    assert len(site.identity_secret) >= 64
    assert site.identity_secret in response.content.decode()

    assert site.identity_secret not in client.get(f"/sites/{site.pk}/").content.decode()


def test_an_owner_manages_sites_too(tenant_a, make_member, tenant_client):
    owner = make_member(tenant_a, "boss@alpha.test", Role.OWNER)
    assert tenant_client(tenant_a, owner).post("/sites/new/", GOOD_SITE).status_code == 302


def test_round_robin_is_switched_on_and_off_on_the_site_page(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    assert site.auto_assign is False
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert "Assign new conversations to online agents in turn" in page

    saved = client.post(f"/sites/{site.pk}/", GOOD_SITE | {"auto_assign": "on"}, follow=True)
    site.refresh_from_db()
    assert site.auto_assign is True
    checkbox = re.search(r'<input[^>]*name="auto_assign"[^>]*>', saved.content.decode())
    assert checkbox is not None
    assert "checked" in checkbox.group(0)
    client.post(f"/sites/{site.pk}/", GOOD_SITE)
    site.refresh_from_db()
    assert site.auto_assign is False


@pytest.fixture
def preview_build(tmp_path, monkeypatch):
    """A build folder holding a known preview, read afresh."""
    monkeypatch.setattr(assets, "BUILD_DIR", tmp_path)
    (tmp_path / "preview.js").write_bytes(b"var ParleyPreview={};\n")
    assets.preview_asset.cache_clear()
    yield tmp_path
    assets.preview_asset.cache_clear()


def test_the_site_page_loads_the_widget_preview_under_its_hash(tenant_a, client, preview_build):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    page = client.get(f"/sites/{site.pk}/").content.decode()
    version = assets.preview_asset().etag
    assert f'<script src="/widget/preview/{version}.js" defer></script>' in page
    assert re.search(r'<script src="[^"]*dashboard/site_preview\.js" defer>', page)
    assert 'id="widget-preview"' in page
    assert client.get(f"/widget/preview/{version}.js").status_code == 200


def test_the_new_site_page_previews_the_widget_too(tenant_a, client, preview_build):
    page = client.get("/sites/new/").content.decode()
    version = assets.preview_asset().etag
    assert f'<script src="/widget/preview/{version}.js" defer></script>' in page
    assert 'id="widget-preview"' in page
    refused = client.post("/sites/new/", GOOD_SITE | {"color": "blue"})
    assert refused.status_code == 400
    assert 'id="widget-preview"' in refused.content.decode()


def test_without_a_preview_build_the_site_page_has_its_settings_alone(
    tenant_a, client, preview_build
):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    (preview_build / "preview.js").unlink()
    assets.preview_asset.cache_clear()
    response = client.get(f"/sites/{site.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="site-form"' in page
    assert "widget-preview" not in page
    assert "site_preview.js" not in page
    new = client.get("/sites/new/")
    assert new.status_code == 200
    assert "widget-preview" not in new.content.decode()


def test_the_consent_step_and_its_text_are_set_on_the_site_page(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    assert (site.consent_required, site.consent_text) == (False, "")
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert "Ask visitors for consent before the chat starts" in page

    text = "  We store this chat for 30 days.  "
    client.post(f"/sites/{site.pk}/", GOOD_SITE | {"consent_required": "on", "consent_text": text})
    site.refresh_from_db()
    assert (site.consent_required, site.consent_text) == (True, "We store this chat for 30 days.")

    too_long = client.post(
        f"/sites/{site.pk}/", GOOD_SITE | {"consent_required": "on", "consent_text": "x" * 1001}
    )
    assert too_long.status_code == 400
    site.refresh_from_db()
    assert site.consent_text == "We store this chat for 30 days."


def test_business_hours_and_the_prechat_form_are_edited_on_the_site_page(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert "<legend>Business hours</legend>" in page
    assert "<legend>Pre-chat form</legend>" in page

    hours = {
        "time_zone": "Europe/Paris",
        "hours_enabled": "on",
        "hours_mon": "9:00-12:00, 13:00-17:30",
        "hours_sat": "10:00-14:00",
        "closed_dates": "2026-12-25\n2026-12-24",
        "away_message": "Back at nine.",
        "out_of_hours": "hide_launcher",
        "prechat": "email_required",
        "prechat_fields": "Topic | select | required | Billing, Bugs\nOrder number | number",
    }
    assert client.post(f"/sites/{site.pk}/", GOOD_SITE | hours).status_code == 302
    site.refresh_from_db()
    assert site.weekly_hours == {
        "mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}],
        "sat": [{"start": "10:00", "end": "14:00"}],
    }
    assert [str(day) for day in site.closed_dates] == ["2026-12-24", "2026-12-25"]
    assert (site.time_zone, site.out_of_hours, site.prechat) == (
        "Europe/Paris",
        "hide_launcher",
        "email_required",
    )
    assert [field["key"] for field in site.prechat_fields] == ["topic", "order_number"]
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert 'value="09:00-12:00, 13:00-17:30"' in page
    assert "Topic | select | required | Billing, Bugs" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"hours_tue": "9-17"}, "hours_tue", "HH:MM"),
        ({"hours_tue": "09:00"}, "hours_tue", "as a range"),
        ({"hours_wed": "09:00-12:00, 11:00-13:00"}, "hours_wed", "Intervals overlap."),
        ({"time_zone": "Paris"}, "time_zone", "IANA time zone"),
        ({"closed_dates": "christmas"}, "closed_dates", "not a date"),
        ({"prechat_fields": "Topic | select"}, "prechat_fields", "Line 1: 1 to 20 choices"),
        ({"prechat_fields": "A | text\nB | colour"}, "prechat_fields", "Line 2: the type"),
    ],
)
def test_bad_hours_or_questions_are_shown_beside_their_field(
    tenant_a, client, fields, field, message
):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    response = client.post(f"/sites/{site.pk}/", GOOD_SITE | fields)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    site.refresh_from_db()
    assert site.weekly_hours == {}


def test_the_site_page_chooses_the_types_of_file_people_may_send(tenant_a, client):
    client.post("/sites/new/", GOOD_SITE | {"attachment_types": ["image/png", "application/pdf"]})
    site = Site.objects.get(tenant=tenant_a)
    assert site.attachment_types == ["image/png", "application/pdf"]
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert "<legend>Types of file visitors and agents may send</legend>" in page
    assert re.search(r'value="application/pdf"[^>]*checked', page)
    assert not re.search(r'value="text/plain"[^>]*checked', page)

    chosen = {"attachment_types": ["video/mp4", "audio/ogg", "video/mp4"]}
    assert client.post(f"/sites/{site.pk}/", GOOD_SITE | chosen).status_code == 302
    site.refresh_from_db()
    assert site.attachment_types == ["video/mp4", "audio/ogg"]  # each once

    # None checked: uploads are off.
    assert client.post(f"/sites/{site.pk}/", GOOD_SITE).status_code == 302
    site.refresh_from_db()
    assert site.attachment_types == []


def test_a_new_site_starts_with_the_default_types_checked(client):
    page = client.get("/sites/new/").content.decode()
    for kind in DEFAULT_ATTACHMENT_TYPES:
        assert re.search(rf'value="{re.escape(kind)}"[^>]*checked', page), kind
    assert not re.search(r'value="video/mp4"[^>]*checked', page)


def test_every_type_a_site_may_accept_has_its_checkbox():
    offered = [kind for _, kinds in ATTACHMENT_TYPE_CHOICES for kind, _ in kinds]
    assert sorted(offered) == sorted(ATTACHMENT_TYPES_ALLOWED)


@pytest.mark.parametrize("kind", ["image/svg+xml", "text/html", "application/x-msdownload"])
def test_an_unsafe_type_is_refused_beside_its_field(tenant_a, client, kind):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    before = site.attachment_types
    response = client.post(
        f"/sites/{site.pk}/", GOOD_SITE | {"attachment_types": ["image/png", kind]}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["attachment_types"]
    assert errors == [f"Parley cannot accept {kind} files safely."]
    assert f"Parley cannot accept {kind} files safely." in response.content.decode()
    site.refresh_from_db()
    assert site.attachment_types == before


def test_the_widget_refuses_a_type_the_site_page_turned_off(tenant_a, client, platform):
    client.post("/sites/new/", GOOD_SITE)
    site = Site.objects.get(tenant=tenant_a)
    shop = SiteFixture(
        tenant=tenant_a,
        site=site,
        key=site_current_key(site).key,
        origin="https://shop.example",
    )
    visitor = make_visitor(shop)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # accepted by default
    images_only = {"attachment_types": ["image/png", "image/jpeg"]}
    assert client.post(f"/sites/{site.pk}/", GOOD_SITE | images_only).status_code == 302
    site_cache_clear()

    file = io.BytesIO(pdf)
    file.name = "invoice.pdf"
    refused = PlatformClient().post(
        f"/api/widget/v1/attachments?site_key={shop.key}",
        data={"file": file},
        HTTP_ORIGIN=shop.origin,
        HTTP_AUTHORIZATION=f"Bearer {visitor.token}",
    )
    assert refused.status_code == 415
    assert error_code(refused) == "unsupported_type"


def test_without_types_neither_side_offers_to_attach(tenant_a, client, platform):
    client.post("/sites/new/", GOOD_SITE | {"attachment_types": ["image/png", "application/pdf"]})
    site = Site.objects.get(tenant=tenant_a)
    shop = SiteFixture(
        tenant=tenant_a, site=site, key=site_current_key(site).key, origin="https://shop.example"
    )
    visitor = make_visitor(shop)
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.get(room=visitor.room)
    session = PlatformClient().post(
        "/api/widget/v1/session",
        {"site_key": shop.key},
        content_type="application/json",
        HTTP_ORIGIN=shop.origin,
    )
    assert session.json()["site"]["attachment_types"] == ["image/png", "application/pdf"]
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'accept="image/png,application/pdf"' in page

    assert client.post(f"/sites/{site.pk}/", GOOD_SITE).status_code == 302  # none checked
    site_cache_clear()
    session = PlatformClient().post(
        "/api/widget/v1/session",
        {"site_key": shop.key},
        content_type="application/json",
        HTTP_ORIGIN=shop.origin,
    )
    assert session.json()["site"]["attachment_types"] == []  # the widget shows no clip
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="attach-input"' not in page
    assert 'id="attach-button"' not in page
