"""The member's profile page: who they are to their team and visitors, and how they are told."""

import zoneinfo
from functools import cache

from django import forms

from accounts.avatars import MAX_UPLOAD_BYTES
from dashboard.forms import display_name_field

# "Email me about a conversation left unanswered for": minutes, or never ("").
UNANSWERED_CHOICES = [
    ("", "Never"),
    ("5", "5 minutes"),
    ("10", "10 minutes"),
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("60", "1 hour"),
    ("120", "2 hours"),
    ("480", "8 hours"),
    ("1440", "1 day"),
]


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this Python knows, with "" first: the browser's own zone."""
    zones = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
    return [("", "My browser's time zone"), *[(zone, zone.replace("_", " ")) for zone in zones]]


class ProfileForm(forms.Form):
    display_name = display_name_field()
    avatar = forms.FileField(
        label="Picture",
        required=False,
        help_text="A PNG, JPEG, GIF or WebP image, at most 2 MB; cut to a square. "
        "Without one, your initials are shown.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label="Remove my picture", required=False)
    time_zone = forms.ChoiceField(label="Time zone", required=False, choices=[])
    notify_sound = forms.BooleanField(
        label="Play a sound for a new conversation or a visitor's message", required=False
    )
    notify_desktop = forms.BooleanField(
        label="Show desktop notifications while the dashboard's tab is hidden", required=False
    )
    notify_unanswered_minutes = forms.TypedChoiceField(
        label="Email me about a conversation left unanswered for",
        choices=UNANSWERED_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Conversations assigned to you; unassigned ones too, when nobody has them.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The picture is too large: at most 2 MB.")
        return upload
