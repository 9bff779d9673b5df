"""The member's profile: name, picture, time zone, notifications and password; pictures served
safely on the tenant's host only; names and pictures on the conversation page."""

import io

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from accounts.avatars import AVATAR_PIXELS, avatar_color, initials
from accounts.models import User
from tests.dashboard.conftest import PASSWORD
from widget.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db

PROFILE = {
    "display_name": "Ada Lovelace",
    "time_zone": "Europe/Paris",
    "notify_sound": "on",
    "notify_unanswered_minutes": "15",
}


def image_upload(*, size=(640, 480), image_format="JPEG", name="me.jpg", exif=True):
    picture = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    options = {}
    if exif and image_format == "JPEG":
        metadata = Image.Exif()
        metadata[0x010F] = "SecretCamera"  # Make
        metadata[0x8825] = {1: "N"}  # a GPS block
        options["exif"] = metadata
    picture.save(out, format=image_format, **options)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_a_member_saves_their_profile_and_is_told_so(tenant_a, owner, tenant_client):
    client = tenant_client(tenant_a, owner)
    page = client.get("/profile/")
    assert page.status_code == 200
    assert 'id="profile-form"' in page.content.decode()
    response = client.post("/profile/", PROFILE, follow=True)
    assert "Your profile is saved." in response.content.decode()
    with tenant_context(tenant_a):
        member = User.objects.get(pk=owner.pk)
    assert member.display_name == "Ada Lovelace"
    assert member.public_name == "Ada Lovelace"
    assert member.time_zone == "Europe/Paris"
    assert member.notify_sound is True
    assert member.notify_desktop is False
    assert member.notify_unanswered_minutes == 15
    # The top bar names the member by their name and links to the profile.
    assert 'id="nav-profile"' in response.content.decode()
    assert ">Ada Lovelace</span>" in response.content.decode()


def test_the_name_is_required_and_never_is_a_choice(tenant_a, owner, tenant_client):
    client = tenant_client(tenant_a, owner)
    response = client.post("/profile/", PROFILE | {"display_name": "   "})
    assert response.status_code == 400
    assert "Tell your team and your visitors your name." in response.content.decode()
    client.post("/profile/", PROFILE | {"notify_unanswered_minutes": ""})
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).notify_unanswered_minutes is None


def test_a_member_without_a_name_is_prompted_for_one(tenant_a, owner, tenant_client):
    client = tenant_client(tenant_a, owner)
    assert 'id="name-prompt"' in client.get("/").content.decode()
    client.post("/profile/", PROFILE)
    assert 'id="name-prompt"' not in client.get("/").content.decode()


def test_an_unknown_time_zone_is_refused(tenant_a, owner, tenant_client):
    response = tenant_client(tenant_a, owner).post(
        "/profile/", PROFILE | {"time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).time_zone == ""


def test_an_uploaded_picture_is_re_encoded_square_without_metadata(
    tenant_a, owner, tenant_client, django_capture_on_commit_callbacks
):
    client = tenant_client(tenant_a, owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/profile/", PROFILE | {"avatar": image_upload()})
    with tenant_context(tenant_a):
        member = User.objects.get(pk=owner.pk)
    assert member.avatar.name.startswith(f"avatars/{tenant_a.schema_name}/")
    url = "/avatars/" + member.avatar.name.rsplit("/", 1)[-1]
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    served = Image.open(io.BytesIO(body))
    assert served.format == "PNG"
    assert served.size == (AVATAR_PIXELS, AVATAR_PIXELS)
    assert not served.getexif()
    assert b"SecretCamera" not in body
    # The page shows it; a visitor's page may too: the picture needs no session.
    assert url in client.get("/profile/").content.decode()
    assert tenant_client(tenant_a).get(url).status_code == 200

    # A new picture replaces the old, which is deleted; removing it goes back to initials.
    old_name = member.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/profile/", PROFILE | {"avatar": image_upload(image_format="PNG")})
    assert not default_storage.exists(old_name)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/profile/", PROFILE | {"remove_avatar": "on"})
    with tenant_context(tenant_a):
        assert not User.objects.get(pk=owner.pk).avatar
    assert "avatar-c" in client.get("/profile/").content.decode()


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (
            SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>", "image/png"),
            "could not be read as an image",
        ),
        (
            SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"),
            "could not be read as an image",
        ),
        (image_upload(image_format="BMP", name="x.bmp", exif=False), "PNG, JPEG, GIF or WebP"),
        (SimpleUploadedFile("big.png", b"\0" * (2 * 1024 * 1024 + 1), "image/png"), "too large"),
    ],
)
def test_what_is_not_a_usable_picture_is_refused(tenant_a, owner, tenant_client, upload, error):
    response = tenant_client(tenant_a, owner).post("/profile/", PROFILE | {"avatar": upload})
    assert response.status_code == 400
    assert error in response.content.decode()
    with tenant_context(tenant_a):
        member = User.objects.get(pk=owner.pk)
    assert not member.avatar
    assert member.display_name == ""  # nothing of the form was saved


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tenant_a, owner, tenant_client):
    bomb = image_upload(size=(6000, 6000), image_format="PNG", name="bomb.png", exif=False)
    assert bomb.size < 2 * 1024 * 1024  # small on disk, 36 megapixels once decoded
    response = tenant_client(tenant_a, owner).post("/profile/", PROFILE | {"avatar": bomb})
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()


