"""Public-schema models: who the tenants are and which host names reach them."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants.secrets_at_rest import EncryptedTextField


class Tenant(TenantMixin):
    """A company using Parley. Its conversations live in its own PostgreSQL schema."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the installation's operator (`tenants.services.tenant_suspend`): the widget, the
    # sockets and the API keys stop; the dashboard shows the reason and stays readable.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=300, blank=True)

    # django-tenants creates and migrates the schema when a tenant is first saved.
    auto_create_schema = True
    auto_drop_schema = True

    def __str__(self) -> str:
        return self.slug


class Domain(DomainMixin):
    """A host name that resolves to a tenant (`<slug>.<platform host>`, or the platform host)."""


# What a new site accepts as attachments: safe raster images, PDF, plain text and zip archives.
# SVG is never among them (it is a document that can run scripts), nor any type told from a name.
DEFAULT_ATTACHMENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
)


# What a site may choose to accept: the types Parley tells from their bytes and serves safely
# (images it re-encodes, documents and archives as downloads). Never SVG nor HTML.
ATTACHMENT_TYPES_ALLOWED = (
    *DEFAULT_ATTACHMENT_TYPES,
    "application/gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "video/mp4",
    "video/webm",
)


def default_attachment_types() -> list[str]:
    return list(DEFAULT_ATTACHMENT_TYPES)


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
    # Parley signs with it, so it is kept (encrypted), not hashed: tenants/secrets_at_rest.py
    identity_secret = EncryptedTextField(blank=True)
    color = models.CharField(max_length=7, default="#4f46e5")
    greeting = models.CharField(max_length=300, default="Hi! How can we help?")
    position = models.CharField(max_length=5, choices=Position.choices, default=Position.RIGHT)
    locale = models.CharField(max_length=10, default="en")
    # Agents see the visitor's draft as it is typed (the widget says so to the visitor).
    typing_preview = models.BooleanField(default=False)
    # New conversations go round-robin to the site's online agents.
    auto_assign = models.BooleanField(default=False)
    # A visitor who left an email is sent the conversation's transcript when it is closed.
    transcript_on_close = models.BooleanField(default=False)
    # The widget asks the visitor first and, until they accept, stores nothing in the browser
    # and opens no socket; the session endpoint refuses a session without that consent.
    consent_required = models.BooleanField(default=False)
    consent_text = models.CharField(max_length=1000, blank=True, default="")

    # Business hours (tenants.hours): off, the site is always open. The weekly schedule is
    # `{"mon": [{"start": "09:00", "end": "17:00"}], ...}` in `time_zone`'s wall-clock time.
    class OutOfHours(models.TextChoices):
        OFFLINE_FORM = "offline_form", "Show the offline form (name, email, message)"
        HIDE_LAUNCHER = "hide_launcher", "Hide the widget"
        CHAT = "chat", "Chat as usual"

    class Prechat(models.TextChoices):
        NONE = "none", "Ask nothing"
        NAME_EMAIL = "name_email", "Ask for name and email (optional)"
        EMAIL_REQUIRED = "email_required", "Ask for name and email (email required)"

    time_zone = models.CharField(max_length=64, default="UTC")
    hours_enabled = models.BooleanField(default=False)
    weekly_hours = models.JSONField(default=dict, blank=True)
    closed_dates = ArrayField(models.DateField(), default=list, blank=True)
    away_message = models.CharField(max_length=300, blank=True)
    out_of_hours = models.CharField(
        max_length=16, choices=OutOfHours.choices, default=OutOfHours.OFFLINE_FORM
    )
    # In hours but nobody online (or only away members): offer the offline form too.
    offline_form_when_unavailable = models.BooleanField(default=False)
    # What the widget asks before the first message (tenants.prechat).
    prechat = models.CharField(max_length=16, choices=Prechat.choices, default=Prechat.NONE)
    prechat_fields = models.JSONField(default=list, blank=True)
    # The types of file visitors and agents may attach (as told from the bytes): 415 otherwise.
    attachment_types = ArrayField(
        models.CharField(max_length=100), default=default_attachment_types, blank=True
    )
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


class Webhook(models.Model):
    """An HTTPS endpoint of a tenant that receives signed events (see tenants/webhooks.py).

    Kept in the public schema with the deliveries: the dispatcher finds every due delivery of
    every tenant with one indexed query instead of visiting each tenant's schema.
    """

    class Event(models.TextChoices):
        MESSAGE_CREATED = "message.created"
        CONVERSATION_CREATED = "conversation.created"
        CONVERSATION_CLOSED = "conversation.closed"
        CONVERSATION_RATED = "conversation.rated"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=40, choices=Event.choices))
    # Signs deliveries, so it is kept (encrypted), not hashed: tenants/secrets_at_rest.py
    secret = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # A disabled webhook receives nothing until it is enabled again (`webhook_set_enabled`).
    disabled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.url}"


class WebhookDelivery(models.Model):
    """One event for one webhook: the exact body sent, its attempts, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)  # the same for every webhook receiving the event
    event_type = models.CharField(max_length=40)
    # The JSON that is signed and sent, byte for byte, on every attempt; emptied when the person
    # it is about is erased (`tenants.webhooks.webhook_deliveries_erase`).
    body = models.TextField()
    # Whose personal data the body carries, in the words of the event's source (the chat: a
    # visitor's id), "" for nobody's: erasing that person finds their deliveries by it.
    subject = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # [{"at", "status_code", "error", "duration_ms"}, ...], oldest first
    attempts = models.JSONField(default=list)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(
                fields=["subject"], condition=~models.Q(subject=""), name="webhook_delivery_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.webhook_id}"


class AuditEntry(models.Model):
    """A sensitive change, or an operator's action, with who made it, from where and when
    (`tenants.audit.audit_record`). Kept in the public schema: an operator's entry about a tenant
    outlives the tenant (`tenant` is then NULL and `tenant_slug` still says which it was)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    tenant_slug = models.CharField(max_length=40, blank=True)
    actor_kind = models.CharField(max_length=10)
    actor_label = models.CharField(max_length=254)
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target}"
