"""Tenant-schema models: the visitors of a tenant's sites and their conversations.

These tables exist once per tenant schema; a row never names another tenant. A site is referred
to by its id (`site_id`) rather than a foreign key, because sites live in the public schema.
"""

import uuid

from django.conf import settings
from django.db import models


class Visitor(models.Model):
    """Someone on a tenant's site. Anonymous until the tenant's page identifies them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site_id = models.BigIntegerField(db_index=True)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    page_url = models.URLField(max_length=2000, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or str(self.id)

    @property
    def display_name(self) -> str:
        return self.name or f"Visitor {str(self.id)[:6]}"


class Conversation(models.Model):
    """A room: a visitor's private conversation (`cv_…`) or a public room (any other name)."""

    class Kind(models.TextChoices):
        PRIVATE = "private", "Private conversation"
        PUBLIC = "public", "Public room"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    room = models.CharField(max_length=64)
    site_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRIVATE)
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="conversations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    visitor_read_up_to = models.BigIntegerField(default=0)
    agent_read_up_to = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "room"], name="unique_room_per_site")
        ]

    def __str__(self) -> str:
        return self.room


class Message(models.Model):
    """One chat message. Its id increases within a room (a global sequence does)."""

    class AuthorKind(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Its author's name for it: a resend with the same client_id is stored once. NULL, unlike "",
    # is exempt from the unique constraint: messages sent without a client_id.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author_id = models.CharField(max_length=64, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Per author: one author's client_id never answers for another's message (a visitor
            # who guessed the id a tenant's server will send would otherwise capture it).
            # client_id second: the writer looks a batch's ids up by room and client_id.
            models.UniqueConstraint(
                fields=["conversation", "client_id", "author_kind", "author_id"],
                name="unique_client_id_per_author",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="message_room_order")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.id}"
