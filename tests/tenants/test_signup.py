"""Signup on the platform host: a tenant with its schema, its dashboard host and its owner."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Role, User
from accounts.services import tenant_signup
from tenants.models import Domain, Tenant
from tenants.services import public_tenant_ensure

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Acme Widgets",
    "slug": "acme",
    "email": "Founder@Acme.test",
    "password": "correct horse battery staple",
}


@pytest.fixture(autouse=True)
def _platform_host():
    public_tenant_ensure()
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def platform() -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR="203.0.113.7")


def test_signup_creates_the_schema_the_domain_and_the_owner_and_signs_them_in(platform):
    response = platform.post("/signup/", GOOD)

    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme Widgets"
    assert schema_exists("t_acme")
    assert Domain.objects.get(tenant=tenant).domain == "acme.localhost"
    with tenant_context(tenant):
        owner = User.objects.get()
        assert owner.email == "founder@acme.test"
        assert owner.role == Role.OWNER
        assert owner.check_password(GOOD["password"])

    # The redirect is a one-time sign-in link on the new tenant's own host.
    link = response["Location"]
    assert link.startswith("http://acme.localhost:8000/login/link/")
    dashboard = Client(HTTP_HOST="acme.localhost")
    path = link.removeprefix("http://acme.localhost:8000")
    assert dashboard.get(path).status_code == 302
    assert dashboard.get("/").status_code == 200  # signed in on the tenant host
    # The link works once.
    assert Client(HTTP_HOST="acme.localhost").get(path).status_code == 400


def test_a_login_link_is_refused_on_another_tenants_host(platform, tenant_b):
    link = platform.post("/signup/", GOOD)["Location"]
    path = link.removeprefix("http://acme.localhost:8000")
    other = Client(HTTP_HOST="beta.localhost")
    assert other.get(path).status_code == 400
    assert other.get("/").status_code == 302  # not signed in there


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("www", "is reserved"),
        ("admin", "is reserved"),
        ("api", "is reserved"),
        ("demo", "is reserved"),
        ("Bad Slug!", "Use 3 to 40 lowercase letters"),
        ("ab", "Use 3 to 40 lowercase letters"),
        ("1acme", "Use 3 to 40 lowercase letters"),
        ("acme-", "Use 3 to 40 lowercase letters"),
    ],
)
def test_a_bad_or_reserved_slug_is_refused_with_a_clear_error(platform, slug, message):
    response = platform.post("/signup/", GOOD | {"slug": slug})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Tenant.objects.filter(name="Acme Widgets").exists()


def test_a_taken_slug_is_refused(platform, tenant_a):
    response = platform.post("/signup/", GOOD | {"slug": "alpha"})
    assert response.status_code == 400
    assert "“alpha” is already taken" in response.content.decode()
    assert Tenant.objects.filter(slug="alpha").count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short"),
        ("password123", "This password is too common"),
        ("12345678901234", "This password is entirely numeric"),
        ("founder@acme.test", "too similar to the email"),
    ],
)
def test_a_weak_password_is_refused_by_djangos_validators(platform, password, message):
    response = platform.post("/signup/", GOOD | {"password": password})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not schema_exists("t_acme")


def test_a_bad_email_and_a_missing_name_are_refused(platform):
    response = platform.post("/signup/", GOOD | {"email": "not-an-email", "name": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address." in body
    assert "This field is required." in body
    assert not Tenant.objects.filter(slug="acme").exists()


def test_signups_are_rate_limited_per_client_address(platform, settings):
    settings.SIGNUP_RATE_LIMIT = (2, 3600)
    for attempt in ("one", "two"):
        response = platform.post("/signup/", GOOD | {"slug": "www", "name": attempt})
        assert response.status_code == 400  # counted, even when refused for another reason

    response = platform.post("/signup/", GOOD)
    assert response.status_code == 429
    assert "Too many signups from your network" in response.content.decode()
    assert not Tenant.objects.filter(slug="acme").exists()

    # Another address is not affected.
    other = Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.9")
    assert other.post("/signup/", GOOD).status_code == 302


def test_the_signup_page_is_on_the_platform_host_only(platform, tenant_a):
    assert platform.get("/signup/").status_code == 200
    assert Client(HTTP_HOST="alpha.localhost").get("/signup/").status_code == 404


def test_tenant_signup_validates_everything_before_creating_anything():
    with pytest.raises(ValidationError) as caught:
        tenant_signup(name=" ", slug="static", email="x", password="1")
    assert set(caught.value.message_dict) == {"name", "slug", "email", "password"}
    assert not Tenant.objects.filter(slug="static").exists()


# Committed like a real signup: a schema made and dropped inside one test transaction would trip
# over PostgreSQL's pending trigger events.
@pytest.mark.django_db(transaction=True)
def test_a_failed_owner_creation_removes_the_new_tenant_and_its_schema(monkeypatch):
    # A failure with no natural trigger (the database refusing the owner row), forced here.
    def refuse(*args, **kwargs):
        raise RuntimeError("the owner could not be stored")

    monkeypatch.setattr(User.objects, "create_user", refuse)
    with pytest.raises(RuntimeError):
        tenant_signup(**GOOD)
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Domain.objects.filter(domain="acme.localhost").exists()
    assert not schema_exists("t_acme")
