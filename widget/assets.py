"""The built widget, read once per process: the loader served at `/widget.js`, the bundle it
loads from a versioned URL, and the preview the dashboard's site page draws the widget with.

`make widget` builds `frontend-widget/dist/` (esbuild): `widget.js`, the whole widget, and
`loader.js`, a few hundred bytes that run as the page's `<script>` tag. The bundle's URL carries a
hash of its content, so it can be cached for a year; only the loader is short-lived, and a deploy
reaches every page within the loader's max-age. `preview.js` is the widget's view without its
network (`ParleyPreview.mountPreview`) and `markdown.js` its message formatting
(`ParleyMarkdown.render`), both for the dashboard's pages; `emoji.js` is the emoji picker (a
module), with its data in `emoji/<locale>.json`, which the widget and the conversation page
import the first time it is opened. Each is read apart: a build without them still serves the
widget.
"""

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BUILD_DIR = Path(settings.BASE_DIR) / "frontend-widget" / "dist"
BUNDLE_PATH_PLACEHOLDER = b"__PARLEY_BUNDLE_PATH__"
VERSION_LENGTH = 20


class WidgetNotBuiltError(RuntimeError):
    """The build output is missing: `make widget` (run by `make run` and `make test`) builds it."""


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str  # without quotes; the gzip representation's ETag is this plus ".gz"


def _asset(body: bytes, tag: str) -> Asset:
    # mtime=0: the same content always compresses to the same bytes.
    return Asset(body=body, gzipped=gzip.compress(body, compresslevel=9, mtime=0), etag=tag)


def _content_version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:VERSION_LENGTH]


@dataclass(frozen=True)
class WidgetAssets:
    version: str
    bundle: Asset
    loader: Asset

    @property
    def bundle_path(self) -> str:
        return f"/widget/v/{self.version}.js"

    @classmethod
    def from_build(cls, build_dir: Path) -> "WidgetAssets":
        try:
            bundle = (build_dir / "widget.js").read_bytes()
            loader_template = (build_dir / "loader.js").read_bytes()
        except FileNotFoundError as missing:
            raise WidgetNotBuiltError(
                f"the widget is not built ({missing.filename} is missing): run `make widget`"
            ) from missing
        if BUNDLE_PATH_PLACEHOLDER not in loader_template:
            raise WidgetNotBuiltError(f"{build_dir / 'loader.js'} has no bundle path placeholder")
        version = _content_version(bundle)
        loader = loader_template.replace(
            BUNDLE_PATH_PLACEHOLDER, f"/widget/v/{version}.js".encode()
        )
        return cls(
            version=version,
            bundle=_asset(bundle, version),
            loader=_asset(loader, "l" + hashlib.sha256(loader).hexdigest()[:VERSION_LENGTH]),
        )


@functools.cache
def widget_assets() -> WidgetAssets:
    return WidgetAssets.from_build(BUILD_DIR)


def _dashboard_asset(name: str, what: str) -> Asset:
    """A script of the build for the dashboard's pages; its ETag, a hash of its content, is also
    the version its URL carries."""
    try:
        body = (BUILD_DIR / name).read_bytes()
    except FileNotFoundError as missing:
        raise WidgetNotBuiltError(
            f"{what} is not built ({missing.filename} is missing): run `make widget`"
        ) from missing
    return _asset(body, _content_version(body))


@functools.cache
def preview_asset() -> Asset:
    """`preview.js`, the site page's preview of the widget."""
    return _dashboard_asset("preview.js", "the widget's preview")


@functools.cache
def markdown_asset() -> Asset:
    """`markdown.js`, the widget's message formatting for the conversation page."""
    return _dashboard_asset("markdown.js", "the widget's message formatting")


@functools.cache
def conversations_asset() -> Asset:
    """`conversations.js`, the widget's "Your conversations" list: a module the widget imports
    the first time a visitor opens the list, so the first load does not carry it; its ETag, a
    hash of its content, is the version its URL carries (the bundle names it: build.mjs)."""
    return _dashboard_asset("conversations.js", "the widget's conversation list")


LOCALES = ("de", "fr", "es")  # every language of the widget but English, its bundle's own


@functools.cache
def locale_asset(locale: str) -> Asset:
    """One language's words (`dist/locales/<locale>.json`), which the widget fetches when a page
    needs them; its ETag, a hash of its content, is the version its URL carries (the bundle
    names it: build.mjs)."""
    if locale not in LOCALES:
        raise KeyError(locale)
    return _dashboard_asset(f"locales/{locale}.json", f"the widget's {locale} words")


_GZIP_REFUSED = re.compile(r"gzip\s*;\s*q\s*=\s*0(?:\.0*)?\s*(?:,|$)")


def accepts_gzip(accept_encoding: str) -> bool:
    header = accept_encoding.lower()
    return "gzip" in header and not _GZIP_REFUSED.search(header)


@functools.cache
def emoji_asset() -> Asset:
    """`emoji.js`, the emoji picker: a module the widget (on a customer's page) and the
    conversation page import the first time it is opened (the bundle names its hash)."""
    return _dashboard_asset("emoji.js", "the emoji picker")


EMOJI_LOCALES = ("en", *LOCALES)


@functools.cache
def emoji_data_asset(locale: str) -> Asset:
    """One language's emoji, grouped, with their names (`dist/emoji/<locale>.json`), which the
    picker fetches when it is first opened; emoji.js names each by this hash."""
    if locale not in EMOJI_LOCALES:
        raise KeyError(locale)
    return _dashboard_asset(f"emoji/{locale}.json", f"the {locale} emoji")
