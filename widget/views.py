"""Serving the widget script: `/widget.js` (the loader), `/widget/v/<version>.js` (the bundle)
and what the bundle fetches when a page needs it (its other languages, its conversation list),
and the widget's scripts for the dashboard's pages, routed on the tenant's host: the site page's
preview (`widget_preview`) and the conversation page's message formatting (`widget_markdown`);
and the emoji picker (`widget_emoji`, with its data: `widget_emoji_data`), on both hosts.

The scripts are plain files for `<script>` tags on other origins: no CORS needed, but
`Cross-Origin-Resource-Policy: cross-origin` so pages that isolate themselves (COEP) can load them.
What the bundle fetches (a JSON file, a module) is open to any origin by CORS.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from widget.assets import (
    Asset,
    WidgetNotBuiltError,
    accepts_gzip,
    conversations_asset,
    emoji_asset,
    emoji_data_asset,
    locale_asset,
    markdown_asset,
    preview_asset,
    widget_assets,
)

LOADER_CACHE = "public, max-age=300"
BUNDLE_CACHE = "public, max-age=31536000, immutable"
JAVASCRIPT = "text/javascript; charset=utf-8"


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _script(
    request: HttpRequest, asset: Asset, cache_control: str, content_type: str = JAVASCRIPT
) -> HttpResponse:
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = f'"{asset.etag}.gz"' if gzipped else f'"{asset.etag}"'
    # Either encoding's tag names the same content: a cache holding one may revalidate with it.
    known = {
        tag.removeprefix("W/").strip('"').removesuffix(".gz") for tag in _if_none_match(request)
    }
    if asset.etag in known or "*" in known:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(asset.gzipped if gzipped else asset.body, content_type=content_type)
        if gzipped:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["Vary"] = "Accept-Encoding"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _if_none_match(request: HttpRequest) -> list[str]:
    header = request.headers.get("If-None-Match", "")
    return ["*"] if header.strip() == "*" else parse_etags(header)


@require_safe
def widget_loader(request: HttpRequest) -> HttpResponse:
    try:
        assets = widget_assets()
    except WidgetNotBuiltError as error:
        return _error(503, "widget_not_built", str(error))
    return _script(request, assets.loader, LOADER_CACHE)


@require_safe
def widget_bundle(request: HttpRequest, version: str) -> HttpResponse:
    try:
        assets = widget_assets()
    except WidgetNotBuiltError as error:
        return _error(503, "widget_not_built", str(error))
    if version != assets.version:
        return _error(404, "not_found", f"no widget bundle has version {version}")
    return _script(request, assets.bundle, BUNDLE_CACHE)


def _hashed_script(
    request: HttpRequest, read: Callable[[], Asset], what: str, version: str
) -> HttpResponse:
    """A script of the widget's build other than the bundle, served like it under its content's
    hash (so cached for a year). The dashboard's pages load theirs from the tenant's host, whose
    pages allow scripts of their own origin only (dashboard.middleware)."""
    try:
        asset = read()
    except WidgetNotBuiltError as error:
        return _error(503, "widget_not_built", str(error))
    if version != asset.etag:
        return _error(404, "not_found", f"no {what} has version {version}")
    return _script(request, asset, BUNDLE_CACHE)


def _public_module(
    request: HttpRequest, read: Callable[[], Asset], what: str, version: str
) -> HttpResponse:
    """A module the widget imports from a customer's page: a module script of another origin is
    fetched with CORS, so its answer is open to any origin (it is the widget's public code and
    the fetch carries no credentials)."""
    response = _hashed_script(request, read, what, version)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _public_json(
    request: HttpRequest, read: Callable[[str], Asset], locale: str, what: str, version: str
) -> HttpResponse:
    """A file of the build read from customers' pages (fetched from there: CORS open to any
    origin, as its content is public and the fetch carries no credentials), under its hash."""
    try:
        asset = read(locale)
    except KeyError:
        return _error(404, "not_found", f"the widget has no {what} in {locale}")
    except WidgetNotBuiltError as error:
        return _error(503, "widget_not_built", str(error))
    if version != asset.etag:
        return _error(404, "not_found", f"no {locale} {what} have version {version}")
    response = _script(request, asset, BUNDLE_CACHE, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def widget_locale(request: HttpRequest, locale: str, version: str) -> HttpResponse:
    """A language's words for the widget on a customer's page."""
    return _public_json(request, locale_asset, locale, "words", version)


@require_safe
def widget_emoji(request: HttpRequest, version: str) -> HttpResponse:
    """The emoji picker, a module imported the first time it is opened: by the widget from the
    platform's host, by the conversation page from the tenant's."""
    return _public_module(request, emoji_asset, "emoji picker", version)


@require_safe
def widget_conversations(request: HttpRequest, version: str) -> HttpResponse:
    """The widget's "Your conversations" module, imported the first time the list opens."""
    return _public_module(request, conversations_asset, "conversation list", version)


@require_safe
def widget_emoji_data(request: HttpRequest, locale: str, version: str) -> HttpResponse:
    """A language's emoji, grouped and named, for the picker."""
    return _public_json(request, emoji_data_asset, locale, "emoji", version)


@require_safe
def widget_preview(request: HttpRequest, version: str) -> HttpResponse:
    """The widget's view without its network, for the dashboard's site page."""
    return _hashed_script(request, preview_asset, "widget preview", version)


@require_safe
def widget_markdown(request: HttpRequest, version: str) -> HttpResponse:
    """The widget's message formatting (`ParleyMarkdown`), for the dashboard's conversation page."""
    return _hashed_script(request, markdown_asset, "widget message formatting", version)
