"""Forms of the dashboard and of signup: they parse and check input; services do the work."""

import re
import uuid

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from dashboard.availability_fields import (
    closed_dates_parse,
    closed_dates_text,
    day_parse,
    day_text,
    prechat_fields_from_text,
    prechat_fields_text,
)
from dashboard.throttle import login_address_throttle, login_throttle, wait_phrase
from tenants import hours
from tenants.models import DEFAULT_ATTACHMENT_TYPES, Site, Webhook
from tenants.origins import InvalidOrigin, normalize_allowed_origin
from tenants.services import SITE_COLOR_PATTERN, SITE_LOCALE_PATTERN


class SignupForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    slug = forms.CharField(label="Dashboard address", max_length=40)
    email = forms.EmailField(label="Your email")
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = (
            "Lowercase letters, digits and hyphens. Your dashboard will be at "
            f"<address>.{settings.PLATFORM_HOST}."
        )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()


class LoginForm(auth_forms.AuthenticationForm):
    """Email and password, with failed attempts throttled per (tenant, client address, email), and
    per client address over all emails and tenants (one address trying a common password on many
    accounts).

    The email's count belongs to the tenant whose host is signed in to: the same email may be a
    member of several tenants, and a success on one (an attacker's own tenant, signed up with the
    victim's email) must not clear the failures piled up against another."""

    username = auth_forms.UsernameField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def __init__(self, request=None, *args, tenant, client_address: str = "", **kwargs):
        super().__init__(request, *args, **kwargs)
        self.tenant = tenant
        self.client_address = client_address

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()
        self.cleaned_data["username"] = email
        per_email = login_throttle()
        email_key = f"{self.tenant.schema_name}|{self.client_address}|{email}"
        per_address = login_address_throttle()
        if wait := per_email.retry_after(email_key):
            raise ValidationError(
                "Too many failed sign-in attempts for this email. "
                f"Try again in {wait_phrase(wait)}, or reset your password.",
                code="throttled",
            )
        if wait := per_address.retry_after(self.client_address):
            raise ValidationError(
                "Too many failed sign-in attempts from your network. "
                f"Try again in {wait_phrase(wait)}.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            per_email.hit(email_key)
            per_address.hit(self.client_address)
            raise
        # Only the email's count: a sign-in to one's own account must not wipe the failures
        # the same address piled up against other accounts.
        per_email.reset(email_key)
        return cleaned


class OriginsField(forms.CharField):
    """One allowed origin per line; every bad line is reported with its number and reason."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def to_python(self, value) -> list[str]:
        lines = [line.strip() for line in (value or "").splitlines()]
        origins, problems = [], []
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                origin = normalize_allowed_origin(line)
            except InvalidOrigin as error:
                problems.append(f"Line {number}: {error}")
                continue
            if origin not in origins:
                origins.append(origin)
        if problems:
            raise ValidationError(problems)
        return origins

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


# The types a site may accept (tenants.models.ATTACHMENT_TYPES_ALLOWED), by kind, as people
# name them; a test keeps the two lists the same.
ATTACHMENT_TYPE_CHOICES = (
    ("Images", (
        ("image/png", "PNG"), ("image/jpeg", "JPEG"), ("image/gif", "GIF"), ("image/webp", "WebP"),
    )),
    ("Documents", (("application/pdf", "PDF"), ("text/plain", "Plain text"))),
    ("Archives", (
        ("application/zip", "ZIP"), ("application/gzip", "GZIP"), ("application/x-tar", "TAR"),
        ("application/x-7z-compressed", "7-Zip"),
    )),
    ("Audio", (("audio/mpeg", "MP3"), ("audio/ogg", "Ogg"), ("audio/x-wav", "WAV"))),
    ("Video", (("video/mp4", "MP4"), ("video/webm", "WebM"))),
)  # fmt: skip


class GroupedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes under the names of their groups, each group a labelled group of its own."""

    template_name = "dashboard/widgets/grouped_checkboxes.html"


# A day's hours: the section's one explanation describes every day's field.
DAY_INPUT = {"aria-describedby": "hours-help", "spellcheck": "false"}


class SiteForm(forms.Form):
    name = forms.CharField(max_length=200)
    allowed_origins = OriginsField(
        label="Allowed origins",
        error_messages={"required": "Add at least one origin: the widget works only there."},
        help_text="One per line: https://www.example.com, http://localhost:3000, "
        "or https://*.example.com for every subdomain.",
    )
    color = forms.CharField(
        max_length=7, initial="#4f46e5", widget=forms.TextInput(attrs={"type": "color"})
    )
    greeting = forms.CharField(max_length=300, initial="Hi! How can we help?")
    position = forms.ChoiceField(choices=Site.Position.choices, initial=Site.Position.RIGHT)
    locale = forms.CharField(
        max_length=10, initial="en", help_text="A language code: en, fr, pt-BR."
    )
    public_rooms = forms.BooleanField(
        required=False, help_text="Pages may open named rooms that every visitor can join."
    )
    require_identity = forms.BooleanField(
        label="Require verified identity",
        required=False,
        help_text="Visitors must be identified by your server with the identity secret.",
    )
    typing_preview = forms.BooleanField(
        label="Show agents what visitors type",
        required=False,
        help_text="Agents see a visitor's message as it is typed, before it is sent. The widget "
        "tells visitors so, beside the message box.",
    )
    auto_assign = forms.BooleanField(
        label="Assign new conversations to online agents in turn",
        required=False,
        help_text="A conversation's first message goes to the online agent who was given one "
        "longest ago. With nobody online it stays unassigned.",
    )
    transcript_on_close = forms.BooleanField(
        label="Email the transcript when a conversation is closed",
        required=False,
        help_text="Visitors who left an email get the whole conversation by email once it is "
        "closed. They can always ask for it from the widget.",
    )
    consent_required = forms.BooleanField(
        label="Ask visitors for consent before the chat starts",
        required=False,
        help_text="Until a visitor accepts, the widget stores nothing in their browser and "
        "connects to nothing. Declining leaves nothing behind.",
    )
    consent_text = forms.CharField(
        label="Consent text",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the visitor agrees to, in plain words. Empty: the widget's own text, in "
        "the visitor's language.",
    )
    attachment_types = forms.MultipleChoiceField(
        label="Types of file visitors and agents may send",
        choices=ATTACHMENT_TYPE_CHOICES,
        initial=list(DEFAULT_ATTACHMENT_TYPES),
        required=False,
        widget=GroupedCheckboxes,
        error_messages={"invalid_choice": "Parley cannot accept %(value)s files safely."},
        help_text="Parley tells a file's type from its contents, whatever its name. None "
        "checked: nobody can attach files.",
    )

    time_zone = forms.CharField(
        label="Time zone of the hours",
        max_length=64,
        initial="UTC",
        required=False,
        help_text="The zone your hours are in: Europe/Paris, America/New_York. Visitors see "
        "the next opening in their own time.",
    )
    hours_enabled = forms.BooleanField(
        label="Keep business hours",
        required=False,
        help_text="Off: the site is always open.",
    )
    hours_mon = forms.CharField(
        label="Monday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_tue = forms.CharField(
        label="Tuesday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_wed = forms.CharField(
        label="Wednesday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_thu = forms.CharField(
        label="Thursday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_fri = forms.CharField(
        label="Friday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_sat = forms.CharField(
        label="Saturday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    hours_sun = forms.CharField(
        label="Sunday", required=False, max_length=100, widget=forms.TextInput(attrs=DAY_INPUT)
    )
    closed_dates = forms.CharField(
        label="Closed dates",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One date a line, like 2026-12-25.",
    )
    away_message = forms.CharField(
        label="Away message",
        max_length=300,
        required=False,
        help_text="Shown to visitors out of hours or when nobody is online.",
    )
    out_of_hours = forms.ChoiceField(
        label="Out of hours",
        choices=Site.OutOfHours.choices,
        initial=Site.OutOfHours.OFFLINE_FORM,
        required=False,
    )
    offline_form_when_unavailable = forms.BooleanField(
        label="Offer the offline form when nobody is online",
        required=False,
        help_text="In hours too: with every agent away or signed out, visitors leave a message "
        "and their email instead.",
    )
    prechat = forms.ChoiceField(
        label="Before the first message",
        choices=Site.Prechat.choices,
        initial=Site.Prechat.NONE,
        required=False,
    )
    prechat_fields = forms.CharField(
        label="Your own questions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: Label | type | required | options. Types: text, email, number, "
        "select, checkbox. For example: Topic | select | required | Billing, Bugs, Other",
    )

    GROUPS = (
        ("Appearance and behaviour", None),
        ("Attachments", ("attachment_types",)),
        ("Business hours", ("time_zone", "hours_enabled", *(f"hours_{day}" for day in hours.DAYS),
                            "closed_dates", "away_message", "out_of_hours",
                            "offline_form_when_unavailable")),
        ("Pre-chat form", ("prechat", "prechat_fields")),
    )  # fmt: skip

    @classmethod
    def initial_for(cls, site: Site) -> dict:
        """The form's fields filled from a site (the hours and questions as text)."""
        initial = {name: getattr(site, name) for name in cls.base_fields if hasattr(site, name)}
        for day in hours.DAYS:
            initial[f"hours_{day}"] = day_text((site.weekly_hours or {}).get(day, []))
        initial["closed_dates"] = closed_dates_text(site.closed_dates)
        initial["prechat_fields"] = prechat_fields_text(site.prechat_fields or [])
        return initial

    def groups(self) -> list[tuple[str, list]]:
        """The visible fields in the page's sections, in order."""
        named = {name for _, names in self.GROUPS if names for name in names}
        return [
            (
                legend,
                [self[name] for name in names]
                if names
                else [field for field in self.visible_fields() if field.name not in named],
            )
            for legend, names in self.GROUPS
        ]

    def clean_out_of_hours(self) -> str:
        return self.cleaned_data["out_of_hours"] or Site.OutOfHours.OFFLINE_FORM

    def clean_prechat(self) -> str:
        return self.cleaned_data["prechat"] or Site.Prechat.NONE

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip() or "UTC"
        problem = hours.time_zone_problem(name)
        if problem:
            raise ValidationError(f"Use {problem}.")
        return name

    def clean_closed_dates(self) -> list[str]:
        return closed_dates_parse(self.cleaned_data["closed_dates"])

    def clean_prechat_fields(self) -> list[dict]:
        return prechat_fields_from_text(self.cleaned_data["prechat_fields"])

    def clean(self):
        data = super().clean()
        weekly = {}
        for day in hours.DAYS:
            text = data.pop(f"hours_{day}", None)
            if text is None:
                continue  # refused already
            try:
                intervals = day_parse(day, text)
            except ValidationError as error:
                self.add_error(f"hours_{day}", error)
                continue
            if intervals:
                weekly[day] = intervals
        data["weekly_hours"] = weekly
        return data

    def clean_color(self) -> str:
        color = self.cleaned_data["color"]
        if not SITE_COLOR_PATTERN.match(color):
            raise ValidationError("Use a color like #4f46e5.")
        return color.lower()

    def clean_locale(self) -> str:
        locale = self.cleaned_data["locale"].strip()
        if not SITE_LOCALE_PATTERN.match(locale):
            raise ValidationError("Use a language code like en or pt-BR.")
        return locale


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in roles]
        self.fields["role"].initial = Role.AGENT


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def display_name_field() -> forms.CharField:
    """A member's name as the invitation and the profile ask for it."""
    return forms.CharField(
        label="Your name",
        max_length=100,
        help_text="Shown to your team and to visitors beside your replies.",
        error_messages={"required": "Tell your team and your visitors your name."},
    )


