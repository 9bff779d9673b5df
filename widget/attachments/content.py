"""What an uploaded file is, told from its bytes alone, and images made safe to show.

The type is never the file's name nor the client's Content-Type: `filetype` reads the magic
bytes of the binary formats, and a file none of them matches is plain text when it is UTF-8
without control characters, else unknown (`application/octet-stream`). Markup (HTML, SVG) is
text to Parley: it is stored and served as `text/plain`, as a download, never as a document.

Images (PNG, JPEG, GIF, WebP) are decoded and encoded again with Pillow: the orientation their
EXIF data asks for is applied to the pixels, and nothing of their metadata (EXIF, GPS, XMP,
comments, text chunks) is written back. An image over ATTACHMENT_MAX_PIXELS is refused before its
pixels are decoded (a decompression bomb); one Pillow cannot read is refused as unsupported.
"""

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import UnsupportedType

SAFE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"
HEAD_BYTES = 8192
_PILLOW_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
THUMBNAIL_TYPE = "image/webp"


def detect_type(head: bytes) -> str:
    """The content type of a file whose first bytes are `head` (at least HEAD_BYTES of them,
    or the whole file when it is shorter)."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head and _is_text(head):
        return TEXT
    return UNKNOWN


def _is_text(head: bytes) -> bool:
    # The head may end inside a multi-byte character: decode what can be.
    text = head.decode("utf-8", errors="ignore")
    if len(text.encode()) < len(head) - 3:
        return False
    return not any(ord(char) < 32 and char not in "\t\n\r\f" for char in text)


_UNSAFE_NAME = re.compile(r"[^\w .()+,=@\[\]-]", re.UNICODE)


def safe_name(name: str, content_type: str) -> str:
    """The uploader's file name as shown and offered for download: its last path part, no
    control, path or quoting characters, at most 200 characters; `file` when nothing is left.
    The extension is the uploader's; the type Parley serves never depends on it."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 199 - len(extension)] + dot + extension) if dot and stem else name[:200]
    if not name:
        name = "file.txt" if content_type == TEXT else "file"
    return name


@dataclass(frozen=True)
class CleanImage:
    """An image made safe: its encoded bytes, size and thumbnail (WebP)."""

    data: bytes
    width: int
    height: int
    thumbnail: bytes


def image_clean(source: BinaryIO, content_type: str) -> CleanImage:
    """Decode the image, apply its orientation, drop its metadata, encode it again in its own
    format, and make its thumbnail. Runs in the upload's (sync) request thread, never on the
    event loop."""
    max_pixels = settings.ATTACHMENT_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            if image.width * image.height > max_pixels:
                raise UnsupportedType(f"This image is over {max_pixels} pixels.")
            if _PILLOW_FORMATS.get(content_type) != image.format:
                raise UnsupportedType("This image's content does not match its format.")
            frames = getattr(image, "n_frames", 1)
            if frames * image.width * image.height > max_pixels:  # every frame is decoded
                raise UnsupportedType(f"This animation is over {max_pixels} pixels in all.")
            if frames > 1 and content_type in ("image/gif", "image/webp"):
                data = _animated(image, content_type)
                image.seek(0)
                still = image.convert("RGBA")
            else:
                image.load()
                still = ImageOps.exif_transpose(image)
                data = _encode(still, content_type)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedType("This image cannot be read.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedType("This image is damaged.") from None
    thumbnail = still.copy()
    size = settings.ATTACHMENT_THUMBNAIL_PX
    thumbnail.thumbnail((size, size))
    if thumbnail.mode not in ("RGB", "RGBA"):
        thumbnail = thumbnail.convert("RGBA")
    out = io.BytesIO()
    thumbnail.save(out, "WEBP", quality=80)
    return CleanImage(data=data, width=still.width, height=still.height, thumbnail=out.getvalue())


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=True)
    elif content_type == "image/gif":
        image.save(out, "GIF")
    else:
        image.save(out, "WEBP", quality=90)
    return out.getvalue()


def _animated(image: Image.Image, content_type: str) -> bytes:
    """An animated GIF or WebP, frame by frame, without its metadata."""
    frames = []
    durations = []
    for index in range(image.n_frames):
        image.seek(index)
        frames.append(image.convert("RGBA"))
        durations.append(image.info.get("duration", 100))
    out = io.BytesIO()
    fmt = _PILLOW_FORMATS[content_type]
    frames[0].save(
        out,
        fmt,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=image.info.get("loop", 0),
        disposal=2,
    )
    return out.getvalue()
