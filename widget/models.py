"""Tenant-schema models: the visitors of a tenant's sites and their conversations.

These tables exist once per tenant schema; a row never names another tenant. A site is referred
to by its id (`site_id`) rather than a foreign key, because sites live in the public schema.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# The client_id of every message that came by email (widget/mail/inbound.py): the dashboard marks
# such messages "By email". Only a message's own author chooses its client_id, so no one can
# mark another's message.
EMAIL_CLIENT_ID_PREFIX = "email-"

# The text search configuration of message search: "simple" (no stemming, no stop words), so
# every language a tenant's visitors write in is found word for word.
SEARCH_CONFIG = "simple"


class Visitor(models.Model):
    """Someone on a tenant's site. Anonymous until the tenant's page identifies them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site_id = models.BigIntegerField(db_index=True)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    page_url = models.URLField(max_length=2000, blank=True)
    # What the widget reports of the visitor's browser (PROTOCOL.md, `context`) and what the
    # server derives from it: the user agent parsed, the address's place when a GeoIP database
    # is configured. Shown to agents beside the conversation; never sent to another visitor.
    page_title = models.CharField(max_length=300, blank=True)
    referrer = models.URLField(max_length=2000, blank=True)
    locale = models.CharField(max_length=35, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField(max_length=100, blank=True)
    device = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    # The custom attributes the tenant's page gives to `identify` (plan, company...).
    attributes = models.JSONField(default=dict, blank=True)
    # Set by the unsubscribe link of a conversation email (RFC 8058 one-click): no more emails.
    email_unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # The site's pre-chat form as the visitor answered it: [{"key", "label", "value"}], and when
    # (None: not answered; the widget asks before the first message).
    prechat_answers = models.JSONField(default=list, blank=True)
    prechat_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or str(self.id)

    @property
    def display_name(self) -> str:
        return self.name or f"Visitor {str(self.id)[:6]}"


class Label(models.Model):
    """A tag agents put on conversations ("billing", "bug"); a view of the inbox each."""

    name = models.CharField(max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#64748b")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A saved answer an agent inserts with `/shortcut` in the composer. Its body is message
    text (the messages' markdown subset) and may name variables such as `{{visitor.name|there}}`,
    filled in for the conversation when it is inserted (`widget.canned_variables`)."""

    # Kept in lower case (`/Hello` and `/hello` are one shortcut to type); the constraint holds
    # it whatever writes the row.
    shortcut = models.CharField(max_length=32)
    title = models.CharField(max_length=100)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(Lower("shortcut"), name="unique_canned_reply_shortcut")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


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
    # Hidden from the open views until then; a visitor's message wakes it sooner.
    snoozed_until = models.DateTimeField(null=True, blank=True, db_index=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    # Since when the visitor waits for an answer: their first message after the last agent's
    # reply (None when answered). Drives the unanswered-conversation emails to agents.
    waiting_since = models.DateTimeField(null=True, blank=True, db_index=True)
    waiting_notified_at = models.DateTimeField(null=True, blank=True)
    # The newest visitor message's id (0: none), kept by the message writer's one UPDATE, so that
    # "has unread messages" is `last_visitor_message_id > agent_read_up_to`: a comparison of two
    # columns instead of a look into the messages (the inbox's counts, the tab title).
    last_visitor_message_id = models.BigIntegerField(default=0)
    # The newest agent message emailed to the visitor (0: none): email continuity sends what
    # lies past both this and `visitor_read_up_to`, once (widget/mail/continuity.py).
    emailed_up_to = models.BigIntegerField(default=0)
    # A transcript by email was asked for (by the visitor, an agent, the API or the site's
    # close setting) at this time and sent at that one: due while requested after the last send
    # (widget/mail/transcripts.py).
    transcript_requested_at = models.DateTimeField(null=True, blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "room"], name="unique_room_per_site")
        ]
        indexes = [
            # The inbox: conversations where something was said, most recently active first.
            models.Index(
                models.F("last_message_at").desc(nulls_last=True),
                models.F("id").desc(),
                name="conversation_activity",
                condition=models.Q(last_message_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.room

    @classmethod
    def with_unread(cls) -> models.Q:
        """Conversations holding a visitor message no agent has read."""
        return models.Q(last_visitor_message_id__gt=models.F("agent_read_up_to"))

    @property
    def is_snoozed(self) -> bool:
        """Out of the open views until `snoozed_until` (a snooze that has passed is over)."""
        return self.snoozed_until is not None and self.snoozed_until > timezone.now()


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
    # A private note: written by an agent for the team, never sent to the visitor (nor in the
    # visitor's history); marked `private` in webhooks.
    private = models.BooleanField(default=False)
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
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_room_order"),
            GinIndex(SearchVector("text", config=SEARCH_CONFIG), name="message_search"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.id}"

    @property
    def came_by_email(self) -> bool:
        return (self.client_id or "").startswith(EMAIL_CLIENT_ID_PREFIX)


class Rating(models.Model):
    """What the visitor thought of a closed conversation: 1 to 5 and an optional comment. One
    per conversation (rating again replaces it), with the agent it was assigned to then, so the
    averages per agent and per site read this table alone."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="rating"
    )
    site_id = models.BigIntegerField(db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings",
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.score}"


class Attachment(models.Model):
    """A file a visitor or an agent uploaded into a conversation (widget.attachments).

    Uploaded first (HTTP), then referenced by id in a `message` frame, which links it: until
    then `message` is NULL and only its uploader may send it, in its own conversation. The bytes
    live in the `attachments` storage under `storage_key` (an image re-encoded without its
    metadata, and its thumbnail under `thumbnail_key`); erasure and retention delete them.
    """

    class UploaderKind(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"
        API = "api", "Site-key API"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    uploader_kind = models.CharField(max_length=10, choices=UploaderKind.choices)
    uploader_id = models.CharField(max_length=64)
    # The visitor who uploaded it: erasing them deletes it (with its stored bytes).
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    storage_key = models.CharField(max_length=255)
    # Told from the bytes (widget.attachments.content), never from the name or the client.
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    # The uploader's name for it, made safe to show and to offer as a download name.
    name = models.CharField(max_length=200)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_key = models.CharField(max_length=255, blank=True)
    # Its place among its message's attachments, as the author listed them.
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Unsent uploads, oldest first: what retention deletes.
            models.Index(
                fields=["created_at"],
                name="attachment_unsent",
                condition=models.Q(message__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return bool(self.thumbnail_key)