class AcceptInvitationForm(auth_forms.SetPasswordForm):
    display_name = display_name_field()
    field_order = ["display_name", "new_password1", "new_password2"]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. “CRM sync”.")


class WebhookForm(forms.Form):
    """The endpoint and its events; the URL is checked by `tenants.services.webhook_create`,
    as for the API."""

    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/parley-events"}),
        help_text="Parley POSTs signed JSON events here.",
    )
    events = forms.MultipleChoiceField(
        choices=Webhook.Event.choices,
        initial=list(Webhook.Event.values),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )


class ReplyForm(forms.Form):
    # May be empty when files go with the reply (`attachments`: ids the composer uploaded).
    text = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a reply…"}),
    )
    # Made when the page is rendered: submitting the same form twice stores the reply once.
    client_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # A note for the team: stored and shown to agents, never sent to the visitor.
    private = forms.BooleanField(required=False, label="Note")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)
        data = args[0] if args else kwargs.get("data")
        self.attachment_ids = tuple(data.getlist("attachments")[:10]) if data else ()

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("text", "").strip() and not self.attachment_ids:
            raise forms.ValidationError("Write a reply first.")
        if any(not ATTACHMENT_ID.fullmatch(value) for value in self.attachment_ids):
            raise forms.ValidationError("A file of this reply is not one you uploaded.")
        return cleaned


ATTACHMENT_ID = re.compile(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(is_active=True).order_by("email")
