"""Serving the widget: `/widget.js` (short-lived loader) and `/widget/v/<version>.js` (the
immutable bundle), on the platform host; the site page's preview (`/widget/preview/<version>.js`)
and the conversation page's message formatting (`/widget/markdown/<version>.js`) on a tenant's
host; the emoji picker (`/widget/emoji/<version>.js` and its data) on both."""

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tenants.services import public_tenant_ensure
from widget import assets
from widget.assets import WidgetAssets, WidgetNotBuiltError, accepts_gzip

pytestmark = pytest.mark.django_db

BUNDLE = b'(()=>{console.log("parley bundle")})();\n'
LOADER = b'(()=>{var s=document.currentScript;load("__PARLEY_BUNDLE_PATH__",s)})();\n'
VERSION = hashlib.sha256(BUNDLE).hexdigest()[:20]
PREVIEW = b"var ParleyPreview=(()=>{return{mountPreview(){}}})();\n"
PREVIEW_VERSION = hashlib.sha256(PREVIEW).hexdigest()[:20]
MARKDOWN = b"(()=>{window.ParleyMarkdown={render(){}}})();\n"
MARKDOWN_VERSION = hashlib.sha256(MARKDOWN).hexdigest()[:20]


@pytest.fixture(autouse=True)
def build(tmp_path, monkeypatch):
    """A build folder with a known bundle, read afresh for each test."""
    (tmp_path / "widget.js").write_bytes(BUNDLE)
    (tmp_path / "loader.js").write_bytes(LOADER)
    (tmp_path / "preview.js").write_bytes(PREVIEW)
    (tmp_path / "markdown.js").write_bytes(MARKDOWN)
    monkeypatch.setattr(assets, "BUILD_DIR", tmp_path)
    _read_anew()
    yield tmp_path
    _read_anew()


def _read_anew() -> None:
    assets.widget_assets.cache_clear()
    assets.preview_asset.cache_clear()
    assets.markdown_asset.cache_clear()
    assets.locale_asset.cache_clear()
    assets.emoji_asset.cache_clear()
    assets.emoji_data_asset.cache_clear()
    assets.conversations_asset.cache_clear()


@pytest.fixture
def platform():
    """A client on the platform host (public schema), as a browser loading the embed tag."""
    public_tenant_ensure()
    return Client(HTTP_HOST=settings.PLATFORM_HOST)


def test_loader_is_short_lived_javascript_that_names_the_versioned_bundle(platform):
    response = platform.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert re.fullmatch(r'"l[0-9a-f]{20}"', response["ETag"])
    body = response.content
    assert f"/widget/v/{VERSION}.js".encode() in body
    assert b"__PARLEY_BUNDLE_PATH__" not in body


