"""A tenant's people (owner, admins, agents): the user model and its roles (tenant schema).

Users live in the tenant's own schema, so a login exists only on its own tenant's host.
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"


class AgentManager(UserManager):
    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra_fields)


class User(AbstractUser):
    """A person of the tenant who signs in to the dashboard. The email is the login."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    # The profile (dashboard's /profile/): a picture (initials when none), the zone the
    # dashboard shows times in ("" = the browser's), and how the member wants to be told.
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    notify_sound = models.BooleanField(default=True)
    notify_desktop = models.BooleanField(default=False)
    # Email me about a conversation left unanswered this many minutes (None: never).
    notify_unanswered_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Round-robin assignment gives a new conversation to the online agent assigned longest ago.
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # The member's "Away" switch (the dashboard's header): with a socket open they count as away,
    # not online; visitors are told so and round-robin assignment passes them by.
    away = models.BooleanField(default=False)
    # A pending invitation (is_active False): who sent it and when its current link was made
    # (a resend makes a new one); the team page shows both, and the link's age.
    invited_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = AgentManager()

    def __str__(self) -> str:
        return self.email

    @property
    def public_name(self) -> str:
        return self.display_name or self.email.split("@")[0]
