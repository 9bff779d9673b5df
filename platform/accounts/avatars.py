"""Members' pictures: an uploaded image made safe to show, or initials on a colour of the name.

An upload is never stored as sent. Pillow must read it as one of the formats browsers show, it
is turned upright, cut to a centred square, scaled to `AVATAR_PIXELS` and written again as a
fresh PNG: what is stored holds only pixels (no EXIF, GPS, comments or a second payload hidden
behind the image), has a size we chose, and is served with a content type we fixed.
"""

import io
import secrets
from typing import TypedDict

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import BadRequest

AVATAR_PIXELS = 256
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Beyond this many source pixels an upload is refused before it is decoded: a small file can
# claim a huge canvas (a decompression bomb), and decoding it would hold the worker's memory.
MAX_SOURCE_PIXELS = 25_000_000
ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# The number of avatar colours (`.avatar-c0` to `.avatar-c7` in dashboard.css): the dashboard's
# CSP allows no inline style, so a colour is a class.
AVATAR_COLORS = 8


def avatar_image(upload, *, schema_name: str) -> ContentFile:
    """The stored form of an uploaded picture: a square PNG of AVATAR_PIXELS, metadata-free.

    Refuses (BadRequest, with a sentence for the member) what is too large, not an image, or an
    image of a format the dashboard does not take.
    """
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise BadRequest(f"The picture is too large: at most {MAX_UPLOAD_BYTES // 2**20} MB.")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise BadRequest("The picture must be a PNG, JPEG, GIF or WebP image.")
            if probe.width * probe.height > MAX_SOURCE_PIXELS:
                raise BadRequest("The picture has too many pixels: at most 25 megapixels.")
            probe.verify()  # the file's structure, before any pixel is decoded
        with Image.open(io.BytesIO(data)) as source:
            source.seek(0)  # an animation's first frame
            upright = ImageOps.exif_transpose(source)
            square = ImageOps.fit(
                upright.convert("RGBA"), (AVATAR_PIXELS, AVATAR_PIXELS), Image.Resampling.LANCZOS
            )
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise BadRequest("The picture could not be read as an image.") from error
    clean = Image.new("RGBA", square.size)
    clean.paste(square)  # pixels only: nothing of the source's info travels
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    # A new name for every picture (browsers and proxies may keep one for good), in the tenant's
    # own folder (the model's `upload_to` puts it under avatars/).
    return ContentFile(out.getvalue(), name=f"{schema_name}/{avatar_token()}.png")


def avatar_token() -> str:
    return secrets.token_hex(12)


def initials(name: str) -> str:
    """One or two letters standing for a name: "Ada Lovelace" -> "AL", "ada" -> "A"."""
    words = [word for word in name.replace(".", " ").replace("_", " ").split() if word]
    letters = "".join(word[0] for word in words[:2]).upper()
    return letters or "?"


def avatar_color(name: str) -> int:
    """The colour of a name's initials, 0..AVATAR_COLORS-1 (the sum of the name's code points):
    the same name always gets the same."""
    return sum(ord(character) for character in name) % AVATAR_COLORS


class InitialsAvatar(TypedDict):
    initials: str
    color: int


def initials_avatar(name: str) -> InitialsAvatar:
    """What stands for someone without a picture: their name's initials on its colour.

    The one rule: the dashboard draws it at page load (`dashboard/_avatar.html`), and the pages
    that add people live get it computed here, never in the browser: the agent socket's messages
    carry it (`widget.frames.for_agents`), the team directory carries each member's.
    """
    return {"initials": initials(name), "color": avatar_color(name)}


def avatar_storage_name(*, schema_name: str, token: str) -> str:
    """Where a tenant's picture lives in the default storage: one folder per tenant schema, so
    the view that serves them, resolving the tenant from the host, finds no other tenant's."""
    return f"avatars/{schema_name}/{token}.png"


def avatar_url(user) -> str:
    """The path of a member's picture on their tenant's host, or "" without one."""
    if not user.avatar:
        return ""
    return f"/avatars/{user.avatar.name.rsplit('/', 1)[-1]}"
