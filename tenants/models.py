"""Public-schema models: who the tenants are and which host names reach them."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A company using Parley. Its conversations live in its own PostgreSQL schema."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # django-tenants creates and migrates the schema when a tenant is first saved.
    auto_create_schema = True
    auto_drop_schema = True

    def __str__(self) -> str:
        return self.slug


class Domain(DomainMixin):
    """A host name that resolves to a tenant (`<slug>.<platform host>`, or the platform host)."""


class Site(models.Model):
    """A website of a tenant that embeds the widget. Named publicly by its site key."""

    class Position(models.TextChoices):
        RIGHT = "right", "Bottom right"
        LEFT = "left", "Bottom left"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    allowed_origins = ArrayField(models.CharField(max_length=300), default=list)
    public_rooms = models.BooleanField(default=False)
    require_identity = models.BooleanField(default=False)
    identity_secret = models.CharField(max_length=128, blank=True)
    color = models.CharField(max_length=7, default="#4f46e5")
    greeting = models.CharField(max_length=300, default="Hi! How can we help?")
    position = models.CharField(max_length=5, choices=Position.choices, default=Position.RIGHT)
    locale = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.name}"


class SiteKey(models.Model):
    """A public key naming a site. Rotation keeps the old key live until `expires_at`."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class ApiKey(models.Model):
    """A tenant's secret key for `/api/v1/`. Only its SHA-256 digest is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}…"