def test_pictures_are_served_from_their_own_tenants_host_only(
    tenant_a, tenant_b, owner, tenant_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_client(tenant_a, owner).post("/profile/", PROFILE | {"avatar": image_upload()})
    with tenant_context(tenant_a):
        name = User.objects.get(pk=owner.pk).avatar.name
    url = "/avatars/" + name.rsplit("/", 1)[-1]
    assert tenant_client(tenant_a).get(url).status_code == 200
    assert tenant_client(tenant_b).get(url).status_code == 404
    assert tenant_client(tenant_a).get("/avatars/..%2F..%2Fsecret.png").status_code == 404


def test_a_password_change_keeps_this_session_and_needs_the_old_password(
    tenant_a, owner, tenant_client
):
    client = tenant_client(tenant_a, owner)
    new = "a-brand-new-passphrase-77"
    wrong = client.post(
        "/profile/password/",
        {"old_password": "not-it", "new_password1": new, "new_password2": new},
    )
    assert wrong.status_code == 400
    response = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Your password is changed." in response.content.decode()
    assert client.get("/").status_code == 200  # still signed in here
    assert SESSION_KEY in client.session
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).check_password(new)


def test_the_profile_needs_a_sign_in(tenant_a, tenant_client):
    response = tenant_client(tenant_a).get("/profile/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_initials_and_their_colour_come_from_the_name():
    assert initials("Ada Lovelace") == "AL"
    assert initials("ada") == "A"
    assert initials("jean.paul_sartre") == "JP"
    assert initials("") == "?"
    assert avatar_color("Ada Lovelace") == avatar_color("Ada Lovelace")
    assert {avatar_color(name) for name in ("ann", "bob", "cy", "dee", "eve", "fay")} != {0}


def test_the_conversation_page_shows_each_authors_name_and_picture(
    tenant_a, owner, make_member, tenant_client, django_capture_on_commit_callbacks
):
    client = tenant_client(tenant_a, owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/profile/", PROFILE | {"avatar": image_upload()})
    with tenant_context(tenant_a):
        member = User.objects.get(pk=owner.pk)
        colleague = make_member(tenant_a, "bo@alpha.test")
        visitor = Visitor.objects.create(site_id=1, name="Grace Hopper")
        conversation = Conversation.objects.create(room="cv_people", site_id=1, visitor=visitor)
        for kind, author_id, name, text in [
            ("visitor", str(visitor.pk), "Grace Hopper", "Hello?"),
            ("agent", str(member.pk), "Ada Lovelace", "Hi Grace"),
            ("agent", str(colleague.pk), "bo", "Hi from Bo"),
        ]:
            Message.objects.create(
                conversation=conversation,
                author_kind=kind,
                author_id=author_id,
                author_name=name,
                text=text,
            )
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    avatar = "/avatars/" + member.avatar.name.rsplit("/", 1)[-1]
    assert f'src="{avatar}"' in page
    assert f'avatar-c{avatar_color("Grace Hopper")}" aria-hidden="true">GH</span>' in page
    assert f'avatar-c{avatar_color("bo")}" aria-hidden="true">B</span>' in page
    assert '<span class="author">Ada Lovelace</span>' in page
    assert 'id="team-directory"' in page
    assert 'data-user-name="Ada Lovelace"' in page


def test_the_away_switch_in_the_header_toggles_and_returns_to_the_page(
    tenant_a, owner, tenant_client
):
    client = tenant_client(tenant_a, owner)
    page = client.get("/").content.decode()
    assert 'id="away-switch"' in page
    assert 'aria-pressed="false"' in page

    response = client.post("/profile/away/", {"away": "1", "next": "/sites/"})
    assert response.status_code == 302
    assert response["Location"] == "/sites/"
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).away is True
    page = client.get("/").content.decode()
    assert 'aria-pressed="true"' in page
    assert 'name="away" value="0"' in page

    # Back elsewhere is refused: the switch never redirects off the tenant's host.
    response = client.post("/profile/away/", {"away": "0", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).away is False
    assert client.get("/profile/away/").status_code == 405