def test_bundle_is_cached_for_a_year_under_its_content_hash(platform):
    response = platform.get(f"/widget/v/{VERSION}.js")
    assert response.status_code == 200
    assert response.content == BUNDLE
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{VERSION}"'
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/widget.js", f"/widget/v/{VERSION}.js"])
def test_if_none_match_with_the_current_etag_answers_304(platform, path):
    etag = platform.get(path)["ETag"]
    response = platform.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == platform.get(path)["Cache-Control"]
    assert platform.get(path, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert platform.get(path, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_new_build_changes_the_version_and_the_loader_etag(platform, build):
    before = platform.get("/widget.js")
    (build / "widget.js").write_bytes(BUNDLE + b"// changed\n")
    assets.widget_assets.cache_clear()
    after = platform.get("/widget.js")
    assert after["ETag"] != before["ETag"]
    assert platform.get("/widget.js", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert platform.get(f"/widget/v/{VERSION}.js").status_code == 404


def test_gzip_when_the_browser_accepts_it(platform):
    response = platform.get(f"/widget/v/{VERSION}.js", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == BUNDLE
    assert response["ETag"] == f'"{VERSION}.gz"'
    # The identity representation's tag revalidates the gzip one, and the other way round.
    assert (
        platform.get(
            f"/widget/v/{VERSION}.js",
            HTTP_ACCEPT_ENCODING="gzip",
            HTTP_IF_NONE_MATCH=f'"{VERSION}"',
        ).status_code
        == 304
    )
    plain = platform.get(f"/widget/v/{VERSION}.js", HTTP_ACCEPT_ENCODING="gzip;q=0, br")
    assert "Content-Encoding" not in plain
    assert plain.content == BUNDLE


def test_accepts_gzip_reads_quality_values():
    assert accepts_gzip("gzip")
    assert accepts_gzip("br, gzip;q=0.5")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("deflate, br")
    assert not accepts_gzip("")


def test_unknown_version_is_404_with_an_error_body(platform):
    response = platform.get("/widget/v/0123456789abcdef0123.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response["Cache-Control"] == "no-store"


def test_only_safe_methods(platform):
    assert platform.post("/widget.js").status_code == 405
    assert platform.head("/widget.js").status_code == 200


def test_missing_build_is_a_clear_503(platform, build):
    (build / "widget.js").unlink()
    assets.widget_assets.cache_clear()
    response = platform.get("/widget.js")
    assert response.status_code == 503
    assert "make widget" in response.json()["error"]["message"]
    with pytest.raises(WidgetNotBuiltError):
        WidgetAssets.from_build(build)


def test_the_real_build_is_served_and_within_the_size_budget(platform, real_build):
    """The esbuild output of frontend-widget/ (built by `make widget` before the suite)."""
    loader = platform.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip")
    assert loader.status_code == 200, "run `make widget` to build the widget"
    version = assets.widget_assets().version
    assert f"/widget/v/{version}.js".encode() in gzip.decompress(loader.content)
    bundle = platform.get(f"/widget/v/{version}.js", HTTP_ACCEPT_ENCODING="gzip")
    assert len(bundle.content) + len(loader.content) <= 25 * 1024
    # Nothing a strict CSP (no 'unsafe-eval', no 'unsafe-inline') would block.
    code = gzip.decompress(bundle.content) + gzip.decompress(loader.content)
    for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML", b".style."):
        assert forbidden not in code, forbidden


@pytest.fixture
def real_build(monkeypatch) -> Path:
    """`make widget`'s own build (frontend-widget/dist), read afresh, in place of the test's."""
    built = Path(assets.__file__).resolve().parents[1] / "frontend-widget" / "dist"
    monkeypatch.setattr(assets, "BUILD_DIR", built)
    _read_anew()
    return built


@pytest.fixture
def dashboard(tenant_a):
    """A client on a tenant's host, where the dashboard's site page loads the preview."""
    return Client(HTTP_HOST=f"{tenant_a.slug}.localhost")


def test_the_preview_is_served_on_the_tenant_host_under_its_content_hash(dashboard):
    path = f"/widget/preview/{PREVIEW_VERSION}.js"
    response = dashboard.get(path)
    assert response.status_code == 200
    assert response.content == PREVIEW
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{PREVIEW_VERSION}"'
    assert dashboard.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    zipped = dashboard.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert gzip.decompress(zipped.content) == PREVIEW
    assert dashboard.post(path).status_code == 405


def test_a_preview_of_another_build_is_404_and_a_missing_one_503(dashboard, build):
    stale = dashboard.get(f"/widget/preview/{VERSION}.js")
    assert stale.status_code == 404
    assert stale.json()["error"]["code"] == "not_found"
    (build / "preview.js").unlink()
    _read_anew()
    missing = dashboard.get(f"/widget/preview/{PREVIEW_VERSION}.js")
    assert missing.status_code == 503
    assert missing.json()["error"]["code"] == "widget_not_built"
    assert "make widget" in missing.json()["error"]["message"]


def test_the_widget_is_served_without_a_preview_build(platform, build):
    """The preview is read apart: a build without it still serves the customers' widget."""
    (build / "preview.js").unlink()
    _read_anew()
    assert platform.get("/widget.js").status_code == 200
    assert platform.get(f"/widget/v/{VERSION}.js").status_code == 200


def test_the_real_preview_is_built_apart_from_the_budget_and_talks_to_nobody(dashboard, real_build):
    """dist/preview.js holds the widget's view for the dashboard: like the bundle, nothing a
    strict CSP blocks, and none of the widget's network code (no socket, no fetch)."""
    version = assets.preview_asset().etag
    response = dashboard.get(f"/widget/preview/{version}.js")
    assert response.status_code == 200, "run `make widget` to build the widget"
    code = response.content
    assert code.startswith(b"var ParleyPreview=")
    for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML", b".style."):
        assert forbidden not in code, forbidden
    for network in (b"WebSocket", b"fetch(", b"XMLHttpRequest", b"sendBeacon", b"/api/widget"):
        assert network not in code, network
    # The preview's own rules reach preview.js alone: the widget's first load carries none.
    assert b":host(.preview)" in code
    assert b":host(.preview" not in (real_build / "widget.js").read_bytes()
    size = json.loads((real_build / "size.json").read_text())
    assert size["preview"]["raw"] == len(code)
    assert size["gzip"] <= size["limit"]


def test_the_message_formatting_is_served_on_the_tenant_host_under_its_content_hash(
    dashboard, platform, build
):
    path = f"/widget/markdown/{MARKDOWN_VERSION}.js"
    response = dashboard.get(path)
    assert response.status_code == 200
    assert response.content == MARKDOWN
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert dashboard.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert dashboard.post(path).status_code == 405
    stale = dashboard.get(f"/widget/markdown/{PREVIEW_VERSION}.js")
    assert stale.status_code == 404
    assert stale.json()["error"]["code"] == "not_found"
    (build / "markdown.js").unlink()
    _read_anew()
    missing = dashboard.get(path)
    assert missing.status_code == 503
    assert missing.json()["error"]["code"] == "widget_not_built"
    # Read apart: a build without it still serves the customers' widget.
    assert platform.get(f"/widget/v/{VERSION}.js").status_code == 200


def test_the_real_message_formatting_is_built_apart_from_the_budget(dashboard, real_build):
    """dist/markdown.js is the widget's markdown.js alone for the dashboard: nothing a strict
    CSP blocks, nothing that parses HTML, none of the widget's network code."""
    version = assets.markdown_asset().etag
    response = dashboard.get(f"/widget/markdown/{version}.js")
    assert response.status_code == 200, "run `make widget` to build the widget"
    code = response.content
    assert b"window.ParleyMarkdown" in code
    for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML", b".style."):
        assert forbidden not in code, forbidden
    for network in (b"WebSocket", b"fetch(", b"XMLHttpRequest", b"sendBeacon", b"/api/widget"):
        assert network not in code, network
    size = json.loads((real_build / "size.json").read_text())
    assert size["markdown"]["raw"] == len(code)
    assert size["markdown"]["gzip"] < 4 * 1024


def test_the_real_build_fetches_other_languages_under_their_content_hash(platform, real_build):
    """The bundle carries English only; each other language is dist/locales/<locale>.json,
    named in the bundle by the hash it is served under, cached for a year and readable from any
    customer's page (CORS *, no credentials)."""
    bundle = platform.get(f"/widget/v/{assets.widget_assets().version}.js").content
    assert b"Chat \xc3\xb6ffnen" not in bundle  # German words are not in the first load
    for locale in assets.LOCALES:
        version = assets.locale_asset(locale).etag
        assert version.encode() in bundle, f"the bundle names {locale}'s words"
        answer = platform.get(
            f"/widget/locales/{locale}.{version}.json", HTTP_ORIGIN="https://shop.test"
        )
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/json"
        assert answer["Access-Control-Allow-Origin"] == "*"
        assert answer["Cache-Control"] == "public, max-age=31536000, immutable"
        words = json.loads(answer.content)
        assert words["send"]
        assert words["send"] != "Send"
    assert (
        json.loads(platform.get(f"/widget/locales/de.{'0' * 20}.json").content)["error"]["code"]
        == "not_found"
    )
    assert platform.get(f"/widget/locales/xx.{'0' * 20}.json").status_code == 404


def test_the_real_build_loads_the_emoji_picker_when_it_is_opened(platform, dashboard, real_build):
    """dist/emoji.js is no part of the first load: the bundle names it by its content hash, and
    it names each language's data the same way. Both hosts serve both, cached for a year; the
    data is readable from any customer's page (CORS *, no credentials)."""
    bundle = platform.get(f"/widget/v/{assets.widget_assets().version}.js").content
    picker = assets.emoji_asset()
    assert b"/widget/emoji/" in bundle  # imported from there when it is opened
    assert picker.etag.encode() in bundle
    assert b"Recently used" not in bundle  # the picker's own words are in its script
    for client in (platform, dashboard):
        script = client.get(f"/widget/emoji/{picker.etag}.js")
        assert script.status_code == 200, "run `make widget` to build the widget"
        assert script["Content-Type"] == "text/javascript; charset=utf-8"
        assert script["Cache-Control"] == "public, max-age=31536000, immutable"
        assert script["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert script["Access-Control-Allow-Origin"] == "*"  # a module from another origin
        code = script.content
        assert b"export{" in code
        for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML"):
            assert forbidden not in code, forbidden
        for locale in assets.EMOJI_LOCALES:
            version = assets.emoji_data_asset(locale).etag
            assert version.encode() in code, f"the picker names the {locale} emoji"
            answer = client.get(
                f"/widget/emoji/{locale}.{version}.json", HTTP_ORIGIN="https://shop.test"
            )
            assert answer.status_code == 200
            assert answer["Content-Type"] == "application/json"
            assert answer["Access-Control-Allow-Origin"] == "*"
            assert answer["Cache-Control"] == "public, max-age=31536000, immutable"
            groups = json.loads(answer.content)["groups"]
            assert [group["key"] for group in groups] == [
                "smileys-emotion", "people-body", "animals-nature", "food-drink",
                "travel-places", "activities", "objects", "symbols", "flags",
            ]  # fmt: skip
            grinning = groups[0]["emoji"][0]
            assert grinning[0] == "😀"
            assert grinning[1]  # its name, in the language, for the search
    german = json.loads(
        platform.get(f"/widget/emoji/de.{assets.emoji_data_asset('de').etag}.json").content
    )
    assert german["groups"][0]["emoji"][0][1] == "grinsendes Gesicht"
    assert platform.get(f"/widget/emoji/{'0' * 20}.js").status_code == 404
    assert platform.get(f"/widget/emoji/en.{'0' * 20}.json").status_code == 404
    assert platform.get(f"/widget/emoji/xx.{'0' * 20}.json").status_code == 404
    size = json.loads((real_build / "size.json").read_text())
    assert size["emoji"]["raw"] == len(code)
    assert size["gzip"] <= size["limit"]


def test_a_build_without_the_emoji_picker_still_serves_the_widget(platform, dashboard, build):
    assert platform.get(f"/widget/v/{VERSION}.js").status_code == 200
    missing = dashboard.get(f"/widget/emoji/{'0' * 20}.js")
    assert missing.status_code == 503
    assert missing.json()["error"]["code"] == "widget_not_built"
    assert platform.get(f"/widget/emoji/en.{'0' * 20}.json").status_code == 503


def test_the_real_build_imports_the_conversation_list_under_its_content_hash(platform, real_build):
    """ "Your conversations" is not in the first load: dist/conversations.js, a module the bundle
    imports by the hash it is served under, cached for a year and importable from any customer's
    page (a module of another origin is fetched with CORS)."""
    bundle = platform.get(f"/widget/v/{assets.widget_assets().version}.js").content
    assert b"noConversations" in bundle  # its words are English's, in the bundle
    assert b".convs" not in bundle  # its styles (and code) are not
    version = assets.conversations_asset().etag
    assert version.encode() in bundle, "the bundle names the module it imports"
    answer = platform.get(
        f"/widget/chunks/conversations.{version}.js",
        HTTP_ORIGIN="https://shop.test",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer["Content-Encoding"] == "gzip"
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert answer["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert answer["Cache-Control"] == "public, max-age=31536000, immutable"
    code = gzip.decompress(answer.content)
    assert b"export" in code
    # It draws what the widget hands it: no network of its own, no markup from text.
    for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML", b".style."):
        assert forbidden not in code, forbidden
    for network in (b"WebSocket", b"fetch(", b"XMLHttpRequest", b"sendBeacon", b"/api/widget"):
        assert network not in code, network
    size = json.loads((real_build / "size.json").read_text())
    assert size["conversations"]["raw"] == len(code)
    assert size["conversations"]["gzip"] < 3 * 1024
    stale = platform.get(f"/widget/chunks/conversations.{'0' * 20}.js")
    assert stale.status_code == 404
    assert json.loads(stale.content)["error"]["code"] == "not_found"
